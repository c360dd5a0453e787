namespace Backprop.Ops.Conv;

/// <summary>How a convolution layer fills the border it pads (PyTorch's <c>padding_mode</c>).</summary>
public enum PaddingMode
{
    /// <summary>Zeros (the default; handled inside the convolution, no padded copy is made).</summary>
    Zeros,
    /// <summary>The input mirrored at its edge, the edge itself not repeated: 2 1 | 0 1 2 3 | 2 1. Padding must be smaller than the input.</summary>
    Reflect,
    /// <summary>The edge value repeated: 0 0 | 0 1 2 3 | 3 3.</summary>
    Replicate,
    /// <summary>The input wrapped around: 2 3 | 0 1 2 3 | 0 1. Padding must not exceed the input.</summary>
    Circular,
}
