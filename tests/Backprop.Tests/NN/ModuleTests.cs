using Backprop.Autograd;
using Backprop.NN.Layers;
using Backprop.Ops.Elementwise;
using Backprop.Tensors;
using Backprop.Cli.Recipes;
using Backprop.Tests.Support;

namespace Backprop.Tests.NN;

public class ModuleTests
{
    [Fact]
    public void Mlp_HasPyTorchParameterNamesShapesAndCount()
    {
        Sequential mlp = Models.Mlp(new Generator(0));
        Assert.Equal(535_818, mlp.ParameterCount());
        var names = mlp.NamedParameters().Select(kv => $"{kv.Key}:{kv.Value.Shape}").ToArray();
        Assert.Equal(["0.weight:[512, 784]", "0.bias:[512]", "2.weight:[256, 512]", "2.bias:[256]", "4.weight:[10, 256]", "4.bias:[10]"], names);
    }

    [Fact]
    public void Cnn_MatchesTheWorkloadDefinition()
    {
        Sequential cnn = Models.Cnn(new Generator(0));
        Tensor y;
        using (GradMode.Disable()) y = cnn.Forward(Tensor.Zeros([2, 1, 28, 28]));
        Assert.Equal(new Shape(2, 10), y.Shape);
        Assert.Equal(32 * 25 + 32 + 64 * 32 * 25 + 64 + 3136 * 128 + 128 + 128 * 10 + 10, cnn.ParameterCount());
    }

    [Fact]
    public void Linear_DefaultInit_IsUniformWithinOneOverSqrtFanIn()
    {
        var layer = new Linear(400, 300, generator: new Generator(1));
        double[] w = layer.Weight.Data.ToDoubleArray();
        double bound = 1 / Math.Sqrt(400);
        Assert.True(w.All(v => Math.Abs(v) <= bound));
        Assert.True(w.Max() > 0.95 * bound && w.Min() < -0.95 * bound);
        Assert.InRange(w.Select(v => v * v).Average(), bound * bound / 3 * 0.95, bound * bound / 3 * 1.05);
        Assert.Equal(new Shape(300), layer.Bias!.Shape);
    }

    [Fact]
    public void Linear_ForwardIsXWTransposePlusB()
    {
        var layer = new Linear(2, 3, dtype: DType.Float64);
        using (GradMode.Disable())
        {
            layer.Weight.Data.CopyFrom(T.F64([1.0, 2, 3, 4, 5, 6], 3, 2));
            layer.Bias!.Data.CopyFrom(T.F64([10.0, 20, 30]));
        }
        T.Close([1 + 4 + 10, 3 + 8 + 20, 5 + 12 + 30.0], layer.Forward(T.F64([1.0, 2], 1, 2)));
    }

    [Fact]
    public void NoBias_RegistersNoBiasParameter()
    {
        var layer = new Linear(3, 2, bias: false);
        Assert.Null(layer.Bias);
        Assert.Single(layer.Parameters());
    }

    [Fact]
    public void StateDict_RoundTrip_CopiesValuesIntoExistingParameters()
    {
        Sequential a = Models.Mlp(new Generator(1)), b = Models.Mlp(new Generator(2));
        Tensor before = b.Parameters().First().Data;
        b.LoadStateDict(a.StateDict());
        Assert.Same(before, b.Parameters().First().Data);
        foreach (var ((_, pa), (_, pb)) in a.StateDict().Zip(b.StateDict()))
            Assert.Equal(pa.ToDoubleArray(), pb.ToDoubleArray());
    }

    [Fact]
    public void LoadStateDict_OtherArchitecture_ListsEveryMismatch()
    {
        Sequential mlp = Models.Mlp();
        var e = Assert.Throws<ArgumentException>(() => mlp.LoadStateDict(Models.Cnn().StateDict()));
        Assert.Contains("'0.weight': checkpoint has shape [32, 1, 5, 5] float32, model has shape [512, 784] float32", e.Message);
        Assert.Contains("missing '2.bias'", e.Message);
        Assert.Contains("unexpected '7.weight'", e.Message);
        // nothing was copied
        Assert.Equal(new Shape(512, 784), mlp.Parameters().First().Shape);
    }

    [Fact]
    public void LoadStateDict_NonStrict_SkipsMissingButStillChecksShapes()
    {
        Sequential mlp = Models.Mlp();
        var partial = mlp.StateDict().Take(2).ToList();
        mlp.LoadStateDict(partial, strict: false);
        var wrong = new List<KeyValuePair<string, Tensor>> { new("0.bias", Tensor.Zeros([3])) };
        Assert.Throws<ArgumentException>(() => mlp.LoadStateDict(wrong, strict: false));
    }

