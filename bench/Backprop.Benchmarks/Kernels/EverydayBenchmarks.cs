using BenchmarkDotNet.Attributes;
using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Benchmarks.Kernels;

/// <summary>The everyday ops without autograd: sort and top-k along rows, running sums, norms, log1p/expm1, flip, roll.</summary>
[MemoryDiagnoser]
public class EverydayBenchmarks
{
    private Tensor _x = null!, _small = null!;
    private IDisposable? _noGrad;

    [GlobalSetup]
    public void Setup()
    {
        var g = new Generator(0);
        _x = Tensor.Uniform([128, 1024], -1, 1, generator: g);
        _small = Tensor.Uniform([128, 1024], -1e-3, 1e-3, generator: g);
        _noGrad = GradMode.Disable();
    }

    [GlobalCleanup]
    public void Cleanup() => _noGrad?.Dispose();

    [Benchmark]
    public Tensor SortRows() => _x.Sort(-1).Values;

    [Benchmark]
    public Tensor TopK5Rows() => _x.TopK(5).Values;

    [Benchmark]
    public Tensor CumSumRows() => _x.CumSum(-1);

    [Benchmark]
    public Tensor CumSumColumns() => _x.CumSum(0);

    [Benchmark]
    public Tensor NormRows() => _x.Norm(2, 1);

    [Benchmark]
    public Tensor Log1p() => _small.Log1p();

    [Benchmark]
    public Tensor Expm1() => _small.Expm1();

    [Benchmark]
    public Tensor FlipRows() => _x.Flip(-1);

    [Benchmark]
    public Tensor RollRows() => _x.Roll(3, 1);
}
