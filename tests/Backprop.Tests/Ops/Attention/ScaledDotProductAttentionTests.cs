using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;
using Backprop.Threading;

namespace Backprop.Tests.Ops.Attention;

/// <summary>
/// Functional.ScaledDotProductAttention against PyTorch (fixtures/make_attention_fixtures.py, float64),
/// gradient checks for every mask kind and broadcasting, second order through the composite backward,
/// dropout, threads and the errors.
/// </summary>
[Collection(ThreadsCollection.Name)]
public class ScaledDotProductAttentionTests
{
    private static void CheckAgainstPyTorch(int[] qs, int[] ks, int[] vs, Tensor? mask, bool causal, double? scale,
                                            double[] y, double[] dq, double[] dk, double[] dv, double[]? dmask = null)
    {
        Tensor q = SineFill.Tensor(1, qs).RequireGrad(), k = SineFill.Tensor(2, ks).RequireGrad(), v = SineFill.Tensor(3, vs).RequireGrad();
        Tensor result = Functional.ScaledDotProductAttention(q, k, v, mask, isCausal: causal, scale: scale);
        T.Close(y, result, 1e-13);
        (result * SineFill.Tensor(7, result.Shape.ToArray())).Sum().Backward();
        T.Close(dq, q.Grad!, 1e-13);
        T.Close(dk, k.Grad!, 1e-13);
        T.Close(dv, v.Grad!, 1e-13);
        if (dmask is not null) T.Close(dmask, mask!.Grad!, 1e-13);
    }

    [Fact]
    public void NoMask_LNotS_EvNotE_MatchesPyTorch()
        => CheckAgainstPyTorch([2, 2, 3, 4], [2, 2, 5, 4], [2, 2, 5, 6], null, false, null,
            AttentionFixtures.NoMaskY, AttentionFixtures.NoMaskDQ, AttentionFixtures.NoMaskDK, AttentionFixtures.NoMaskDV);

    [Fact]
    public void Causal_MatchesPyTorch()
    {
        CheckAgainstPyTorch([1, 2, 5, 4], [1, 2, 5, 4], [1, 2, 5, 3], null, true, null,
            AttentionFixtures.CausalY, AttentionFixtures.CausalDQ, AttentionFixtures.CausalDK, AttentionFixtures.CausalDV);
        CheckAgainstPyTorch([1, 1, 3, 4], [1, 1, 6, 4], [1, 1, 6, 4], null, true, null,
            AttentionFixtures.CausalWideY, AttentionFixtures.CausalWideDQ, AttentionFixtures.CausalWideDK, AttentionFixtures.CausalWideDV);
    }

    [Fact]
    public void BooleanMask_Broadcast_MatchesPyTorch()
    {
        Tensor mask = Tensor.FromArray(new long[] { 1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1 }, new Shape(3, 5));
        CheckAgainstPyTorch([2, 2, 3, 4], [2, 2, 5, 4], [2, 2, 5, 4], mask, false, null,
            AttentionFixtures.BoolMaskY, AttentionFixtures.BoolMaskDQ, AttentionFixtures.BoolMaskDK, AttentionFixtures.BoolMaskDV);
    }

    [Fact]
    public void AdditiveMask_Broadcast_WithScale_MatchesPyTorchIncludingMaskGradient()
    {
        Tensor mask = SineFill.Tensor(5, 2, 1, 3, 5).RequireGrad();
        CheckAgainstPyTorch([2, 2, 3, 4], [2, 2, 5, 4], [2, 2, 5, 2], mask, false, 0.7,
            AttentionFixtures.AddMaskY, AttentionFixtures.AddMaskDQ, AttentionFixtures.AddMaskDK, AttentionFixtures.AddMaskDV, AttentionFixtures.AddMaskDMask);
    }

