using BenchmarkDotNet.Attributes;
using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Benchmarks.Kernels;

/// <summary>Bool-producing and bool-consuming ops without autograd: comparisons, conversion, logical and, any, where and a promoted add.</summary>
[MemoryDiagnoser]
public class BoolBenchmarks
{
    [Params(128 * 512, 1 << 20)]
    public int Length { get; set; }

    private Tensor _x = null!, _y = null!, _mask = null!, _other = null!, _longs = null!;
    private IDisposable? _noGrad;

    [GlobalSetup]
    public void Setup()
    {
        var g = new Generator(0);
        _x = Tensor.Uniform([Length], -2, 2, generator: g);
        _y = Tensor.Uniform([Length], -2, 2, generator: g);
        _mask = _x.Gt(0);
        _other = _y.Gt(0);
        _longs = Tensor.RandInt([Length], -5, 5, g);
        _noGrad = GradMode.Disable();
    }

    [GlobalCleanup]
    public void Cleanup() => _noGrad?.Dispose();

    [Benchmark]
    public Tensor GtTensor() => _x.Gt(_y);

    [Benchmark]
    public Tensor GtScalar() => _x.Gt(0.5);

    [Benchmark]
    public Tensor ToBool() => _x.To(DType.Bool);

    [Benchmark]
    public Tensor LogicalAnd() => _mask & _other;

    [Benchmark]
    public Tensor Any() => _mask.Any();

    [Benchmark]
    public Tensor Where() => Tensor.Where(_mask, _x, _y);

    [Benchmark]
    public Tensor PromotedAdd() => _longs + _x;
}
