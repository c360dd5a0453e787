using Backprop.Autograd;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Tests.Ops.Attention;
using Backprop.Tests.Support;

namespace Backprop.Tests.NN.Layers;

/// <summary>MultiheadAttention against torch.nn.MultiheadAttention (fixtures/make_attention_fixtures.py, float64).</summary>
public class MultiheadAttentionTests
{
    [Fact]
    public void CrossAttention_WithKeyPaddingMaskAndWeights_MatchesPyTorch()
    {
        var mha = SineFill.Parameters(new MultiheadAttention(4, 2, dtype: DType.Float64));
        Tensor q = SineFill.Tensor(1, 3, 2, 4).RequireGrad(), k = SineFill.Tensor(2, 4, 2, 4).RequireGrad(), v = SineFill.Tensor(3, 4, 2, 4).RequireGrad();
        Tensor kpm = Tensor.FromArray(new long[] { 0, 0, 1, 0, 0, 1, 1, 0 }, new Shape(2, 4));
        var (y, w) = mha.Forward(q, k, v, keyPaddingMask: kpm);
        T.Close(AttentionFixtures.MhaY, y, 1e-13);
        T.Close(AttentionFixtures.MhaWeights, w!, 1e-13);
        ((y * SineFill.Tensor(7, 3, 2, 4)).Sum() + (w! * SineFill.Tensor(8, 2, 3, 4)).Sum()).Backward();
        T.Close(AttentionFixtures.MhaDQuery, q.Grad!, 1e-13);
        T.Close(AttentionFixtures.MhaDKey, k.Grad!, 1e-13);
        T.Close(AttentionFixtures.MhaDValue, v.Grad!, 1e-13);
        T.Close(AttentionFixtures.MhaD_in_proj_weight, mha.InProjWeight!.Grad!, 1e-13);
        T.Close(AttentionFixtures.MhaD_in_proj_bias, mha.InProjBias!.Grad!, 1e-13);
        T.Close(AttentionFixtures.MhaD_out_proj_weight, mha.OutProj.Weight.Grad!, 1e-13);
        T.Close(AttentionFixtures.MhaD_out_proj_bias, mha.OutProj.Bias!.Grad!, 1e-13);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SelfAttention_CausalWithKeyPadding_MatchesPyTorch(bool viaIsCausal)
    {
        var mha = SineFill.Parameters(new MultiheadAttention(6, 3, batchFirst: true, dtype: DType.Float64));
        Tensor x = SineFill.Tensor(4, 2, 5, 6).RequireGrad();
        Tensor kpm = Tensor.FromArray(new long[] { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1 }, new Shape(2, 5));
        Tensor causal = Tensor.Ones([5, 5], DType.Int64).Triu(1);   // nonzero = not allowed, as PyTorch's True
        var (y, w) = viaIsCausal
            ? mha.Forward(x, x, x, keyPaddingMask: kpm, needWeights: false, isCausal: true)
            : mha.Forward(x, x, x, keyPaddingMask: kpm, needWeights: false, attnMask: causal);
        Assert.Null(w);
        T.Close(AttentionFixtures.SelfY, y, 1e-13);
        (y * SineFill.Tensor(7, 2, 5, 6)).Sum().Backward();
        T.Close(AttentionFixtures.SelfDX, x.Grad!, 1e-13);
        T.Close(AttentionFixtures.SelfD_in_proj_weight, mha.InProjWeight!.Grad!, 1e-13);
        T.Close(AttentionFixtures.SelfD_in_proj_bias, mha.InProjBias!.Grad!, 1e-13);
        T.Close(AttentionFixtures.SelfD_out_proj_weight, mha.OutProj.Weight.Grad!, 1e-13);
        T.Close(AttentionFixtures.SelfD_out_proj_bias, mha.OutProj.Bias!.Grad!, 1e-13);
    }

    [Fact]
    public void KdimVdim_BiasKv_ZeroAttn_WithMasksAndWeights_MatchPyTorch()
    {
        var mha = SineFill.Parameters(new MultiheadAttention(4, 2, dtype: DType.Float64, kdim: 3, vdim: 5, addBiasKv: true, addZeroAttn: true));
        Assert.Equal(["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "bias_k", "bias_v", "out_proj.weight", "out_proj.bias"],
                     mha.NamedParameters().Select(kv => kv.Key));
        Assert.Null(mha.InProjWeight);
        Tensor q = SineFill.Tensor(1, 3, 2, 4).RequireGrad(), k = SineFill.Tensor(2, 4, 2, 3).RequireGrad(), v = SineFill.Tensor(3, 4, 2, 5).RequireGrad();
        Tensor kpm = Tensor.FromArray(new long[] { 0, 0, 1, 0, 0, 1, 1, 0 }, new Shape(2, 4));
        Tensor am = SineFill.Tensor(5, 3, 4).RequireGrad();
        var (y, w) = mha.Forward(q, k, v, keyPaddingMask: kpm, attnMask: am, averageAttnWeights: false);
        Assert.Equal([2, 2, 3, 6], w!.Shape.ToArray()); // 4 keys + bias_k + the zero key
        T.Close(AttentionFixtures.KvY, y, 1e-13);
        T.Close(AttentionFixtures.KvWeights, w, 1e-13);
        ((y * SineFill.Tensor(7, 3, 2, 4)).Sum() + (w * SineFill.Tensor(8, 2, 2, 3, 6)).Sum()).Backward();
        T.Close(AttentionFixtures.KvDQuery, q.Grad!, 1e-13);
        T.Close(AttentionFixtures.KvDKey, k.Grad!, 1e-13);
        T.Close(AttentionFixtures.KvDValue, v.Grad!, 1e-13);
        T.Close(AttentionFixtures.KvDMask, am.Grad!, 1e-13);
        T.Close(AttentionFixtures.KvD_q_proj_weight, mha.QProjWeight!.Grad!, 1e-13);
        T.Close(AttentionFixtures.KvD_k_proj_weight, mha.KProjWeight!.Grad!, 1e-13);
        T.Close(AttentionFixtures.KvD_v_proj_weight, mha.VProjWeight!.Grad!, 1e-13);
        T.Close(AttentionFixtures.KvD_in_proj_bias, mha.InProjBias!.Grad!, 1e-13);
        T.Close(AttentionFixtures.KvD_bias_k, mha.BiasK!.Grad!, 1e-13);
        T.Close(AttentionFixtures.KvD_bias_v, mha.BiasV!.Grad!, 1e-13);
        T.Close(AttentionFixtures.KvD_out_proj_weight, mha.OutProj.Weight.Grad!, 1e-13);
        T.Close(AttentionFixtures.KvD_out_proj_bias, mha.OutProj.Bias!.Grad!, 1e-13);
    }

    [Fact]
    public void Kdim_FusedPath_BatchFirstCausal_MatchesPyTorch()
    {
        var mha = SineFill.Parameters(new MultiheadAttention(6, 3, bias: false, batchFirst: true, dtype: DType.Float64, kdim: 2, vdim: 7));
        Tensor q = SineFill.Tensor(1, 2, 4, 6).RequireGrad(), k = SineFill.Tensor(2, 2, 4, 2).RequireGrad(), v = SineFill.Tensor(3, 2, 4, 7).RequireGrad();
        Tensor causal = Tensor.Ones([4, 4], DType.Int64).Triu(1);
        var (y, w) = mha.Forward(q, k, v, attnMask: causal, needWeights: false);
        Assert.Null(w);
        T.Close(AttentionFixtures.KdimY, y, 1e-13);
        (y * SineFill.Tensor(7, 2, 4, 6)).Sum().Backward();
        T.Close(AttentionFixtures.KdimDQuery, q.Grad!, 1e-13);
        T.Close(AttentionFixtures.KdimDKey, k.Grad!, 1e-13);
        T.Close(AttentionFixtures.KdimDValue, v.Grad!, 1e-13);
        T.Close(AttentionFixtures.KdimD_q_proj_weight, mha.QProjWeight!.Grad!, 1e-13);
        T.Close(AttentionFixtures.KdimD_k_proj_weight, mha.KProjWeight!.Grad!, 1e-13);
        T.Close(AttentionFixtures.KdimD_v_proj_weight, mha.VProjWeight!.Grad!, 1e-13);
        T.Close(AttentionFixtures.KdimD_out_proj_weight, mha.OutProj.Weight.Grad!, 1e-13);
    }

    [Fact]
    public void BiasKvAndZeroAttn_Gradients_MatchFiniteDifferences_AndCausalKeepsAppendedKeysVisible()
    {
        var mha = new MultiheadAttention(4, 2, batchFirst: true, generator: new Generator(21), dtype: DType.Float64, addBiasKv: true, addZeroAttn: true);
        GradCheck.Verify(t => mha.Forward(t[0], t[0], t[0], needWeights: false, isCausal: true).Output, [T.Param(22, 2, 3, 4)]);
        GradCheck.Verify(t => mha.Forward(t[0], t[1], t[1], needWeights: true).Output, [T.Param(23, 2, 2, 4), T.Param(24, 2, 3, 4)]);
        // Causal over the given keys only: the first query still sees bias_k and the zero key.
        Tensor x = T.Param(25, 1, 3, 4);
        var (_, w) = mha.Forward(x, x, x, isCausal: true, averageAttnWeights: false);
        Assert.Equal(0.0, w![0, 0, 0, 1]);
        Assert.True(w[0, 0, 0, 3] > 0 && w[0, 0, 0, 4] > 0);
        var withCache = Assert.Throws<InvalidOperationException>(() =>
        {
            using (GradMode.Disable()) mha.Forward(x, new KeyValueCache(8));
        });
        Assert.Contains("add_bias_kv", withCache.Message);
    }

    [Fact]
    public void Kdim_BadKeyFeatures_AreRefusedNamingThem()
    {
        var mha = new MultiheadAttention(4, 2, kdim: 3, vdim: 5);
        var e = Assert.Throws<ArgumentException>(() => mha.Forward(Tensor.Zeros([2, 1, 4]), Tensor.Zeros([3, 1, 4]), Tensor.Zeros([3, 1, 5])));
        Assert.Contains("kdim", e.Message);
        Assert.Contains("[3, 1, 4]", e.Message);
    }

    [Fact]
    public void FusedSelfAttention_EqualsWeightsPath_AndTheUnbatchedForm()
    {
        var mha = new MultiheadAttention(8, 2, generator: new Generator(1), dtype: DType.Float64);
        Tensor x = Tensor.Uniform([5, 3, 8], -1, 1, DType.Float64, new Generator(2));
        Tensor fused = mha.Forward(x, x, x, needWeights: false, isCausal: true).Output;
        var (slow, weights) = mha.Forward(x, x, x, needWeights: true, averageAttnWeights: false, isCausal: true);
        T.Close(slow.ToDoubleArray(), fused, 1e-13);
        Assert.Equal([3, 2, 5, 5], weights!.Shape.ToArray());
        Assert.Equal(0.0, weights[0, 1, 0, 4]); // causal
        var (one, w1) = mha.Forward(x.Select(1, 1), x.Select(1, 1), x.Select(1, 1));
        T.Close(fused.Select(1, 1).ToDoubleArray(), mha.Forward(x.Select(1, 1), x.Select(1, 1), x.Select(1, 1), needWeights: false, isCausal: true).Output, 1e-13);
        Assert.Equal([5, 8], one.Shape.ToArray());
        Assert.Equal([5, 5], w1!.Shape.ToArray());
    }

    [Fact]
    public void Gradients_MatchFiniteDifferences_PackedAndCrossPaths()
    {
        var mha = new MultiheadAttention(4, 2, batchFirst: true, generator: new Generator(3), dtype: DType.Float64);
        Tensor kpm = Tensor.FromArray(new long[] { 0, 0, 0, 1, 0, 0 }, new Shape(2, 3));
        GradCheck.Verify(t => mha.Forward(t[0], t[0], t[0], keyPaddingMask: kpm, needWeights: false, isCausal: true).Output, [T.Param(4, 2, 3, 4)]);
        GradCheck.Verify(t => mha.Forward(t[0], t[1], t[1], attnMask: t[2], needWeights: false).Output, [T.Param(5, 2, 2, 4), T.Param(6, 2, 3, 4), T.Param(7, 2, 3)]);
        // The packed self-attention path with a float mask and a float key padding mask that both take gradients.
        GradCheck.Verify(t => mha.Forward(t[0], t[0], t[0], keyPaddingMask: t[2], attnMask: t[1], needWeights: false).Output,
                         [T.Param(11, 2, 3, 4), T.Param(12, 3, 3), T.Param(13, 2, 3)]);
        var seqFirst = new MultiheadAttention(4, 2, generator: new Generator(8), dtype: DType.Float64);
        GradCheck.Verify(t => seqFirst.Forward(t[0], t[0], t[0], needWeights: false).Output, [T.Param(9, 3, 2, 4)]);
        GradCheck.VerifySecondOrder(t => seqFirst.Forward(t[0], t[0], t[0], needWeights: false, isCausal: true).Output, [T.Param(10, 3, 1, 4)]);
    }

    [Fact]
    public void FullyMaskedQuery_FusedPathGivesTheBias_WeightsPathGivesNaN_AsPyTorch()
    {
        // PyTorch >= 2.5: need_weights=False goes through SDPA, whose safe softmax gives weights 0 (output = out_proj.bias);
        // need_weights=True uses a plain softmax, which gives NaN for a row with every key masked.
        var mha = new MultiheadAttention(4, 2, batchFirst: true, generator: new Generator(14), dtype: DType.Float64);
        using (GradMode.Disable()) mha.OutProj.Bias!.Data.CopyFrom(T.F64([0.1, 0.2, 0.3, 0.4], 4));
        Tensor x = T.Param(15, 1, 3, 4);
        Tensor kpm = Tensor.FromArray(new long[] { 1, 1, 1 }, new Shape(1, 3));
        Tensor fused = mha.Forward(x, x, x, keyPaddingMask: kpm, needWeights: false).Output;
        T.Close([0.1, 0.2, 0.3, 0.4, 0.1, 0.2, 0.3, 0.4, 0.1, 0.2, 0.3, 0.4], fused, 1e-15);
        var (slow, weights) = mha.Forward(x, x, x, keyPaddingMask: kpm);
        Assert.All(slow.ToDoubleArray(), v => Assert.True(double.IsNaN(v)));
        Assert.All(weights!.ToDoubleArray(), v => Assert.True(double.IsNaN(v)));
    }

    [Fact]
    public void Parameters_HavePyTorchNamesShapesAndInitialisation()
    {
        var mha = new MultiheadAttention(64, 4, generator: new Generator(11));
        Assert.Equal(["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"], mha.NamedParameters().Select(kv => kv.Key));
        Assert.Equal([192, 64], mha.InProjWeight!.Shape.ToArray());
        double bound = Math.Sqrt(6.0 / (64 + 192));
        double[] w = mha.InProjWeight!.Data.ToDoubleArray();
        Assert.All(w, x => Assert.InRange(x, -bound, bound));
        Assert.True(w.Max() > 0.9 * bound);
        Assert.All(mha.InProjBias!.Data.ToDoubleArray(), x => Assert.Equal(0.0, x));
        Assert.All(mha.OutProj.Bias!.Data.ToDoubleArray(), x => Assert.Equal(0.0, x));
        Assert.All(mha.OutProj.Weight.Data.ToDoubleArray(), x => Assert.InRange(x, -1 / 8.0, 1 / 8.0));
        Assert.Equal(["in_proj_weight", "out_proj.weight"], new MultiheadAttention(8, 2, bias: false).NamedParameters().Select(kv => kv.Key));
    }

    [Fact]
    public void DropoutOnlyWhileTraining()
    {
        var mha = new MultiheadAttention(8, 2, dropout: 0.5, batchFirst: true, generator: new Generator(12));
        Tensor x = Tensor.Uniform([2, 6, 8], -1, 1, generator: new Generator(13));
        mha.Eval();
        float[] a = mha.Forward(x).ToArray<float>();
        Assert.Equal(a, mha.Forward(x).ToArray<float>());
        mha.Train();
        Assert.NotEqual(a, mha.Forward(x).ToArray<float>());
    }

    [Fact]
    public void BadShapes_AreRefusedNamingThem()
    {
        var mha = new MultiheadAttention(8, 2, batchFirst: true);
        Tensor x = Tensor.Zeros([2, 5, 8]);
        var e = Assert.Throws<ArgumentException>(() => mha.Forward(x, Tensor.Zeros([2, 4, 7]), Tensor.Zeros([2, 4, 7])));
        Assert.Contains("[2, 4, 7]", e.Message);
        e = Assert.Throws<ArgumentException>(() => mha.Forward(x, x, x, keyPaddingMask: Tensor.Zeros([2, 4], DType.Int64)));
        Assert.Contains("keyPaddingMask [2, 4]", e.Message);
        Assert.Contains("[2, 5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => mha.Forward(x, x, x, attnMask: Tensor.Zeros([5, 4])));
        Assert.Contains("attnMask [5, 4]", e.Message);
        e = Assert.Throws<ArgumentException>(() => mha.Forward(x, Tensor.Zeros([3, 5, 8]), Tensor.Zeros([3, 5, 8])));
        Assert.Contains("[3, 5, 8]", e.Message);
        Assert.Throws<ArgumentException>(() => new MultiheadAttention(10, 3));
    }
}
