using Backprop.Autograd;
using Backprop.Memory;
using Backprop.NN;
using Backprop.Tensors;

namespace Backprop.Training;

/// <summary>Runs a model over data without training it and reports metrics.</summary>
public static class Evaluation
{
    /// <summary>
    /// Feeds every batch of <paramref name="data"/> through <paramref name="model"/> in evaluation mode
    /// without recording a graph, updates <paramref name="metrics"/> (reset first) and returns their
    /// values by name. The model's train/eval mode is restored afterwards. An <see cref="IStatefulModel"/>
    /// is reset before the pass, carries its state from each batch to the next (the batches are then
    /// parallel streams, e.g. <see cref="Data.TextStreams"/>) and is reset again after it.
    /// </summary>
    /// <param name="model">The model to evaluate.</param>
    /// <param name="data">Batches of (inputs, targets), e.g. a non-shuffling <c>DataLoader.Epoch(0)</c>.</param>
    /// <param name="metrics">The metrics to compute; names must be distinct.</param>
    /// <param name="loss">The loss function (outputs, targets) → scalar, for metrics that read <see cref="MetricBatch.Loss"/>.</param>
    /// <exception cref="ArgumentException">Two metrics share a name.</exception>
    public static Dictionary<string, double> Run(Module model, IEnumerable<(Tensor Inputs, Tensor Targets)> data, IReadOnlyList<IMetric> metrics,
                                                 Func<Tensor, Tensor, Tensor>? loss = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        CheckNames(metrics);
        bool wasTraining = model.Training;
        model.Eval();
        var batch = new MetricBatch();
        var stateful = model as IStatefulModel;
        try
        {
            stateful?.ResetState();
            for (int i = 0; i < metrics.Count; i++) metrics[i].Reset();
            using (GradMode.Disable())
            {
                foreach (var (inputs, targets) in data)
                {
                    using var scope = TensorScope.Begin(inputs, targets); // the batch's tensors are recycled with it
                    Tensor outputs = model.Call(inputs);
                    batch.Set(inputs, outputs, targets, loss);
                    for (int i = 0; i < metrics.Count; i++) metrics[i].Update(batch);
                    stateful?.DetachState();
                }
            }
        }
        finally
        {
            batch.Clear();
            stateful?.ResetState();
            model.Train(wasTraining);
        }
        return Values(metrics);
    }

    /// <summary>Each metric's current value by name.</summary>
    internal static Dictionary<string, double> Values(IReadOnlyList<IMetric> metrics)
    {
        var values = new Dictionary<string, double>(metrics.Count);
        for (int i = 0; i < metrics.Count; i++) values[metrics[i].Name] = metrics[i].Value;
        return values;
    }

    /// <summary>Refuses two metrics with the same name, since values are reported by name.</summary>
    internal static void CheckNames(IReadOnlyList<IMetric> metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var names = new HashSet<string>();
        for (int i = 0; i < metrics.Count; i++)
            if (!names.Add(metrics[i].Name))
                throw new ArgumentException($"metrics: two metrics are named '{metrics[i].Name}'; give one another name (e.g. new Accuracy(\"top1\"))");
    }
}
