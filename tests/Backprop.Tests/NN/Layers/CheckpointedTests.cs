using Backprop.Autograd;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Tests.Autograd;

namespace Backprop.Tests.NN.Layers;

/// <summary>The module wrapper: same keys, same parameter objects, same values and bit-identical gradients.</summary>
[Collection(CheckpointCollection.Name)]
public class CheckpointedTests
{
    [Fact]
    public void StateDictKeys_ParametersAndOrder_AreTheInnerModules()
    {
        var block = new TransformerBlock(16, 2, 32, dropout: 0.1, generator: new Generator(1));
        var wrapped = new Checkpointed(block);
        Assert.Equal(block.StateDict().Select(kv => kv.Key), wrapped.StateDict().Select(kv => kv.Key));
        Assert.Equal(block.Parameters(), wrapped.Parameters());                 // the same objects, in order
        var bn = new BatchNorm1d(4);
        Assert.Equal(bn.StateDict().Select(kv => kv.Key), new Checkpointed(bn).StateDict().Select(kv => kv.Key)); // own parameters and buffers
        Assert.Same(bn.RunningMean, new Checkpointed(bn).StateDict().Single(kv => kv.Key == "running_mean").Value);

        // Inside a model: keys as if the wrapper were not there, so a checkpoint loads either way.
        var plainModel = new Sequential(new TransformerBlock(16, 2, 32, generator: new Generator(2)), new Linear(16, 4, generator: new Generator(3)));
        var ckptModel = new Sequential(new Checkpointed(new TransformerBlock(16, 2, 32, generator: new Generator(4))), new Linear(16, 4, generator: new Generator(5)));
        Assert.Equal(plainModel.StateDict().Select(kv => kv.Key), ckptModel.StateDict().Select(kv => kv.Key));
        ckptModel.LoadStateDict(plainModel.StateDict());
        Tensor x = Tensor.Uniform([2, 5, 16], -1, 1, generator: new Generator(6));
        Assert.Equal(GradientCheckpointTests.Bits(plainModel.Forward(x)), GradientCheckpointTests.Bits(ckptModel.Forward(x)));
        Assert.Equal("Checkpointed(TransformerBlock)", ckptModel.ToString().Split('\n')[1].Trim()[3..]);
    }

    [Fact]
    public void TransformerBlockWithDropout_GradientsBitIdentical_AndEvalFollowsTheWrapper()
    {
        var gen = new Generator(7);
        var block = new TransformerBlock(32, 4, 64, dropout: 0.3, attentionDropout: 0.1, generator: gen);
        var wrapped = new Checkpointed(block);
        Tensor x = Tensor.Uniform([2, 12, 32], -1, 1, generator: new Generator(8)).RequireGrad();
        ulong[] start = gen.GetState();
        var plain = GradientCheckpointTests.Step(block, x, t => block.Forward(t));
        gen.SetState(start);
        var checkpointed = GradientCheckpointTests.Step(wrapped, x, t => wrapped.Forward(t));
        GradientCheckpointTests.AssertSame(plain, checkpointed);

        wrapped.Eval();
        Tensor evalOut = wrapped.Forward(x);
        Assert.False(block.Training);
        Assert.Equal(GradientCheckpointTests.Bits(block.Forward(x)), GradientCheckpointTests.Bits(evalOut));
        wrapped.Train();
        wrapped.Forward(x);
        Assert.True(block.Training);
    }

    [Fact]
    public void TrainingSteps_MatchThePlainModel_BitForBit()
    {
        static (Sequential Model, AdamW Opt) Make(bool checkpoint)
        {
            var g = new Generator(9);
            Module b1 = new TransformerBlock(16, 2, 32, dropout: 0.2, generator: g), b2 = new TransformerBlock(16, 2, 32, dropout: 0.2, generator: g);
            var model = checkpoint ? new Sequential(new Checkpointed(b1), new Checkpointed(b2)) : new Sequential(b1, b2);
            return (model, new AdamW(model.Parameters(), new AdamOptions(LearningRate: 1e-2)));
        }
        var (plain, plainOpt) = Make(false);
        var (ckpt, ckptOpt) = Make(true);
        Tensor x = Tensor.Uniform([2, 6, 16], -1, 1, generator: new Generator(10));
        for (int step = 0; step < 3; step++)
            foreach (var (model, opt) in new[] { (plain, plainOpt), (ckpt, ckptOpt) })
            {
                opt.ZeroGrad();
                model.Forward(x).Square().Mean().Backward();
                opt.Step();
            }
        foreach (var ((name, a), (_, b)) in plain.StateDict().Zip(ckpt.StateDict()))
            Assert.True(GradientCheckpointTests.Bits(a).SequenceEqual(GradientCheckpointTests.Bits(b)), name);
    }
}
