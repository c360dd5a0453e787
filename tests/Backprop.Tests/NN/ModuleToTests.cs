using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;

namespace Backprop.Tests.NN;

/// <summary>Module.To(dtype) converts parameters and buffers in place, keeping the Parameter objects, as PyTorch's module.to(dtype).</summary>
public class ModuleToTests
{
    private static Sequential Model() => new(new Linear(3, 4, generator: new Generator(1)), new BatchNorm1d(4), new Relu(), new Linear(4, 2, generator: new Generator(2)));

    [Fact]
    public void To_ConvertsParametersAndBuffers_KeepingParameterObjects()
    {
        Sequential model = Model();
        model.Forward(Tensor.FromArray(new float[,] { { 1, 2, 3 }, { -1, 0, 2 } })).Sum().Backward(); // a gradient and running statistics to convert
        var parameters = model.NamedParameters().ToList();
        var before = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToDoubleArray());
        var grads = parameters.ToDictionary(kv => kv.Key, kv => kv.Value.Grad!.ToDoubleArray());

        Assert.Same(model, model.To(DType.Float64));

        var after = model.NamedParameters().ToList();
        for (int i = 0; i < parameters.Count; i++)
        {
            Assert.Same(parameters[i].Value, after[i].Value);
            Assert.Equal(DType.Float64, after[i].Value.DType);
            Assert.True(after[i].Value.Data.RequiresGrad);
            Assert.Equal(DType.Float64, after[i].Value.Grad!.DType);
            Assert.Equal(grads[after[i].Key], after[i].Value.Grad!.ToDoubleArray());
        }
        foreach (var (name, t) in model.StateDict())
        {
            Assert.Equal(before[name], t.ToDoubleArray()); // float32 → float64 is exact
            Assert.Equal(name.EndsWith("num_batches_tracked", StringComparison.Ordinal) ? DType.Int64 : DType.Float64, t.DType);
        }
        var bn = (BatchNorm1d)model[1];
        Assert.Same(model.StateDict().Single(kv => kv.Key == "1.running_mean").Value, bn.RunningMean); // the layer's field follows its buffer
        Assert.Equal(DType.Float64, bn.RunningVar!.DType);
        Tensor y = model.Forward(Tensor.FromArray(new double[,] { { 1, 2, 3 }, { -1, 0, 2 } }));
        Assert.Equal(DType.Float64, y.DType);
        model.Eval();
        Assert.Equal(DType.Float64, model.Forward(Tensor.FromArray(new double[,] { { 1, 2, 3 } })).DType); // eval reads the converted running statistics
    }

    [Fact]
    public void To_SameDType_ChangesNothing()
    {
        Sequential model = Model();
        Tensor w = ((Linear)model[0]).Weight.Data, mean = ((BatchNorm1d)model[1]).RunningMean!;
        model.To(DType.Float32);
        Assert.Same(w, ((Linear)model[0]).Weight.Data);
        Assert.Same(mean, ((BatchNorm1d)model[1]).RunningMean);
    }

    [Fact]
    public void To_IntegerDType_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => Model().To(DType.Int64));
        Assert.Contains("floating-point", e.Message);
        Assert.Contains("int64", e.Message);
    }

    /// <summary>
    /// An optimizer built before To keeps working: its float32 state becomes float64 at the next step and the
    /// step equals one from a float64 optimizer loaded with that state converted.
    /// </summary>
    [Fact]
    public void OptimizerBuiltBefore_ContinuesFromConvertedState()
    {
        var p = new Parameter(Tensor.FromArray(new[] { 1f, -2f, 0.5f }));
        var adam = new Adam([p], new AdamOptions(LearningRate: 0.1, Amsgrad: true));
        for (int i = 0; i < 2; i++)
        {
            p.Grad = Tensor.FromArray(new[] { 0.3f, -0.1f * i, 0.2f });
            adam.Step();
        }
        var module = new Holder(p);
        module.To(DType.Float64);
        var state = adam.StateDict().Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Key.EndsWith(".step", StringComparison.Ordinal) ? kv.Value : kv.Value.To(DType.Float64))).ToList();
        var q = new Parameter(Tensor.FromArray(p.Data.ToDoubleArray()));
        var reference = new Adam([q], new AdamOptions(LearningRate: 0.1, Amsgrad: true));
        reference.LoadStateDict(state);

        p.Grad = Tensor.FromArray(new[] { 0.25, 0.5, -1.0 });
        q.Grad = Tensor.FromArray(new[] { 0.25, 0.5, -1.0 });
        adam.Step();
        reference.Step();
        Assert.Equal(q.Data.ToDoubleArray(), p.Data.ToDoubleArray());
        Assert.All(adam.StateDict(), kv => Assert.Equal(DType.Float64, kv.Value.DType));
    }

    private sealed class Holder(Parameter p) : Module
    {
        public Parameter P { get; } = p;

        public override Tensor Forward(Tensor input) => input * P;
    }

    /// <summary>A Checkpointed wrapper shares its inner module's buffers; the inner layers' fields follow the conversion too.</summary>
    [Fact]
    public void To_ReachesModulesBehindAWrapper()
    {
        var model = new Sequential(new Checkpointed(new Sequential(new Linear(3, 3, generator: new Generator(3)), new BatchNorm1d(3))));
        model.To(DType.Float64);
        var inner = (Sequential)((Checkpointed)model[0]).Inner;
        Assert.Equal(DType.Float64, ((BatchNorm1d)inner[1]).RunningMean!.DType);
        Tensor y = model.Forward(Tensor.FromArray(new double[,] { { 1, 2, 3 }, { 0, -1, 1 } }));
        Assert.Equal(DType.Float64, y.DType);
        Assert.All(model.StateDict(), kv => Assert.True(kv.Value.DType != DType.Float32, kv.Key));
    }

    [Fact]
    public void To_BackToFloat32_RoundsAsACast()
    {
        var lin = new Linear(2, 2, generator: new Generator(4), dtype: DType.Float64);
        double[] w = lin.Weight.Data.ToDoubleArray();
        lin.To(DType.Float32);
        Assert.Equal(DType.Float32, lin.Weight.DType);
        Assert.Equal(w.Select(v => (double)(float)v), lin.Weight.Data.ToDoubleArray());
    }
}
