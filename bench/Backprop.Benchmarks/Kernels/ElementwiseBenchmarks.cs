using BenchmarkDotNet.Attributes;
using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Benchmarks.Kernels;

/// <summary>Element-wise forward ops without autograd on the MLP's hidden activation [128, 512] and a 1M-element tensor.</summary>
[MemoryDiagnoser]
public class ElementwiseBenchmarks
{
    [Params(128 * 512, 1 << 20)]
    public int Length { get; set; }

    private Tensor _x = null!, _y = null!;
    private IDisposable? _noGrad;

    [GlobalSetup]
    public void Setup()
    {
        var g = new Generator(0);
        _x = Tensor.Uniform([Length], -2, 2, generator: g);
        _y = Tensor.Uniform([Length], -2, 2, generator: g);
        _noGrad = GradMode.Disable();
    }

    [GlobalCleanup]
    public void Cleanup() => _noGrad?.Dispose();

    [Benchmark]
    public Tensor Add() => _x.Add(_y);

    [Benchmark]
    public Tensor Relu() => _x.Relu();

    [Benchmark]
    public Tensor Gelu() => _x.Gelu();
}
