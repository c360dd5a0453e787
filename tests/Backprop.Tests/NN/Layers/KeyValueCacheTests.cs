using Backprop.Autograd;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.NN.Layers;

/// <summary>Incremental decoding with a <see cref="KeyValueCache"/> gives the outputs of a full causal forward.</summary>
public class KeyValueCacheTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TokenByToken_MatchesFullCausalForward(bool float64)
    {
        DType dtype = float64 ? DType.Float64 : DType.Float32;
        const int n = 2, t = 9, d = 16;
        var blocks = new[] { new TransformerBlock(d, 4, 32, generator: new Generator(1), dtype: dtype),
                             new TransformerBlock(d, 4, 32, generator: new Generator(2), dtype: dtype) };
        Tensor x = Tensor.Uniform([n, t, d], -1, 1, dtype, new Generator(3));
        using var _ = GradMode.Disable();
        Tensor full = x;
        foreach (TransformerBlock b in blocks) full = b.Forward(full);

        KeyValueCache[] caches = KeyValueCache.ForLayers(2, t);
        // A prompt of 3 positions in one step, then one position per step.
        var pieces = new List<Tensor>();
        int at = 0;
        foreach (int len in new[] { 3, 1, 1, 1, 1, 1, 1 })
        {
            Tensor h = x.Narrow(1, at, len);
            for (int i = 0; i < blocks.Length; i++) h = blocks[i].Forward(h, caches[i]);
            pieces.Add(h);
            at += len;
        }
        Assert.Equal(t, caches[0].Length);
        T.Close(full.ToDoubleArray(), Tensor.Cat(pieces, 1).ToDoubleArray(), float64 ? 1e-12 : 1e-5);
    }

    [Fact]
    public void MultiheadAttention_SequenceFirst_TokenByToken_MatchesFull()
    {
        const int n = 3, t = 5, e = 8;
        var mha = new MultiheadAttention(e, 2, generator: new Generator(4), dtype: DType.Float64);
        Tensor x = Tensor.Uniform([t, n, e], -1, 1, DType.Float64, new Generator(5));
        using var _ = GradMode.Disable();
        Tensor full = mha.Forward(x, null);
        var cache = new KeyValueCache(t);
        var steps = new List<Tensor>();
        for (int i = 0; i < t; i++) steps.Add(mha.Forward(x.Narrow(0, i, 1), cache));
        T.Close(full.ToDoubleArray(), Tensor.Cat(steps, 0).ToDoubleArray(), 1e-12);
    }

    [Fact]
    public void Overflow_WithGradients_AndChangedShapes_AreRefused()
    {
        var mha = new MultiheadAttention(8, 2, batchFirst: true, generator: new Generator(6));
        var cache = new KeyValueCache(2);
        Tensor x = Tensor.Uniform([1, 1, 8], -1, 1, generator: new Generator(7));
        Assert.Throws<InvalidOperationException>(() => mha.Forward(x, cache));
        using var _ = GradMode.Disable();
        mha.Forward(x, cache);
        var e = Assert.Throws<InvalidOperationException>(() => mha.Forward(Tensor.Zeros([2, 1, 8]), cache));
        Assert.Contains("[2, 2, 1, 4]", e.Message);
        mha.Forward(x, cache);
        e = Assert.Throws<InvalidOperationException>(() => mha.Forward(x, cache));
        Assert.Contains("capacity of 2", e.Message);
        cache.Reset();
        Assert.Equal(0, cache.Length);
        mha.Forward(Tensor.Zeros([2, 1, 8]), cache); // a reset cache takes a new batch size
        Assert.Equal(1, cache.Length);
    }
}
