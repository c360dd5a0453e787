using BenchmarkDotNet.Attributes;
using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;

namespace Backprop.Benchmarks.Ops;

/// <summary>Conv2d forward (no autograd) at the CNN workload's two layer shapes, batch 64, 5×5, pad 2.</summary>
[MemoryDiagnoser]
public class Conv2dBenchmarks
{
    private Tensor _x1 = null!, _w1 = null!, _b1 = null!, _x2 = null!, _w2 = null!, _b2 = null!;
    private IDisposable? _noGrad;

    [GlobalSetup]
    public void Setup()
    {
        var g = new Generator(0);
        _x1 = Tensor.Uniform([64, 1, 28, 28], 0, 1, generator: g);
        _w1 = Tensor.Uniform([32, 1, 5, 5], -0.2, 0.2, generator: g);
        _b1 = Tensor.Uniform([32], -0.2, 0.2, generator: g);
        _x2 = Tensor.Uniform([64, 32, 14, 14], 0, 1, generator: g);
        _w2 = Tensor.Uniform([64, 32, 5, 5], -0.035, 0.035, generator: g);
        _b2 = Tensor.Uniform([64], -0.035, 0.035, generator: g);
        _noGrad = GradMode.Disable();
    }

    [GlobalCleanup]
    public void Cleanup() => _noGrad?.Dispose();

    /// <summary>[64, 1, 28, 28] * [32, 1, 5, 5] -> [64, 32, 28, 28].</summary>
    [Benchmark]
    public Tensor Layer1() => Functional.Conv2d(_x1, _w1, _b1, padding: 2);

    /// <summary>[64, 32, 14, 14] * [64, 32, 5, 5] -> [64, 64, 14, 14].</summary>
    [Benchmark]
    public Tensor Layer2() => Functional.Conv2d(_x2, _w2, _b2, padding: 2);
}
