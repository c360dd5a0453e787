using BenchmarkDotNet.Attributes;
using Backprop.NN;
using Backprop.Ops.Loss;
using Backprop.Tensors;

namespace Backprop.Benchmarks.Ops;

/// <summary>
/// Forward and backward of the issue #12 layers at small-CNN sizes, batch 64: a 2× upsampling
/// ConvTranspose2d, GroupNorm, RmsNorm over GPT-sized rows, global average pooling and the Huber loss.
/// </summary>
[MemoryDiagnoser]
public class LayerBenchmarks
{
    private Tensor _x = null!, _wt = null!, _bt = null!, _g = null!, _b = null!, _rows = null!, _rw = null!, _pred = null!, _target = null!;

    [GlobalSetup]
    public void Setup()
    {
        var g = new Generator(0);
        _x = Tensor.Uniform([64, 32, 14, 14], -1, 1, generator: g).RequireGrad();
        _wt = Tensor.Uniform([32, 16, 4, 4], -0.05, 0.05, generator: g).RequireGrad();
        _bt = Tensor.Uniform([16], -0.05, 0.05, generator: g).RequireGrad();
        _g = Tensor.Ones([32]).RequireGrad();
        _b = Tensor.Zeros([32]).RequireGrad();
        _rows = Tensor.Uniform([64 * 64, 256], -1, 1, generator: g).RequireGrad();
        _rw = Tensor.Ones([256]).RequireGrad();
        _pred = Tensor.Uniform([64, 1024], -2, 2, generator: g).RequireGrad();
        _target = Tensor.Uniform([64, 1024], -2, 2, generator: g);
    }

    /// <summary>[64, 32, 14, 14] → [64, 16, 28, 28] (k 4, stride 2, padding 1), forward and backward.</summary>
    [Benchmark]
    public void ConvTranspose2dStep() => Functional.ConvTranspose2d(_x, _wt, _bt, stride: 2, padding: 1).Sum().Backward();

    /// <summary>GroupNorm(8 groups) of [64, 32, 14, 14], forward and backward.</summary>
    [Benchmark]
    public void GroupNormStep() => Functional.GroupNorm(_x, 8, _g, _b).Sum().Backward();

    /// <summary>RmsNorm over rows of 256 ([4096, 256]), forward and backward.</summary>
    [Benchmark]
    public void RmsNormStep() => Functional.RmsNorm(_rows, [256], _rw).Sum().Backward();

    /// <summary>Global average pooling of [64, 32, 14, 14], forward and backward.</summary>
    [Benchmark]
    public void GlobalAvgPoolStep() => Functional.AdaptiveAvgPool2d(_x, 1).Sum().Backward();

    /// <summary>Huber loss (mean) of [64, 1024], forward and backward.</summary>
    [Benchmark]
    public void HuberLossStep() => Functional.HuberLoss(_pred, _target, Reduction.Mean).Backward();
}
