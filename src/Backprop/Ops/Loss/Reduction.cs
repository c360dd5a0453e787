namespace Backprop.Ops.Loss;

/// <summary>How a loss combines its per-element values (PyTorch's <c>reduction</c> argument).</summary>
public enum Reduction
{
    /// <summary>No reduction: one loss value per element (per sample for class losses).</summary>
    None,
    /// <summary>The (weighted) average; the default.</summary>
    Mean,
    /// <summary>The sum.</summary>
    Sum,
    /// <summary>The sum divided by the batch size (the size of dim 0); only the KL divergence takes it, as in PyTorch.</summary>
    BatchMean,
}