    [Fact]
    public void Gradients_MatchFiniteDifferences_ForEveryMaskKind()
    {
        Tensor q = T.Param(1, 2, 2, 4, 3), k = T.Param(2, 2, 2, 5, 3), v = T.Param(3, 2, 2, 5, 2);
        GradCheck.Verify(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2]), [q, k, v]);
        GradCheck.Verify(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2], isCausal: true), [q, k, v]);
        Tensor boolMask = Tensor.FromArray(new long[] { 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1, 0, 1 }, new Shape(4, 5));
        GradCheck.Verify(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2], boolMask), [q, k, v]);
        Tensor additive = T.Param(4, 2, 1, 4, 5);
        GradCheck.Verify(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2], t[3], scale: 0.8), [q, k, v, additive]);
    }

    [Fact]
    public void Gradients_MatchFiniteDifferences_WithBroadcastBatchDims()
    {
        // k and v shared by the heads and the mask by the batch: their gradients are summed over the broadcast dims.
        Tensor q = T.Param(5, 2, 3, 4, 3), k = T.Param(6, 2, 1, 5, 3), v = T.Param(7, 5, 2), mask = T.Param(8, 3, 1, 5);
        GradCheck.Verify(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2], t[3]), [q, k, v, mask]);
        GradCheck.Verify(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2], isCausal: true), [T.Param(9, 4, 3), k, v]);
    }

    [Fact]
    public void Gradients_MatchFiniteDifferences_ThroughStridedHeadViews()
    {
        // Heads of a [B, T, 3, H, D] projection, read in place.
        Tensor qkv = T.Param(10, 2, 4, 3, 2, 3);
        GradCheck.Verify(t =>
        {
            Tensor heads = t[0].Permute(2, 0, 3, 1, 4);                 // [3, B, H, T, D]
            return Functional.ScaledDotProductAttention(heads.Select(0, 0), heads.Select(0, 1), heads.Select(0, 2), isCausal: true)
                .Transpose(1, 2).Reshape(2, 4, 6);
        }, [qkv]);
    }

    [Fact]
    public void SecondOrder_MatchesFiniteDifferences()
    {
        Tensor q = T.Param(11, 1, 2, 3, 2), k = T.Param(12, 1, 2, 4, 2), v = T.Param(13, 1, 2, 4, 2);
        GradCheck.VerifySecondOrder(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2]), [q, k, v]);
        GradCheck.VerifySecondOrder(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2], isCausal: true), [q, k, v]);
        Tensor mask = T.Param(14, 3, 4);
        GradCheck.VerifySecondOrder(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2], t[3]), [q, k, v, mask]);
        GradCheck.VerifySecondOrder(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2], dropoutP: 0.3, generator: new Generator(3)), [q, k, v]);
    }

    [Fact]
    public void Dropout_ScalesSurvivors_IsSeeded_AndGradientChecks()
    {
        Tensor q = T.Param(15, 2, 3, 6, 4), k = T.Param(16, 2, 3, 7, 4), v = T.Param(17, 2, 3, 7, 5);
        Tensor a = Functional.ScaledDotProductAttention(q, k, v, dropoutP: 0.4, generator: new Generator(1));
        Tensor b = Functional.ScaledDotProductAttention(q, k, v, dropoutP: 0.4, generator: new Generator(1));
        Tensor c = Functional.ScaledDotProductAttention(q, k, v, dropoutP: 0.4, generator: new Generator(2));
        Assert.Equal(a.ToDoubleArray(), b.ToDoubleArray());
        Assert.NotEqual(a.ToDoubleArray(), c.ToDoubleArray());
        // With v = identity rows the output is the dropped weights themselves: each is 0 or P/(1 − p).
        Tensor eye = Tensor.Zeros([7, 7], DType.Float64);
        for (int i = 0; i < 7; i++) eye.Narrow(0, i, 1).Narrow(1, i, 1).FillInPlace(1);
        Tensor p = Functional.ScaledDotProductAttention(q.Detach(), k.Detach(), eye);
        Tensor pd = Functional.ScaledDotProductAttention(q.Detach(), k.Detach(), eye, dropoutP: 0.4, generator: new Generator(1));
        double[] pv = p.ToDoubleArray(), dv = pd.ToDoubleArray();
        int dropped = 0;
        for (int i = 0; i < pv.Length; i++)
        {
            if (dv[i] == 0) dropped++;
            else Assert.Equal(pv[i] / 0.6, dv[i], 12);
        }
        Assert.InRange(dropped / (double)pv.Length, 0.3, 0.5);
        GradCheck.Verify(t => Functional.ScaledDotProductAttention(t[0], t[1], t[2], dropoutP: 0.4, generator: new Generator(5)), [q, k, v]);
        // p = 1 drops everything.
        Assert.All(Functional.ScaledDotProductAttention(q, k, v, dropoutP: 1).ToDoubleArray(), x => Assert.Equal(0.0, x));
    }

    [Fact]
    public void Results_AreBitIdentical_On1To3Threads_Float32()
    {
        int saved = Parallelism.ThreadCount;
        try
        {
            var g = new Generator(21);
            Tensor q = Tensor.Uniform([4, 4, 33, 32], -1, 1, generator: g).RequireGrad();
            Tensor k = Tensor.Uniform([4, 4, 33, 32], -1, 1, generator: g).RequireGrad();
            Tensor v = Tensor.Uniform([4, 4, 33, 32], -1, 1, generator: g).RequireGrad();
            float[][] Run(int threads)
            {
                Parallelism.ThreadCount = threads;
                q.Grad = null; k.Grad = null; v.Grad = null;
                Tensor y = Functional.ScaledDotProductAttention(q, k, v, isCausal: true, dropoutP: 0.1, generator: new Generator(3));
                (y * y).Sum().Backward();
                return [y.ToArray<float>(), q.Grad!.ToArray<float>(), k.Grad!.ToArray<float>(), v.Grad!.ToArray<float>()];
            }
            float[][] one = Run(1);
            Assert.Equal(one, Run(2));
            Assert.Equal(one, Run(3));
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    [Fact]
    public void BadShapes_AreRefusedNamingBothShapes()
    {
        Tensor q = Tensor.Zeros([2, 3, 4, 8]), k = Tensor.Zeros([2, 3, 5, 8]), v = Tensor.Zeros([2, 3, 5, 6]);
        var e = Assert.Throws<ArgumentException>(() => Functional.ScaledDotProductAttention(q, Tensor.Zeros([2, 3, 5, 7]), v));
        Assert.Contains("[2, 3, 4, 8]", e.Message);
        Assert.Contains("[2, 3, 5, 7]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Functional.ScaledDotProductAttention(q, k, Tensor.Zeros([2, 3, 6, 6])));
        Assert.Contains("[2, 3, 5, 8]", e.Message);
        Assert.Contains("[2, 3, 6, 6]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Functional.ScaledDotProductAttention(q, Tensor.Zeros([3, 3, 5, 8]), Tensor.Zeros([3, 3, 5, 6])));
        Assert.Contains("[3, 3, 5, 8]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Functional.ScaledDotProductAttention(q, k, v, Tensor.Zeros([4, 6])));
        Assert.Contains("attnMask [4, 6]", e.Message);
        Assert.Contains("[2, 3, 4, 5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Functional.ScaledDotProductAttention(q, k, v, Tensor.Zeros([4, 5]), isCausal: true));
        Assert.Contains("isCausal", e.Message);
        e = Assert.Throws<ArgumentException>(() => Functional.ScaledDotProductAttention(q, k, v, Tensor.Zeros([4, 5], DType.Float64)));
        Assert.Contains("float64", e.Message);
        e = Assert.Throws<ArgumentException>(() => Functional.ScaledDotProductAttention(q, k.To(DType.Float64), v));
        Assert.Contains("ScaledDotProductAttention", e.Message);
        Assert.Throws<ArgumentException>(() => Functional.ScaledDotProductAttention(q, k, v, dropoutP: 1.5));
        Assert.Throws<ArgumentException>(() => Functional.ScaledDotProductAttention(Tensor.Zeros([8]), k, v));
    }

    [Fact]
    public void GradFn_IsNamedAfterTheOp_AndRank4OutputTransposesFree()
    {
        Tensor q0 = T.Param(22, 2, 3, 4, 5), k0 = T.Param(23, 2, 3, 4, 5), v0 = T.Param(24, 2, 3, 4, 5);
        Tensor y = Functional.ScaledDotProductAttention(q0, k0, v0);
        Assert.Equal("ScaledDotProductAttentionBackward", y.GradFn!.Name);
        Assert.True(y.Transpose(1, 2).IsContiguous); // stored as [B, L, H, Ev]
        // Heads split from a [B, T, 3E] projection: their gradients come back in [B, T, H, D] order, so the view ops pass them on without copying.
        Tensor qkv = T.Param(25, 2, 4, 18);
        Tensor[] parts = qkv.Split(6, 2);
        Tensor q = parts[0].Reshape(2, 4, 2, 3).Transpose(1, 2);
        Tensor gq = null!;
        q.RegisterHook(g => { gq = g; return null; });
        Functional.ScaledDotProductAttention(q, parts[1].Reshape(2, 4, 2, 3).Transpose(1, 2), parts[2].Reshape(2, 4, 2, 3).Transpose(1, 2), isCausal: true).Sum().Backward();
        Assert.True(gq.Transpose(1, 2).IsContiguous);
    }
}
