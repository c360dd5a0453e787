using Backprop.Data.Transforms;
using Backprop.Tensors;

namespace Backprop.Data;

/// <summary>
/// A data set of (input, target) examples whose inputs (and optionally targets) pass through a
/// <see cref="Transform"/> as they are read; made by <see cref="Dataset.WithTransform"/>.
/// </summary>
public sealed class TransformedDataset : Dataset<(Tensor Input, Tensor Target)>
{
    /// <summary>Wraps <paramref name="dataset"/>; a null transform leaves that part unchanged.</summary>
    public TransformedDataset(Dataset<(Tensor Input, Tensor Target)> dataset, Transform? transform, Transform? targetTransform = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        Dataset = dataset;
        Transform = transform;
        TargetTransform = targetTransform;
    }

    /// <summary>The untransformed examples.</summary>
    public Dataset<(Tensor Input, Tensor Target)> Dataset { get; }

    /// <summary>Applied to each input, or null.</summary>
    public Transform? Transform { get; }

    /// <summary>Applied to each target, or null.</summary>
    public Transform? TargetTransform { get; }

    /// <inheritdoc/>
    public override int Count => Dataset.Count;

    /// <summary>Example <paramref name="index"/>, transformed with random draws from <see cref="Generator.Default"/>.</summary>
    public override (Tensor Input, Tensor Target) Get(int index) => Get(index, Generator.Use(null));

    /// <inheritdoc/>
    public override (Tensor Input, Tensor Target) Get(int index, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        (Tensor input, Tensor target) = Dataset.Get(index, generator);
        if (Transform is not null) input = Transform.Apply(input, generator);
        if (TargetTransform is not null) target = TargetTransform.Apply(target, generator);
        return (input, target);
    }
}
