using Backprop.Autograd;
using Backprop.Data;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>The gradient health monitor: its numbers against direct computations, dead units on constructed cases, and its one warning.</summary>
public class GradientMonitorTests
{
    private static double Norm(IEnumerable<double> values) => Math.Sqrt(values.Sum(v => v * v));

    /// <summary>Float32 values: the monitor sums squares in float within blocks of 4,096, so agreement is to float precision.</summary>
    private static void Near(double expected, double actual, string what)
        => Assert.True(Math.Abs(expected - actual) <= 1e-6 * Math.Abs(expected), $"{what}: expected {expected}, got {actual}");

    [Fact]
    public void Norms_UpdateRatioAndDeadUnits_MatchADirectComputation()
    {
        var g = new Generator(7);
        var model = new Sequential(new Linear(6, 8, generator: g), new Relu(), new Linear(8, 3, generator: g));
        using var monitor = new GradientMonitor(model, interval: 1);
        Assert.Equal(["0", "2"], monitor.Layers);
        var optimizer = new Sgd(model.Parameters(), new SgdOptions(LearningRate: 0.1, Momentum: 0.9));
        Tensor x = Tensor.Randn([5, 6], generator: g);
        Tensor labels = Tensor.FromArray(new long[] { 0, 1, 2, 1, 0 });
        var layers = new[] { (Linear)model[0], (Linear)model[2] };
        for (int step = 1; step <= 3; step++)
        {
            monitor.BeginStep(step);
            optimizer.ZeroGrad();
            Functional.CrossEntropy(model.Call(x), labels).Backward();
            monitor.RecordGradients();
            double[][] before = [.. layers.Select(l => l.Weight.Data.ToDoubleArray().Concat(l.Bias!.Data.ToDoubleArray()).ToArray())];
            double[] gradNorms = [.. layers.Select(l => Norm(l.Weight.Grad!.ToDoubleArray().Concat(l.Bias!.Grad!.ToDoubleArray())))];
            double[] hidden;
            using (GradMode.Disable()) hidden = model[1].Forward(model[0].Forward(x)).ToDoubleArray();
            int dead = Enumerable.Range(0, 8).Count(u => Enumerable.Range(0, 5).All(r => hidden[r * 8 + u] == 0));
            optimizer.Step();
            monitor.EndStep();

            GradientRecord[] records = [.. monitor.Records.Where(r => r.Step == step)];
            Assert.Equal(["0", "2"], records.Select(r => r.Layer));
            for (int i = 0; i < 2; i++)
            {
                double[] after = layers[i].Weight.Data.ToDoubleArray().Concat(layers[i].Bias!.Data.ToDoubleArray()).ToArray();
                Near(gradNorms[i], records[i].GradNorm, $"step {step} layer {i} gradient norm");
                Near(Norm(before[i]), records[i].WeightNorm, $"step {step} layer {i} weight norm");
                Near(Norm(after.Zip(before[i], (a, b) => a - b)) / Norm(before[i]), records[i].UpdateRatio, $"step {step} layer {i} update ratio");
            }
            Assert.Equal(dead / 8.0, records[0].DeadFraction);
            Assert.True(double.IsNaN(records[1].DeadFraction)); // no ReLU after the last layer
        }
    }

