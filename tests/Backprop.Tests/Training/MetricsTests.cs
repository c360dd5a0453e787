using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Ops.Loss;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>The built-in metrics and <see cref="Evaluation.Run"/>, on hand-made outputs.</summary>
public class MetricsTests
{
    /// <summary>Returns its input: the "outputs" of an evaluation are then the batch's inputs.</summary>
    private sealed class Passthrough : Module
    {
        public override Tensor Forward(Tensor input) => input;
    }

    // Three rows of class scores; the best classes are 0, 1, 0 and the labels 0, 0, 0, then 2 and 2.
    private static readonly Tensor Logits = Tensor.FromArray(new float[,] { { 2, 1, 0 }, { 0, 3, 1 }, { 5, 0, 1 } });
    private static readonly Tensor Labels = Tensor.FromArray(new long[] { 0, 0, 0 });
    private static readonly Tensor MoreLogits = Tensor.FromArray(new float[,] { { 0, 1, 4 }, { 1, 2, 0 } });
    private static readonly Tensor MoreLabels = Tensor.FromArray(new long[] { 2, 2 });

    private static IEnumerable<(Tensor, Tensor)> TwoBatches => [(Logits, Labels), (MoreLogits, MoreLabels)];

    [Fact]
    public void Accuracy_CountsTheArgMaxHits()
    {
        var values = Evaluation.Run(new Passthrough(), TwoBatches, [new Accuracy()]);
        Assert.Equal(3.0 / 5, values["accuracy"]); // rows 1, 3 and 4 are right
    }

    [Fact]
    public void Accuracy_RefusesLabelsThatAreNotClassIndices()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Evaluation.Run(new Passthrough(), [(Logits, Tensor.FromArray(new float[] { 0, 0, 0 }))], [new Accuracy()]));
        Assert.Contains("int64", e.Message);
    }

    [Fact]
    public void MeanLoss_WeightsBatchMeansBySize_AndFromSumDividesOnce()
    {
        double all = Functional.CrossEntropy(Tensor.Cat([Logits, MoreLogits], 0), Tensor.Cat([Labels, MoreLabels], 0)).Item();
        var values = Evaluation.Run(new Passthrough(), TwoBatches,
            [new MeanLoss(), MeanLoss.FromSum((y, t) => Functional.CrossEntropy(y, t, Reduction.Sum), "summed")],
            (y, t) => Functional.CrossEntropy(y, t));
        Assert.Equal(all, values["loss"], 6);
        Assert.Equal(all, values["summed"], 6);
    }

    [Fact]
    public void MeanLoss_WithoutALossFunction_SaysSo()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Evaluation.Run(new Passthrough(), TwoBatches, [new MeanLoss()]));
        Assert.Contains("no loss function", e.Message);
    }

    [Fact]
    public void Metrics_BeforeAnyBatch_AreNaN()
    {
        var values = Evaluation.Run(new Passthrough(), [], [new MeanLoss(), new Accuracy()]);
        Assert.True(double.IsNaN(values["loss"]) && double.IsNaN(values["accuracy"]));
    }

    [Fact]
    public void Evaluation_RecordsNoGraph_AndRestoresTheMode()
    {
        var model = new Sequential(new Linear(3, 3, generator: new Generator(1)), new Dropout(0.5));
        bool recorded = true;
        var probe = new Probe(batch => recorded = batch.Outputs.RequiresGrad);
        Evaluation.Run(model, [(Logits, Labels)], [probe]);
        Assert.False(recorded);
        Assert.True(model.Training);
        model.Eval();
        Evaluation.Run(model, [(Logits, Labels)], [probe]);
        Assert.False(model.Training);
    }

    /// <summary>A metric that hands each batch to a callback.</summary>
    private sealed class Probe(Action<MetricBatch> onBatch) : IMetric
    {
        public string Name => "probe";

        public void Reset() { }

        public void Update(MetricBatch batch) => onBatch(batch);

        public double Value => 0;
    }
}
