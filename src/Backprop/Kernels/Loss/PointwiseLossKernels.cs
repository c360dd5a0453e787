using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Backprop.Kernels.Loss;

/// <summary>
/// A loss of one input element x and its target t, with its two partial derivatives, at four widths
/// (scalar, 128-, 256- and 512-bit vectors) like <see cref="Elementwise.IVectorBinary{T}"/>.
/// </summary>
internal interface ILossTerm<T> where T : unmanaged
{
    /// <summary>ℓ(x, t).</summary>
    T Loss(T x, T t);
    /// <inheritdoc cref="Loss(T, T)"/>
    Vector256<T> Loss(Vector256<T> x, Vector256<T> t);
    /// <inheritdoc cref="Loss(T, T)"/>
    Vector512<T> Loss(Vector512<T> x, Vector512<T> t);
    /// <inheritdoc cref="Loss(T, T)"/>
    Vector128<T> Loss(Vector128<T> x, Vector128<T> t);
    /// <summary>∂ℓ/∂x.</summary>
    T GradInput(T x, T t);
    /// <inheritdoc cref="GradInput(T, T)"/>
    Vector256<T> GradInput(Vector256<T> x, Vector256<T> t);
    /// <inheritdoc cref="GradInput(T, T)"/>
    Vector512<T> GradInput(Vector512<T> x, Vector512<T> t);
    /// <inheritdoc cref="GradInput(T, T)"/>
    Vector128<T> GradInput(Vector128<T> x, Vector128<T> t);
    /// <summary>∂ℓ/∂t.</summary>
    T GradTarget(T x, T t);
    /// <inheritdoc cref="GradTarget(T, T)"/>
    Vector256<T> GradTarget(Vector256<T> x, Vector256<T> t);
    /// <inheritdoc cref="GradTarget(T, T)"/>
    Vector512<T> GradTarget(Vector512<T> x, Vector512<T> t);
    /// <inheritdoc cref="GradTarget(T, T)"/>
    Vector128<T> GradTarget(Vector128<T> x, Vector128<T> t);
}

/// <summary>
/// Drives an <see cref="ILossTerm{T}"/> over spans: per-element losses, their sum, and the gradients,
/// each optionally multiplied by a per-element weight. 512-bit blocks, then 256-bit blocks, then 128-bit
/// blocks, then a scalar tail (the whole span when intrinsics are off).
/// </summary>
internal static class PointwiseLossKernels
{
    /// <summary>Elements summed per block: the block is summed in T, the blocks in double, so long float inputs keep their precision.</summary>
    public const int Block = 4096;

