using System.Runtime.CompilerServices;

namespace Backprop.Kernels.Conv;

/// <summary>Geometry of a 2-D sliding window (convolution or pooling) over one [H, W] plane.</summary>
internal readonly record struct Window2d(
    int H, int W, int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW, int OH, int OW)
{
    /// <summary>
    /// Output length of a window of size k, stride s, padding p and dilation d over size inputs
    /// (PyTorch rules): floor (or ceil) of (size + 2p − d(k−1) − 1) / s, plus 1; in ceil mode the last
    /// window is dropped when it would start in the right padding. Below 1 when the window does not fit.
    /// The one place convolution, pooling and the fused conv + pool compute it.
    /// </summary>
    public static int OutputSize(int size, int k, int s, int p, int d, bool ceilMode = false)
    {
        int span = size + 2 * p - d * (k - 1) - 1 + (ceilMode ? s - 1 : 0);
        int o = (int)Math.Floor((double)span / s) + 1;
        if (ceilMode && (o - 1) * s >= size + p) o--;
        return o;
    }

    /// <summary>
    /// Output positions o in [lo, hi) whose input coordinate o·stride − pad + offset lies inside
    /// [0, size); offset is the kernel tap's displacement (k·dilation).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ValidRange(int size, int outSize, int stride, int pad, int offset, out int lo, out int hi)
    {
        // o·s − p + off ≥ 0  ⇔  o ≥ ceil((p − off) / s)
        int start = pad - offset;
        if (stride == 1)
        {
            // the common case, without the divisions
            lo = Math.Max(start, 0);
            hi = Math.Max(Math.Min(outSize, size + start), 0);
            if (lo > hi) lo = hi;
            return;
        }
        lo = start <= 0 ? 0 : (start + stride - 1) / stride;
        // o·s − p + off ≤ size − 1  ⇔  o ≤ floor((size − 1 + p − off) / s)
        int end = size - 1 + pad - offset;
        hi = end < 0 ? 0 : Math.Min(outSize, end / stride + 1);
        if (lo > hi) lo = hi;
    }
}