    [Fact]
    public void PerParameter_RecordsEachParameter()
    {
        var model = new Sequential(new Linear(2, 3), new Relu(), new Linear(3, 1));
        using var monitor = new GradientMonitor(model, perParameter: true);
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], monitor.Layers);
    }

    /// <summary>Units 0 and 2 get −x₀ − x₁ − 0.5 &lt; 0 for positive inputs: dead; units 1 and 3 get x₀ + x₁ &gt; 0.</summary>
    private static Linear HalfDead()
    {
        var layer = new Linear(2, 4);
        using (GradMode.Disable())
        {
            layer.Weight.Data.CopyFrom(Tensor.FromArray(new float[,] { { -1, -1 }, { 1, 1 }, { -1, -1 }, { 1, 1 } }));
            layer.Bias!.Data.CopyFrom(Tensor.FromArray(new float[] { -0.5f, 0, -0.5f, 0 }));
        }
        return layer;
    }

    private static double DeadFractionAfterOneStep(Module model, Tensor x, string layer)
    {
        using var monitor = new GradientMonitor(model);
        monitor.BeginStep(1);
        model.Call(x).Sum().Backward();
        monitor.RecordGradients();
        monitor.EndStep();
        return monitor.Records.Single(r => r.Layer == layer).DeadFraction;
    }

    [Fact]
    public void DeadUnits_ConstructedHalfDeadLayer_PlainFusedAndConvolutional()
    {
        Tensor x = Tensor.FromArray(new float[,] { { 1, 2 }, { 0.5f, 0.1f }, { 3, 0 } });
        Assert.Equal(0.5, DeadFractionAfterOneStep(new Sequential(HalfDead(), new Relu(), new Linear(4, 1)), x, "0"));
        var fused = new Sequential(HalfDead(), new Relu(), new Linear(4, 1)).Fuse();
        Assert.IsType<LinearRelu>(fused[0]);
        Assert.Equal(0.5, DeadFractionAfterOneStep(fused, x, "0"));

        // A unit alive for a single example is alive: the negative example wakes units 0 and 2.
        Tensor oneNegative = Tensor.FromArray(new float[,] { { 1, 2 }, { -5, -5 } });
        Assert.Equal(0.0, DeadFractionAfterOneStep(new Sequential(HalfDead(), new Relu(), new Linear(4, 1)), oneNegative, "0"));

        // Convolution: a unit is a channel. Channel 0 sums −(positive pixels) − 1: dead; channel 1 is alive.
        var conv = new Conv2dReluMaxPool2d(1, 3, 3, padding: 1);
        using (GradMode.Disable())
        {
            var w = new float[3 * 9];
            for (int i = 0; i < 9; i++) (w[i], w[9 + i], w[18 + i]) = (-1, 1, -1);
            conv.Weight.Data.CopyFrom(Tensor.FromArray(w, [3, 1, 3, 3]));
            conv.Bias!.Data.CopyFrom(Tensor.FromArray(new float[] { -1, 0, 5 }));
        }
        Tensor images = Tensor.Full([2, 1, 4, 4], 0.25);                       // channel 2 gets at least 5 − 9·0.25 > 0: alive
        Assert.Equal(1.0 / 3, DeadFractionAfterOneStep(new Sequential(conv, new Flatten()), images, "0"), 12);
    }

    /// <summary>Three 3×3 layers whose gradients the test sets by hand (12 values each, so a layer's norm is value·√12).</summary>
    private sealed class Manual
    {
        public readonly Sequential Model = new(new Linear(3, 3), new Linear(3, 3), new Linear(3, 3));
        public readonly GradientMonitor Monitor;
        public readonly List<GradientWarning> Warnings = [];

        public Manual()
        {
            Monitor = new GradientMonitor(Model, interval: 1);
            Monitor.Warning += Warnings.Add;
        }

        public void Step(long step, params double[] values)
        {
            Monitor.BeginStep(step);
            for (int i = 0; i < 3; i++)
                foreach (Parameter p in Model[i].Parameters())
                    p.Grad = Tensor.Full(p.Shape, values[i]);
            Monitor.RecordGradients();
            Monitor.EndStep();
        }
    }

    [Fact]
    public void HealthyGradients_RaiseNoWarning()
    {
        var m = new Manual();
        for (int s = 1; s <= 40; s++) m.Step(s, 0.01 * (1 + 0.5 * Math.Sin(s)), 0.5 + 0.4 * Math.Cos(s), 3 + Math.Sin(2 * s));
        Assert.Empty(m.Warnings);
        Assert.Null(m.Monitor.FirstWarning);
        Assert.Equal(120, m.Monitor.Records.Count);
    }

    [Fact]
    public void VanishingGradients_WarnOnceAfterThreeRecords_NamingTheLayerAndTheRemedy()
    {
        var m = new Manual();
        m.Step(1, 1e-9, 1, 1);
        m.Step(2, 1e-9, 1, 1);
        Assert.Empty(m.Warnings);
        m.Step(3, 1e-9, 1, 1);
        GradientWarning w = Assert.Single(m.Warnings);
        Assert.Equal((GradientProblem.Vanishing, "0", 3L), (w.Problem, w.Layer, w.Step));
        Assert.Contains("layer '0' (Linear)", w.Message);
        Assert.Contains("He (Kaiming)", w.Message);
        Assert.Contains("residual", w.Message);
        for (int s = 4; s <= 10; s++) m.Step(s, 1e-9, 1e-9, 1);
        Assert.Single(m.Warnings);                                              // one warning, not one per record
        Assert.Same(w, m.Monitor.FirstWarning);

        // Relative: 1e-5 of the largest layer's norm, while well above the absolute threshold.
        var r = new Manual();
        for (int s = 1; s <= 3; s++) r.Step(s, 1, 1e-5, 1);
        Assert.Equal("1", Assert.Single(r.Warnings).Layer);
    }

    [Fact]
    public void ExplodingGradients_WarnOnGrowthOrSize_NamingTheLayerAndTheRemedy()
    {
        var m = new Manual();
        for (int s = 1; s <= 3; s++) m.Step(s, 1, 2, 1);
        Assert.Empty(m.Warnings);
        m.Step(4, 1, 250, 1);                                                   // 125× in one record, below 1e3
        GradientWarning w = Assert.Single(m.Warnings);
        Assert.Equal((GradientProblem.Exploding, "1", 4L), (w.Problem, w.Layer, w.Step));
        Assert.Contains("125×", w.Message);
        Assert.Contains("clip", w.Message);
        Assert.Contains("learning rate", w.Message);

        var big = new Manual();
        big.Step(1, 1, 1, 1e4);                                                  // above 1e3 at once
        Assert.Equal(("2", GradientProblem.Exploding), (Assert.Single(big.Warnings).Layer, big.Warnings[0].Problem));

        var nan = new Manual();
        nan.Step(1, double.NaN, 1, 1);
        Assert.Equal(("0", GradientProblem.Exploding), (Assert.Single(nan.Warnings).Layer, nan.Warnings[0].Problem));
    }

    [Fact]
    public void Trainer_RecordsEveryIntervalAtNoOtherStep_AndADeepSigmoidNetVanishes()
    {
        // 12 sigmoid layers with PyTorch's default init: each layer scales the gradient by at most 1/4 times
        // a weight of order 1/√16, so the first layer's gradient is far below 1e-4 of the last one's.
        var g = new Generator(11);
        var layers = new List<Module>();
        for (int i = 0; i < 12; i++) layers.AddRange([new Linear(16, 16, generator: g), new Sigmoid()]);
        layers.Add(new Linear(16, 3, generator: g));
        var model = new Sequential([.. layers]);
        Tensor x = Tensor.Randn([64, 16], generator: g);
        Tensor y = Tensor.FromArray(Enumerable.Range(0, 64).Select(i => (long)(i % 3)).ToArray());
        var trainer = new Trainer(model, new Sgd(model.Parameters(), new SgdOptions(LearningRate: 0.1)),
                                  (o, t) => Functional.CrossEntropy(o, t), new DataLoader(new TensorDataset(x, y), 16, shuffle: true, seed: 1))
        {
            Monitor = new GradientMonitor(model, interval: 5),
        };
        GradientWarning? warning = null;
        trainer.Monitor.Warning += w => warning = w;
        trainer.Fit(epochs: 5); // 4 steps per epoch, 20 steps
        Assert.Equal([1L, 5, 10, 15, 20], trainer.Monitor.Records.Select(r => r.Step).Distinct());
        Assert.Equal(13, trainer.Monitor.Layers.Count);
        Assert.NotNull(warning);
        Assert.Equal(GradientProblem.Vanishing, warning.Problem);
        Assert.Equal("0", warning.Layer);
        Assert.Throws<ArgumentException>(() => trainer.Monitor = new GradientMonitor(new Linear(2, 2)));
    }
}
