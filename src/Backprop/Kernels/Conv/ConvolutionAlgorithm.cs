namespace Backprop.Kernels.Conv;

/// <summary>
/// Which algorithms 2-D convolutions may use, process-wide (as PyTorch's <c>torch.backends</c> flags are).
/// Read when a convolution starts, on the calling thread.
/// </summary>
public static class ConvolutionAlgorithm
{
    /// <summary>
    /// Whether 5×5, stride-1, single-group convolutions with at least 8 channels on each side and outputs of at least
    /// 12×12 pixels (LeNet's second layer)
    /// run Winograd F(2×2, 5×5) for the forward, dx and dW: 2.8× fewer multiplies. Default true. In float32 their outputs
    /// are then within about 2e-6 of the output's magnitude (the direct product: about 5e-7); false computes every
    /// convolution as the direct product (im2col and a GEMM), as PyTorch's CPU convolution does.
    /// </summary>
    public static bool Winograd { get; set; } = true;
}
