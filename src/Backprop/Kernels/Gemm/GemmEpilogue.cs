using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels.Gemm;

/// <summary>
/// Work the GEMM driver does on each tile of C right after the micro-kernel wrote it (the tile is
/// still in L1): add a bias per column of C (with the first depth block, so C = op(A)·op(B) + bias
/// rounds exactly like a C pre-filled with the bias and beta = 1), then max(·, 0) (after the last
/// depth block). Saves the separate passes over C for Linear's bias and ReLU, which ran on one thread.
/// </summary>
internal readonly unsafe struct GemmEpilogue<T>(T* bias, bool relu) where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Bias per column of C (n values), or null.</summary>
    public T* Bias { get; } = bias;

    /// <summary>Whether C is clamped at zero from below.</summary>
    public bool Relu { get; } = relu;

    /// <summary>Whether there is nothing to do.</summary>
    public bool IsEmpty => Bias == null && !Relu;

    /// <summary>The epilogue on a whole C (rows × cols, row stride ldc), for the paths that do not go through the tiled driver.</summary>
    public void ApplyAll(T* c, nint ldc, int rows, int cols)
    {
        if (!IsEmpty) Apply(c, ldc, rows, cols, Bias, Relu);
    }

    /// <summary>c[i, j] = c[i, j] + bias[j] (when bias is not null), then max(c[i, j], 0) when <paramref name="relu"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(T* c, nint ldc, int rows, int cols, T* bias, bool relu)
    {
        for (int i = 0; i < rows; i++, c += ldc)
        {
            int j = 0;
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
                for (; j + Vector512<T>.Count <= cols; j += Vector512<T>.Count)
                {
                    Vector512<T> v = Vector512.Load(c + j);
                    if (bias != null) v += Vector512.Load(bias + j);
                    if (relu) v = Vector512.Max(v, Vector512<T>.Zero);
                    v.Store(c + j);
                }
            if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
                for (; j + Vector256<T>.Count <= cols; j += Vector256<T>.Count)
                {
                    Vector256<T> v = Vector256.Load(c + j);
                    if (bias != null) v += Vector256.Load(bias + j);
                    if (relu) v = Vector256.Max(v, Vector256<T>.Zero);
                    v.Store(c + j);
                }
            for (; j < cols; j++)
            {
                T v = c[j];
                if (bias != null) v += bias[j];
                if (relu) v = T.Max(v, T.Zero);
                c[j] = v;
            }
        }
    }
}
