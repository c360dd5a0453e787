using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Threading;
using Backprop.Tests.Support;

namespace Backprop.Tests.NN.Layers;

/// <summary>
/// Sequential.Fuse(): the fused modules take the runs' slots, parameter names, order and objects stay,
/// old checkpoints load, and training is bit-identical to the unfused model.
/// </summary>
[Collection(ThreadsCollection.Name)]
public class SequentialFuseTests
{
    // The layouts of the default models (784-512-256-10 MLP, LeNet-style CNN), built here so these tests do not depend on where the presets live.
    private static Sequential Mlp(Generator? g = null) => new(
        new Linear(784, 512, generator: g), new Relu(), new Linear(512, 256, generator: g), new Relu(), new Linear(256, 10, generator: g));

    private static Sequential Cnn(Generator? g = null) => new(
        new Conv2d(1, 32, 5, padding: 2, generator: g), new Relu(), new MaxPool2d(2),
        new Conv2d(32, 64, 5, padding: 2, generator: g), new Relu(), new MaxPool2d(2),
        new Flatten(), new Linear(64 * 7 * 7, 128, generator: g), new Relu(), new Linear(128, 10, generator: g));

    [Fact]
    public void Fuse_KeepsParameterNamesOrderAndObjects_AndTheStateDict()
    {
        foreach (Func<Sequential> make in new Func<Sequential>[] { () => Mlp(new Generator(0)), () => Cnn(new Generator(0)) })
        {
            Sequential model = make();
            var before = model.NamedParameters().ToList();
            string[] stateKeys = [.. model.StateDict().Select(kv => kv.Key)];
            int count = model.Count;
            Assert.Same(model, model.Fuse());
            Assert.Equal(count, model.Count);
            var after = model.NamedParameters().ToList();
            Assert.Equal(before.Select(kv => kv.Key), after.Select(kv => kv.Key));
            for (int i = 0; i < before.Count; i++) Assert.Same(before[i].Value, after[i].Value);
            Assert.Equal(stateKeys, model.StateDict().Select(kv => kv.Key));
            // A checkpoint of the unfused model loads strictly into the fused one and back.
            Sequential other = make();
            model.LoadStateDict(other.StateDict());
            other.LoadStateDict(model.StateDict());
        }
        Assert.Equal(["0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight", "9.bias"],
            Cnn().Fuse().NamedParameters().Select(kv => kv.Key));
    }

    [Fact]
    public void Fuse_ReplacesTheRuns_AndLeavesIdentitiesInTheirSlots()
    {
        Sequential cnn = Cnn(new Generator(0)).Fuse();
        Type[] expected = [typeof(Conv2dReluMaxPool2d), typeof(Identity), typeof(Identity), typeof(Conv2dReluMaxPool2d), typeof(Identity), typeof(Identity),
                           typeof(Flatten), typeof(LinearRelu), typeof(Identity), typeof(Linear)];
        Assert.Equal(expected, Enumerable.Range(0, cnn.Count).Select(i => cnn[i].GetType()));
        Assert.Equal(cnn.ToString(), cnn.Fuse().ToString()); // a second pass finds nothing to fuse
        Assert.Contains("Conv2dReluMaxPool2d(1 → 32, kernel 5, stride 1, padding 2, pool 2)", cnn.ToString());
        Assert.Contains("LinearRelu(3136 → 128)", cnn.ToString());
    }

    [Fact]
    public void Fuse_ReachesNestedSequentials_AndLeavesOtherLayersAlone()
    {
        var inner = new Sequential(new Linear(4, 4, generator: new Generator(1)), new Relu());
        var model = new Sequential(new Linear(3, 4, generator: new Generator(2)), new Tanh(), inner, new Relu(), new Linear(4, 2, bias: false), new Relu()).Fuse();
        Assert.IsType<Linear>(model[0]);
        Assert.IsType<Tanh>(model[1]);
        Assert.IsType<LinearRelu>(inner[0]);
        Assert.IsType<Identity>(inner[1]);
        Assert.IsType<Relu>(model[3]); // follows a Sequential, not a Linear
        Assert.Null(Assert.IsType<LinearRelu>(model[4]).Bias);
        Assert.Equal(["0.weight", "0.bias", "2.0.weight", "2.0.bias", "4.weight"], model.NamedParameters().Select(kv => kv.Key));
    }

    /// <summary>Trains a small CNN and MLP head a few steps with and without Fuse(): losses and weights agree bit for bit.</summary>
    [Fact]
    public void FusedTraining_IsBitIdenticalToUnfused()
    {
        Sequential Make() => new(
            new Conv2d(1, 4, 3, padding: 1, generator: new Generator(1)), new Relu(), new MaxPool2d(2),
            new Conv2d(4, 6, 3, padding: 1, generator: new Generator(2)), new Relu(), new MaxPool2d(2),
            new Flatten(), new Linear(6 * 3 * 3, 16, generator: new Generator(3)), new Relu(), new Linear(16, 5, generator: new Generator(4)));
        Tensor x = Tensor.Randn([8, 1, 12, 12], DType.Float32, new Generator(5));
        Tensor y = Tensor.FromArray(new long[] { 0, 1, 2, 3, 4, 0, 1, 2 });
        (double[] Losses, double[] Weights) Train(Sequential model)
        {
            var opt = new Adam(model.Parameters(), new AdamOptions(LearningRate: 0.01));
            var losses = new double[4];
            for (int step = 0; step < losses.Length; step++)
            {
                opt.ZeroGrad();
                Tensor loss = Functional.CrossEntropy(model.Forward(x), y);
                loss.Backward();
                opt.Step();
                losses[step] = loss.Item();
            }
            return (losses, [.. model.Parameters().SelectMany(p => p.Data.ToDoubleArray())]);
        }
        int saved = Parallelism.ThreadCount;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                Parallelism.ThreadCount = threads;
                var plain = Train(Make());
                Sequential fusedModel = Make();
                var fused = Train(fusedModel.Fuse()); // fused after the optimizer would have been built: same parameter objects
                Assert.Equal(plain.Losses, fused.Losses);
                Assert.Equal(plain.Weights, fused.Weights);
            }
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    [Fact]
    public void FusedModules_BuiltDirectly_InitialiseLikeTheirLayers()
    {
        var linear = new Linear(5, 3, generator: new Generator(7));
        var linearRelu = new LinearRelu(5, 3, generator: new Generator(7));
        Assert.Equal(linear.Weight.Data.ToDoubleArray(), linearRelu.Weight.Data.ToDoubleArray());
        Assert.Equal(linear.Bias!.Data.ToDoubleArray(), linearRelu.Bias!.Data.ToDoubleArray());
        var conv = new Conv2d(2, 3, 3, padding: 1, generator: new Generator(8));
        var fused = new Conv2dReluMaxPool2d(2, 3, 3, padding: 1, generator: new Generator(8));
        Assert.Equal(conv.Weight.Data.ToDoubleArray(), fused.Weight.Data.ToDoubleArray());
        Assert.Equal(conv.Bias!.Data.ToDoubleArray(), fused.Bias!.Data.ToDoubleArray());
        Tensor x = Tensor.Randn([2, 2, 6, 6], DType.Float32, new Generator(9));
        Assert.Equal(Functional.MaxPool2d(conv.Forward(x).Relu(), 2).ToDoubleArray(), fused.Forward(x).ToDoubleArray());
        Tensor v = Tensor.Randn([4, 5], DType.Float32, new Generator(10));
        Assert.Equal(linear.Forward(v).Relu().ToDoubleArray(), linearRelu.Forward(v).ToDoubleArray());
    }
}
