using Backprop.Autograd;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Tests.Ops.Attention;
using Backprop.Tests.Support;

namespace Backprop.Tests.NN.Layers;

/// <summary>TransformerBlock against the same block built from torch.nn modules (fixtures/make_attention_fixtures.py).</summary>
public class TransformerBlockTests
{
    [Fact]
    public void Block_MatchesPyTorchComposite_ValuesAndEveryGradient()
    {
        var block = SineFill.Parameters(new TransformerBlock(8, 2, 16, dtype: DType.Float64));
        Tensor x = SineFill.Tensor(4, 2, 5, 8).RequireGrad();
        Tensor y = block.Forward(x);
        T.Close(AttentionFixtures.BlockY, y, 1e-12);
        (y * SineFill.Tensor(7, 2, 5, 8)).Sum().Backward();
        T.Close(AttentionFixtures.BlockDX, x.Grad!, 1e-12);
        var expected = new Dictionary<string, double[]>
        {
            ["ln1.weight"] = AttentionFixtures.BlockD_ln1_weight, ["ln1.bias"] = AttentionFixtures.BlockD_ln1_bias,
            ["attn.in_proj_weight"] = AttentionFixtures.BlockD_attn_in_proj_weight, ["attn.in_proj_bias"] = AttentionFixtures.BlockD_attn_in_proj_bias,
            ["attn.out_proj.weight"] = AttentionFixtures.BlockD_attn_out_proj_weight, ["attn.out_proj.bias"] = AttentionFixtures.BlockD_attn_out_proj_bias,
            ["ln2.weight"] = AttentionFixtures.BlockD_ln2_weight, ["ln2.bias"] = AttentionFixtures.BlockD_ln2_bias,
            ["fc1.weight"] = AttentionFixtures.BlockD_fc1_weight, ["fc1.bias"] = AttentionFixtures.BlockD_fc1_bias,
            ["fc2.weight"] = AttentionFixtures.BlockD_fc2_weight, ["fc2.bias"] = AttentionFixtures.BlockD_fc2_bias,
        };
        Assert.Equal(expected.Keys, block.NamedParameters().Select(kv => kv.Key));
        foreach (var (name, p) in block.NamedParameters())
            T.Close(expected[name], p.Grad!, 1e-12);
    }

    [Fact]
    public void Gradients_MatchFiniteDifferences()
    {
        var block = new TransformerBlock(4, 2, 6, generator: new Generator(1), dtype: DType.Float64);
        GradCheck.Verify(t => block.Forward(t[0]), [T.Param(2, 2, 3, 4)]);
    }

    [Fact]
    public void Dropout_OnlyWhileTraining_AndCacheRefusedUnderGrad()
    {
        var block = new TransformerBlock(8, 2, 16, dropout: 0.3, attentionDropout: 0.2, generator: new Generator(3));
        Tensor x = Tensor.Uniform([2, 4, 8], -1, 1, generator: new Generator(4));
        block.Eval();
        float[] a = block.Forward(x).ToArray<float>();
        Assert.Equal(a, block.Forward(x).ToArray<float>());
        block.Train();
        Assert.NotEqual(a, block.Forward(x).ToArray<float>());
        Assert.Throws<InvalidOperationException>(() => block.Forward(x, new KeyValueCache(8)));
        var e = Assert.Throws<ArgumentException>(() => block.Forward(Tensor.Zeros([2, 4, 7])));
        Assert.Contains("[2, 4, 7]", e.Message);
    }
}
