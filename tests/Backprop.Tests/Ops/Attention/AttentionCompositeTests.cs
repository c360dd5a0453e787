using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Attention;

/// <summary>
/// The fused op against the same attention written with separate ops (MatMul, Softmax, MatMul) in
/// float64: values and all gradients, for every mask kind, L ≠ S, Ev ≠ E, broadcast batch dims and
/// strided (permuted) inputs.
/// </summary>
public class AttentionCompositeTests
{
    /// <summary>softmax(q·kᵀ·scale + bias)·v with separate ops; bias additive (−∞ where masked).</summary>
    internal static Tensor Reference(Tensor q, Tensor k, Tensor v, Tensor? bias, double scale)
    {
        Tensor s = q.MatMul(k.T()) * scale;
        if (bias is not null) s = s + bias;
        return s.Softmax(-1).MatMul(v);
    }

    internal static Tensor CausalBias(int l, int s) => Tensor.Full(new Shape(l, s), double.NegativeInfinity, DType.Float64).Triu(1);

    private static void AssertSame(Func<Tensor[], Tensor> fused, Func<Tensor[], Tensor> reference, Tensor[] inputs, double tol = 1e-12)
    {
        Tensor[] a = inputs.Select(t => t.Detach().Clone().RequireGrad(t.RequiresGrad)).ToArray();
        Tensor[] b = inputs.Select(t => t.Detach().Clone().RequireGrad(t.RequiresGrad)).ToArray();
        Tensor ya = fused(a), yb = reference(b);
        Assert.Equal(yb.Shape, ya.Shape);
        T.Close(yb.ToDoubleArray(), ya, tol);
        Tensor dy = Tensor.Uniform(ya.Shape, -1, 1, DType.Float64, new Generator(99));
        ya.Backward(dy);
        yb.Backward(dy);
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i].RequiresGrad) T.Close(b[i].Grad!.ToDoubleArray(), a[i].Grad!, tol);
    }

    [Theory]
    [InlineData(5, 5, 4, 4)]
    [InlineData(3, 7, 4, 6)]
    [InlineData(9, 4, 3, 2)]
    [InlineData(17, 19, 8, 5)]
    public void NoMask_MatchesComposite(int l, int s, int e, int ev)
    {
        Tensor q = T.Param(1, 2, 3, l, e), k = T.Param(2, 2, 3, s, e), v = T.Param(3, 2, 3, s, ev);
        double scale = 1 / Math.Sqrt(e);
        AssertSame(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2]), t => Reference(t[0], t[1], t[2], null, scale), [q, k, v]);
    }

    [Theory]
    [InlineData(6, 6)]
    [InlineData(4, 9)]
    [InlineData(9, 4)]
    [InlineData(21, 21)]
    public void Causal_MatchesComposite(int l, int s)
    {
        Tensor q = T.Param(4, 2, 2, l, 5), k = T.Param(5, 2, 2, s, 5), v = T.Param(6, 2, 2, s, 3);
        double scale = 1 / Math.Sqrt(5);
        // L > S leaves the last rows of a top-left causal mask without keys only when S = 0; here every row has key 0.
        AssertSame(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2], isCausal: true),
                   t => Reference(t[0], t[1], t[2], CausalBias(l, s), scale), [q, k, v]);
    }

    [Fact]
    public void BooleanMask_MatchesComposite()
    {
        Tensor q = T.Param(7, 2, 3, 5, 4), k = T.Param(8, 2, 3, 6, 4), v = T.Param(9, 2, 3, 6, 4);
        var bits = new long[2 * 1 * 5 * 6];
        for (int i = 0; i < bits.Length; i++) bits[i] = (i * 7 % 5) == 0 ? 0 : 1;
        Tensor mask = Tensor.FromArray(bits, new Shape(2, 1, 5, 6));
        Tensor bias = Tensor.Zeros(mask.Shape, DType.Float64).MaskedFill(mask.Eq(0), double.NegativeInfinity);
        AssertSame(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2], mask),
                   t => Reference(t[0], t[1], t[2], bias, 0.5), [q, k, v]);
    }

    [Fact]
    public void AdditiveMask_Broadcast_MatchesCompositeWithMaskGradient()
    {
        Tensor q = T.Param(10, 2, 3, 4, 5), k = T.Param(11, 2, 3, 6, 5), v = T.Param(12, 2, 3, 6, 2);
        Tensor mask = T.Param(13, 4, 6);
        AssertSame(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2], t[3], scale: 0.3),
                   t => Reference(t[0], t[1], t[2], t[3], 0.3), [q, k, v, mask]);
        Tensor kpm = T.Param(14, 2, 1, 1, 6);
        AssertSame(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2], t[3]),
                   t => Reference(t[0], t[1], t[2], t[3], 1 / Math.Sqrt(5)), [q, k, v, kpm]);
    }

    [Fact]
    public void BroadcastBatchAndStridedViews_MatchComposite()
    {
        // k and v shared by all heads ([B, 1, S, E]); q a head view of a [B, T, 3, H, D] projection.
        Tensor qkv = T.Param(15, 2, 6, 3, 4, 5);
        Tensor k = T.Param(16, 2, 1, 7, 5), v = T.Param(17, 1, 7, 3);
        AssertSame(t => Functional.ScaledDotProductAttention(t[0].Permute(2, 0, 3, 1, 4).Select(0, 0), t[1], t[2]),
                   t => Reference(t[0].Permute(2, 0, 3, 1, 4).Select(0, 0), t[1], t[2], null, 1 / Math.Sqrt(5)), [qkv, k, v]);
    }

    [Fact]
    public void FullyMaskedRows_GiveZerosAndZeroGradients()
    {
        Tensor q = T.Param(18, 1, 3, 4), k = T.Param(19, 1, 5, 4), v = T.Param(20, 1, 5, 4);
        Tensor mask = Tensor.FromArray(new long[] { 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1 }, new Shape(3, 5));
        Tensor y = Functional.ScaledDotProductAttention(q, k, v, mask);
        Assert.All(y.Select(1, 1).ToDoubleArray(), x => Assert.Equal(0.0, x));
        y.Sum().Backward();
        Assert.All(q.Grad!.Select(1, 1).ToDoubleArray(), x => Assert.Equal(0.0, x));
        Assert.All(q.Grad!.ToDoubleArray(), x => Assert.True(double.IsFinite(x)));
    }
}
