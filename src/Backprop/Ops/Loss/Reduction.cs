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
}