    /// <summary>loss[i] = ℓ(x[i], t[i])·w[i] (w empty: 1).</summary>
    public static void Losses<T, TTerm>(TTerm term, ReadOnlySpan<T> x, ReadOnlySpan<T> t, ReadOnlySpan<T> w, Span<T> loss)
        where T : unmanaged, INumber<T> where TTerm : struct, ILossTerm<T>
    {
        Check(x.Length, t.Length, w.Length, loss.Length);
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T tr = ref MemoryMarshal.GetReference(t);
        ref T wr = ref MemoryMarshal.GetReference(w);
        ref T yr = ref MemoryMarshal.GetReference(loss);
        bool weighted = !w.IsEmpty;
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                Vector512<T> v = term.Loss(Vector512.LoadUnsafe(ref xr, (nuint)i), Vector512.LoadUnsafe(ref tr, (nuint)i));
                if (weighted) v *= Vector512.LoadUnsafe(ref wr, (nuint)i);
                v.StoreUnsafe(ref yr, (nuint)i);
            }
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                Vector256<T> v = term.Loss(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref tr, (nuint)i));
                if (weighted) v *= Vector256.LoadUnsafe(ref wr, (nuint)i);
                v.StoreUnsafe(ref yr, (nuint)i);
            }
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
            {
                Vector128<T> v = term.Loss(Vector128.LoadUnsafe(ref xr, (nuint)i), Vector128.LoadUnsafe(ref tr, (nuint)i));
                if (weighted) v *= Vector128.LoadUnsafe(ref wr, (nuint)i);
                v.StoreUnsafe(ref yr, (nuint)i);
            }
        for (; i < n; i++)
        {
            T v = term.Loss(Unsafe.Add(ref xr, i), Unsafe.Add(ref tr, i));
            Unsafe.Add(ref yr, i) = weighted ? v * Unsafe.Add(ref wr, i) : v;
        }
    }

    /// <summary>Σ ℓ(x[i], t[i])·w[i], computed block by block into pooled scratch (no per-call allocation once warm).</summary>
    public static double Sum<T, TTerm>(TTerm term, ReadOnlySpan<T> x, ReadOnlySpan<T> t, ReadOnlySpan<T> w)
        where T : unmanaged, INumber<T> where TTerm : struct, ILossTerm<T>
    {
        Check(x.Length, t.Length, w.Length, x.Length);
        T[] scratch = ArrayPool<T>.Shared.Rent(Math.Min(Block, Math.Max(x.Length, 1)));
        try
        {
            double total = 0;
            for (int i = 0; i < x.Length; i += Block)
            {
                int len = Math.Min(Block, x.Length - i);
                Span<T> block = scratch.AsSpan(0, len);
                Losses(term, x.Slice(i, len), t.Slice(i, len), w.IsEmpty ? default : w.Slice(i, len), block);
                total += double.CreateTruncating(TensorPrimitives.Sum<T>(block));
            }
            return total;
        }
        finally
        {
            ArrayPool<T>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// dx[i] = ∂ℓ/∂x·g_i·w[i] and dt[i] = ∂ℓ/∂t·g_i·w[i], where g_i = gs[i], or the scalar g when gs is
    /// empty (a reduced loss). An empty dx or dt is not computed; w empty means 1.
    /// </summary>
    public static void Grads<T, TTerm>(TTerm term, ReadOnlySpan<T> x, ReadOnlySpan<T> t, ReadOnlySpan<T> w, T g, ReadOnlySpan<T> gs, Span<T> dx, Span<T> dt)
        where T : unmanaged, INumber<T> where TTerm : struct, ILossTerm<T>
    {
        Check(x.Length, t.Length, w.Length, x.Length);
        if (!gs.IsEmpty && gs.Length != x.Length || !dx.IsEmpty && dx.Length != x.Length || !dt.IsEmpty && dt.Length != x.Length)
            throw new ArgumentException($"Loss kernel: {x.Length} elements, but the upstream gradient has {gs.Length} and dx, dt {dx.Length}, {dt.Length}");
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T tr = ref MemoryMarshal.GetReference(t);
        ref T wr = ref MemoryMarshal.GetReference(w);
        ref T gr = ref MemoryMarshal.GetReference(gs);
        ref T dxr = ref MemoryMarshal.GetReference(dx);
        ref T dtr = ref MemoryMarshal.GetReference(dt);
        bool weighted = !w.IsEmpty, perElement = !gs.IsEmpty, wantX = !dx.IsEmpty, wantT = !dt.IsEmpty;
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            Vector512<T> g512 = Vector512.Create(g);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                Vector512<T> xv = Vector512.LoadUnsafe(ref xr, (nuint)i), tv = Vector512.LoadUnsafe(ref tr, (nuint)i);
                Vector512<T> scale = perElement ? Vector512.LoadUnsafe(ref gr, (nuint)i) : g512;
                if (weighted) scale *= Vector512.LoadUnsafe(ref wr, (nuint)i);
                if (wantX) (term.GradInput(xv, tv) * scale).StoreUnsafe(ref dxr, (nuint)i);
                if (wantT) (term.GradTarget(xv, tv) * scale).StoreUnsafe(ref dtr, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            Vector256<T> g256 = Vector256.Create(g);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                Vector256<T> xv = Vector256.LoadUnsafe(ref xr, (nuint)i), tv = Vector256.LoadUnsafe(ref tr, (nuint)i);
                Vector256<T> scale = perElement ? Vector256.LoadUnsafe(ref gr, (nuint)i) : g256;
                if (weighted) scale *= Vector256.LoadUnsafe(ref wr, (nuint)i);
                if (wantX) (term.GradInput(xv, tv) * scale).StoreUnsafe(ref dxr, (nuint)i);
                if (wantT) (term.GradTarget(xv, tv) * scale).StoreUnsafe(ref dtr, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
        {
            Vector128<T> g128 = Vector128.Create(g);
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
            {
                Vector128<T> xv = Vector128.LoadUnsafe(ref xr, (nuint)i), tv = Vector128.LoadUnsafe(ref tr, (nuint)i);
                Vector128<T> scale = perElement ? Vector128.LoadUnsafe(ref gr, (nuint)i) : g128;
                if (weighted) scale *= Vector128.LoadUnsafe(ref wr, (nuint)i);
                if (wantX) (term.GradInput(xv, tv) * scale).StoreUnsafe(ref dxr, (nuint)i);
                if (wantT) (term.GradTarget(xv, tv) * scale).StoreUnsafe(ref dtr, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            T xv = Unsafe.Add(ref xr, i), tv = Unsafe.Add(ref tr, i);
            T scale = perElement ? Unsafe.Add(ref gr, i) : g;
            if (weighted) scale *= Unsafe.Add(ref wr, i);
            if (wantX) Unsafe.Add(ref dxr, i) = term.GradInput(xv, tv) * scale;
            if (wantT) Unsafe.Add(ref dtr, i) = term.GradTarget(xv, tv) * scale;
        }
    }

    private static void Check(int x, int t, int w, int y)
    {
        if (t != x || y != x || w != 0 && w != x)
            throw new ArgumentException($"Loss kernel: input has {x} elements, target {t}, weight {w}, destination {y}");
    }
}
