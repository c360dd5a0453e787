namespace Backprop.Kernels.Conv;

/// <summary>When 2-D convolutions use Winograd's algorithm (<see cref="ConvolutionAlgorithm.Winograd"/>).</summary>
public enum WinogradPolicy
{
    /// <summary>
    /// Where it pays (measured on x86): 5×5 layers with at least 8 channels on each side, 3×3 with at least 32, at least
    /// 2 images and 3,072 output pixels in the batch, planes of at least 12×12.
    /// </summary>
    Auto,

    /// <summary>Every convolution it can compute (3×3 or 5×5, stride 1, no dilation, one group), however small.</summary>
    Always,

    /// <summary>Never: every convolution is the direct product (im2col and a GEMM), as PyTorch's CPU convolution.</summary>
    Off,
}

/// <summary>
/// Which algorithms 2-D convolutions may use, process-wide (as PyTorch's <c>torch.backends</c> flags are).
/// Read when a convolution starts, on the calling thread.
/// </summary>
public static class ConvolutionAlgorithm
{
    /// <summary>
    /// When stride-1, single-group 3×3 and 5×5 convolutions run Winograd F(2×2, r×r) for the forward, dx and dW: 2.8×
    /// fewer multiplies at 5×5 (LeNet's second layer), 2.25× at 3×3. Default <see cref="WinogradPolicy.Auto"/>. In float32
    /// a 5×5 layer's outputs are then within about 2e-6 of their magnitude (the direct product: about 5e-7; 3×3 about the
    /// same as direct).
    /// </summary>
    public static WinogradPolicy Winograd { get; set; } = WinogradPolicy.Auto;
}
