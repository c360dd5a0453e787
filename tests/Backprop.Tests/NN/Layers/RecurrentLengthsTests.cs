using Backprop.Autograd;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.NN.Layers;

/// <summary>
/// Variable-length batches: each sequence of a padded batch gives what it gives alone (outputs, final
/// states, in both directions and through two layers), its padding outputs zero and receives no gradient,
/// lengths given as an array or an Int64 tensor agree, and lengths that do not fit are refused by shape.
/// </summary>
public class RecurrentLengthsTests
{
    private const int I = 5, H = 6, S = 7;
    private static readonly long[] Lengths = [3, 7, 1, 5];

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void EachSequence_GivesWhatItGivesAlone(bool fused, bool batchFirst)
    {
        var lstm = new Lstm(I, H, numLayers: 2, batchFirst: batchFirst, bidirectional: true, generator: new Generator(1), dtype: DType.Float64) { Fused = fused };
        int batch = Lengths.Length;
        Tensor x = Tensor.Uniform(batchFirst ? [batch, S, I] : [S, batch, I], -1, 1, DType.Float64, new Generator(2));
        Tensor h0 = Tensor.Uniform([4, batch, H], -1, 1, DType.Float64, new Generator(3)), c0 = Tensor.Uniform([4, batch, H], -1, 1, DType.Float64, new Generator(4));
        var (output, (h, c)) = lstm.Forward(x, (h0, c0), Lengths);
        for (int b = 0; b < batch; b++)
        {
            int n = (int)Lengths[b];
            Tensor xb = (batchFirst ? x.Select(0, b) : x.Select(1, b)).Narrow(0, 0, n).Unsqueeze(batchFirst ? 0 : 1);   // one sequence, its steps only
            var (ob, (hb, cb)) = lstm.Forward(xb, (h0.Narrow(1, b, 1), c0.Narrow(1, b, 1)));
            Tensor mine = batchFirst ? output.Select(0, b) : output.Select(1, b);                                          // [seq, 2H]
            T.Close((batchFirst ? ob.Select(0, 0) : ob.Select(1, 0)).ToDoubleArray(), mine.Narrow(0, 0, n).ToDoubleArray(), 1e-13);
            if (n < S) Assert.All(mine.Narrow(0, n, S - n).ToDoubleArray(), v => Assert.Equal(0.0, v));
            T.Close(hb.Select(1, 0).ToDoubleArray(), h.Select(1, b).ToDoubleArray(), 1e-13);
            T.Close(cb.Select(1, 0).ToDoubleArray(), c.Select(1, b).ToDoubleArray(), 1e-13);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Padding_GetsNoGradient(bool fused)
    {
        var gru = new Gru(I, H, bidirectional: true, batchFirst: true, generator: new Generator(5), dtype: DType.Float64) { Fused = fused };
        Tensor x = Tensor.Uniform([4, S, I], -1, 1, DType.Float64, new Generator(6)).RequireGrad();
        var (output, h) = gru.Forward(x, null, Lengths);
        (output.Sum() + h.Sum()).Backward();
        for (int b = 0; b < 4; b++)
        {
            int n = (int)Lengths[b];
            Assert.Contains(x.Grad!.Select(0, b).Narrow(0, 0, n).ToDoubleArray(), v => v != 0);
            if (n < S) Assert.All(x.Grad!.Select(0, b).Narrow(0, n, S - n).ToDoubleArray(), v => Assert.Equal(0.0, v));
        }
    }

    [Fact]
    public void GradCheck_TwoBidirectionalLayers_WithLengths()
    {
        var lstm = new Lstm(2, 3, numLayers: 2, batchFirst: true, bidirectional: true, generator: new Generator(11), dtype: DType.Float64);
        long[] lengths = [3, 1, 2];
        GradCheck.Verify(t => lstm.Forward(t[0], (t[1], t[2]), lengths).Output, [T.Param(12, 3, 3, 2), T.Param(13, 4, 3, 3), T.Param(14, 4, 3, 3)]);
        GradCheck.Verify(t => lstm.Forward(t[0], (t[1], t[2]), lengths).State.C, [T.Param(15, 3, 3, 2), T.Param(16, 4, 3, 3), T.Param(17, 4, 3, 3)]);
        var gru = new Gru(2, 3, numLayers: 2, bidirectional: true, generator: new Generator(18), dtype: DType.Float64);
        GradCheck.Verify(t => gru.Forward(t[0], t[1], lengths).H, [T.Param(19, 3, 3, 2), T.Param(20, 4, 3, 3)]);
    }

    [Fact]
    public void LengthsTensor_EqualsLengthsArray_AndFullLengthsEqualNone()
    {
        var rnn = new Rnn(I, H, numLayers: 2, generator: new Generator(7));
        Tensor x = Tensor.Uniform([S, 4, I], -1, 1, generator: new Generator(8));
        var (a, ha) = rnn.Forward(x, null, Lengths);
        var (b, hb) = rnn.Forward(x, null, Tensor.FromArray(Lengths));
        Assert.Equal(a.ToArray<float>(), b.ToArray<float>());
        Assert.Equal(ha.ToArray<float>(), hb.ToArray<float>());
        var (full, hFull) = rnn.Forward(x, null, [S, S, S, S]);
        var (none, hNone) = rnn.Forward(x, null);
        Assert.Equal(none.ToArray<float>(), full.ToArray<float>());
        Assert.Equal(hNone.ToArray<float>(), hFull.ToArray<float>());
    }

    [Fact]
    public void Unbatched_TakesOneLength()
    {
        var gru = new Gru(I, H, generator: new Generator(9), dtype: DType.Float64);
        Tensor x = Tensor.Uniform([S, I], -1, 1, DType.Float64, new Generator(10));
        var (output, h) = gru.Forward(x, null, [4L]);
        var (alone, hAlone) = gru.Forward(x.Narrow(0, 0, 4), null);
        T.Close(alone.ToDoubleArray(), output.Narrow(0, 0, 4).ToDoubleArray(), 1e-14);
        T.Close(hAlone.ToDoubleArray(), h.ToDoubleArray(), 1e-14);
    }

    [Fact]
    public void LengthsThatDoNotFit_AreRefusedWithTheShapes()
    {
        var lstm = new Lstm(I, H, batchFirst: true);
        Tensor x = Tensor.Zeros([4, S, I]);
        var e = Assert.Throws<ArgumentException>(() => lstm.Forward(x, null, [3L, 2L]));
        Assert.Contains("Lstm", e.Message);
        Assert.Contains("[2]", e.Message);
        Assert.Contains($"[4, {S}, {I}]", e.Message);
        Assert.Contains("[4]", e.Message);
        e = Assert.Throws<ArgumentException>(() => lstm.Forward(x, null, [3L, 0L, 2L, 1L]));
        Assert.Contains($"length 0 of sequence 1 is outside 1..{S}", e.Message);
        e = Assert.Throws<ArgumentException>(() => lstm.Forward(x, null, [3L, 2L, S + 1, 1L]));
        Assert.Contains($"length {S + 1}", e.Message);
        Assert.Contains($"[4, {S}, {I}]", e.Message);
        e = Assert.Throws<ArgumentException>(() => lstm.Forward(x, null, Tensor.Zeros([4])));
        Assert.Contains("Int64", e.Message);
        e = Assert.Throws<ArgumentException>(() => lstm.Forward(x, null, Tensor.FromArray(new long[] { 1, 2, 3, 4, 1, 2, 3, 4 }, new Shape(4, 2))));
        Assert.Contains("[4, 2]", e.Message);
    }

    [Fact]
    public void StatesAndSequencesThatDoNotFit_AreRefusedWithBothShapes()
    {
        var lstm = new Lstm(I, H, numLayers: 2, bidirectional: true);
        Tensor x = Tensor.Zeros([S, 3, I]);
        var e = Assert.Throws<ArgumentException>(() => lstm.Forward(x, (Tensor.Zeros([4, 3, H]), Tensor.Zeros([4, 2, H]))));
        Assert.Contains("c0", e.Message);
        Assert.Contains($"[4, 3, {H}]", e.Message);
        Assert.Contains($"[4, 2, {H}]", e.Message);
        Assert.Contains($"[{S}, 3, {I}]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Gru(I, H).Forward(x, Tensor.Zeros([1, 3, H + 1])));
        Assert.Contains($"[1, 3, {H + 1}]", e.Message);
        Assert.Contains($"[{S}, 3, {I}]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Gru(I, H).Forward(Tensor.Zeros([0, 3, I])));
        Assert.Contains($"[0, 3, {I}]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Rnn(I, H).Forward(Tensor.Zeros([S, 3, I]), Tensor.Zeros([1, 3, H], DType.Float64)));
        Assert.Contains("h0", e.Message);
        Assert.Contains("float64", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Rnn(I, H).Forward(Tensor.Zeros([2, S, 3, I])));
        Assert.Contains($"[2, {S}, 3, {I}]", e.Message);
    }
}