    /// <summary>A small model with a buffer: Linear(3, 2), BatchNorm1d(2), Linear(2, 1).</summary>
    private static Sequential Small(ulong seed) => new(new Linear(3, 2, generator: new Generator(seed)), new BatchNorm1d(2), new Linear(2, 1, generator: new Generator(seed + 1)));

    public static TheoryData<string> CorruptModelCases => ["missing", "unexpected", "repeated", "wrong shape", "wrong dtype", "null tensor"];

    [Theory]
    [MemberData(nameof(CorruptModelCases))]
    public void LoadStateDict_CorruptedEntry_IsRefusedByName_AndCopiesNothing(string corruption)
    {
        List<KeyValuePair<string, Tensor>> state = [.. Small(1).StateDict().Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value.Clone()))];
        string name = "2.weight";
        int i = state.FindIndex(kv => kv.Key == name);
        switch (corruption)
        {
            case "missing": state.RemoveAt(i); break;
            case "unexpected": name = "3.weight"; state.Add(new(name, Tensor.Zeros([1, 2]))); break;
            case "repeated": state.Add(state[i]); break;
            case "wrong shape": state[i] = new(name, Tensor.Zeros([2, 1])); break;
            case "wrong dtype": state[i] = new(name, Tensor.Zeros([1, 2], DType.Float64)); break;
            case "null tensor": state[i] = new(name, null!); break;
        }
        Sequential target = Small(7);
        string before = StateSnapshot.Of(target.StateDict());

        var e = Assert.Throws<ArgumentException>(() => target.LoadStateDict(state));
        Assert.Contains($"'{name}'", e.Message);
        Assert.Equal(before, StateSnapshot.Of(target.StateDict()));
        Assert.Throws<ArgumentException>(() => target.CheckStateDict(state));
    }

    [Fact]
    public void CheckStateDict_AcceptsAFittingState_WithoutCopyingIt()
    {
        Sequential target = Small(7);
        string before = StateSnapshot.Of(target.StateDict());
        target.CheckStateDict(Small(1).StateDict());
        Assert.Equal(before, StateSnapshot.Of(target.StateDict()));
        target.LoadStateDict(Small(1).StateDict());
        Assert.Equal(StateSnapshot.Of(Small(1).StateDict()), StateSnapshot.Of(target.StateDict()));
    }

    [Fact]
    public void TrainEval_PropagatesToChildren()
    {
        var model = new Sequential(new Linear(2, 2), new Dropout(0.5), new Sequential(new BatchNorm1d(2)));
        model.Eval();
        Assert.All(model.Modules(), m => Assert.False(m.Training));
        model.Train();
        Assert.All(model.Modules(), m => Assert.True(m.Training));
    }

    [Fact]
    public void ZeroGrad_ClearsOrZeroes()
    {
        var layer = new Linear(2, 1);
        layer.Forward(Tensor.Ones([1, 2])).Sum().Backward();
        Assert.NotNull(layer.Weight.Grad);
        layer.ZeroGrad(setToNone: false);
        Assert.Equal([0.0, 0.0], layer.Weight.Grad!.ToDoubleArray());
        layer.ZeroGrad();
        Assert.Null(layer.Weight.Grad);
    }

    [Fact]
    public void BatchNorm1d_TrainingUpdatesRunningStats_EvalUsesThem()
    {
        var bn = new BatchNorm1d(2, dtype: DType.Float64);
        Tensor x = T.F64([1.0, 10, 3, 30], 2, 2); // channel 0: mean 2, var (unbiased) 2; channel 1: mean 20, var 200
        Tensor y = bn.Forward(x);
        T.Close([-1.0, -1, 1, 1], y, 1e-4);
        T.Close([0.2, 2.0], bn.RunningMean!, 1e-12);
        T.Close([0.9 + 0.2, 0.9 + 20], bn.RunningVar!, 1e-12);
        Assert.Equal(1.0, bn.NumBatchesTracked!.Item());
        bn.Eval();
        Tensor z = bn.Forward(T.F64([0.2, 2.0], 1, 2));
        T.Close([0.0, 0.0], z, 1e-12);
        Assert.Equal(1.0, bn.NumBatchesTracked!.Item());
        Assert.Contains("running_mean", bn.StateDict().Select(kv => kv.Key));
    }

    [Fact]
    public void BatchNorm2d_RejectsWrongChannels()
    {
        var e = Assert.Throws<ArgumentException>(() => new BatchNorm2d(3).Forward(Tensor.Zeros([2, 4, 5, 5])));
        Assert.Contains("[2, 4, 5, 5]", e.Message);
    }

    [Fact]
    public void Dropout_IsIdentityInEval_AndZeroesInTraining()
    {
        var d = new Dropout(0.5, new Generator(3));
        Tensor x = Tensor.Ones([1000]);
        double[] train = d.Forward(x).ToDoubleArray();
        Assert.Contains(0.0, train);
        Assert.Contains(2.0, train);
        d.Eval();
        Assert.Equal(x.ToDoubleArray(), d.Forward(x).ToDoubleArray());
    }

    [Fact]
    public void LayerNorm_Module_NormalizesLastDim()
    {
        var ln = new LayerNorm(4, dtype: DType.Float64);
        double[] y = ln.Forward(T.F64([1.0, 2, 3, 4], 1, 4)).ToDoubleArray();
        Assert.Equal(0.0, y.Average(), 12);
        Assert.Equal(2, ln.Parameters().Count());
    }

    [Fact]
    public void Embedding_PaddingRowStartsAtZero()
    {
        var emb = new Embedding(5, 3, paddingIdx: 1, generator: new Generator(2));
        Assert.Equal(new double[3], emb.Weight.Data.Select(0, 1).ToDoubleArray());
        Tensor y = emb.Forward(Tensor.FromArray(new long[] { 0, 1, 4 }));
        Assert.Equal(new Shape(3, 3), y.Shape);
    }

    [Fact]
    public void ResidualBlock_KeepsOrChangesShape()
    {
        var same = new ResidualBlock(4, 4, generator: new Generator(1));
        Assert.Equal(new Shape(2, 4, 6, 6), same.Forward(Tensor.Randn([2, 4, 6, 6], generator: new Generator(2))).Shape);
        var down = new ResidualBlock(4, 8, stride: 2, generator: new Generator(1));
        Tensor y = down.Forward(Tensor.Randn([2, 4, 6, 6], generator: new Generator(2)));
        Assert.Equal(new Shape(2, 8, 3, 3), y.Shape);
        y.Sum().Backward();
        Assert.All(down.Parameters(), p => Assert.NotNull(p.Grad));
    }

    [Fact]
    public void Residual_GradCheck()
    {
        var inner = new Sequential(new Linear(3, 3, dtype: DType.Float64), new Tanh());
        var res = new Residual(inner);
        GradCheck.Verify(x => res.Forward(x[0]), [T.Param(1, 2, 3)]);
    }

    [Fact]
    public void ActivationModules_MatchTensorOps()
    {
        Tensor x = T.F64([-1.5, -0.1, 0.2, 2.0]);
        Assert.Equal(x.Relu().ToDoubleArray(), new Relu().Forward(x).ToDoubleArray());
        Assert.Equal(x.LeakyRelu(0.2).ToDoubleArray(), new LeakyRelu(0.2).Forward(x).ToDoubleArray());
        Assert.Equal(x.Gelu(GeluApproximation.Tanh).ToDoubleArray(), new Gelu(GeluApproximation.Tanh).Forward(x).ToDoubleArray());
        Assert.Equal(x.Sigmoid().ToDoubleArray(), new Sigmoid().Forward(x).ToDoubleArray());
        Assert.Equal(x.Tanh().ToDoubleArray(), new Tanh().Forward(x).ToDoubleArray());
        Assert.Equal(x.Silu().ToDoubleArray(), new Silu().Forward(x).ToDoubleArray());
        Assert.Equal(x.Softplus(2, 10).ToDoubleArray(), new Softplus(2, 10).Forward(x).ToDoubleArray());
    }

    [Fact]
    public void Pools_And_Flatten_Modules()
    {
        Tensor x = Tensor.Arange(16, DType.Float64).Reshape(1, 1, 4, 4);
        T.Close([5.0, 7, 13, 15], new MaxPool2d(2).Forward(x));
        T.Close([2.5, 4.5, 10.5, 12.5], new AvgPool2d(2).Forward(x));
        Assert.Equal(new Shape(1, 16), new Flatten().Forward(x).Shape);
    }

    [Fact]
    public void Conv2d_Module_DefaultsAndShape()
    {
        var conv = new Conv2d(3, 8, 3, padding: 1, generator: new Generator(4));
        Assert.Equal(new Shape(8, 3, 3, 3), conv.Weight.Shape);
        double bound = 1 / Math.Sqrt(27);
        Assert.True(conv.Weight.Data.ToDoubleArray().All(v => Math.Abs(v) <= bound));
        Assert.Equal(new Shape(2, 8, 5, 5), conv.Forward(Tensor.Zeros([2, 3, 5, 5])).Shape);
        Assert.Throws<ArgumentException>(() => new Conv2d(3, 8, 3, groups: 2));
    }

    [Fact]
    public void ModuleToString_ShowsTree()
    {
        string s = Models.Mlp().ToString();
        Assert.Contains("0: Linear(784 → 512)", s);
    }
}
