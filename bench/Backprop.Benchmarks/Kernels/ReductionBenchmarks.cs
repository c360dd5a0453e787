using BenchmarkDotNet.Attributes;
using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Benchmarks.Kernels;

/// <summary>Reductions without autograd: a full sum, a sum over the batch (bias gradient) and a row softmax.</summary>
[MemoryDiagnoser]
public class ReductionBenchmarks
{
    private Tensor _x = null!, _logits = null!;
    private IDisposable? _noGrad;

    [GlobalSetup]
    public void Setup()
    {
        var g = new Generator(0);
        _x = Tensor.Uniform([128, 512], -1, 1, generator: g);
        _logits = Tensor.Uniform([128, 1000], -4, 4, generator: g);
        _noGrad = GradMode.Disable();
    }

    [GlobalCleanup]
    public void Cleanup() => _noGrad?.Dispose();

    [Benchmark]
    public Tensor SumAll() => _x.Sum();

    [Benchmark]
    public Tensor SumBatch() => _x.Sum(0);

    [Benchmark]
    public Tensor Softmax() => _logits.Softmax(-1);
}
