namespace Backprop.Kernels.Conv;

/// <summary>
/// Which algorithms 2-D convolutions may use, process-wide (as PyTorch's <c>torch.backends</c> flags are).
/// Read when a convolution starts, on the calling thread.
/// </summary>
public static class ConvolutionAlgorithm
{
    /// <summary>
    /// Whether stride-1, single-group convolutions with outputs of at least 12×12 pixels run Winograd F(2×2, r×r) for
    /// the forward, dx and dW when they are 5×5 with at least 8 channels on each side (LeNet's second layer; 2.8× fewer
    /// multiplies) or 3×3 with at least 32 (2.25× fewer). Default true. In float32 a 5×5 layer's outputs are then within
    /// about 2e-6 of their magnitude (the direct product: about 5e-7; 3×3 about the same as direct); false computes every
    /// convolution as the direct product (im2col and a GEMM), as PyTorch's CPU convolution does.
    /// </summary>
    public static bool Winograd { get; set; } = true;
}
