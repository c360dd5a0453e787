using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Elementwise;

namespace Backprop.Kernels.Conv;

/// <summary>
/// Bias + ReLU + 2×2 max pool (stride 2, no padding) of one [H, W] plane in one pass, and its
/// backward, for a convolution followed by ReLU and max pooling. The pooled value and the gradient
/// route are those of the three ops run one after another: v = max(z + b, 0) per pixel (NaN stays
/// NaN), then the first maximum of the window taps a b / c d (a NaN wins, a later NaN over an
/// earlier one). Each window gets a one-byte code: the winning tap (0..3, row-major), or
/// <see cref="Masked"/> when the pooled value is not positive, so that ReLU lets no gradient through.
/// </summary>
internal static class ReluPoolKernels
{
    /// <summary>Code of a window whose gradient ReLU blocks (pooled value ≤ 0 or NaN).</summary>
    public const byte Masked = 255;

    /// <summary>
    /// y[i, j] = max over the window (2i.., 2j..) of max(z + bias, 0); code gets the winning tap or
    /// <see cref="Masked"/>. z is [h, w] contiguous; y and code are [h/2, w/2]. A trailing odd row or column is ignored.
    /// </summary>
    /// <exception cref="ArgumentException">A buffer is shorter than its plane.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Forward<T>(ReadOnlySpan<T> z, int h, int w, T bias, bool hasBias, Span<T> y, Span<byte> code)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = h / 2, ow = w / 2;
        if ((long)h * w > z.Length || (long)oh * ow > y.Length || (long)oh * ow > code.Length)
            throw new ArgumentException("ReluPoolKernels.Forward: buffers shorter than the plane");
        if (oh == 0 || ow == 0) return;
        fixed (T* pz = z)
        fixed (T* py = y)
        fixed (byte* pc = code)
        {
            if (typeof(T) == typeof(float) && Vector128.IsHardwareAccelerated && ow >= 4)
            {
                ForwardVector((float*)pz, w, oh, ow, Unsafe.BitCast<T, float>(bias), hasBias, (float*)py, pc);
                return;
            }
            for (int i = 0; i < oh; i++)
            {
                T* top = pz + (nint)2 * i * w, bottom = top + w;
                for (int j = 0; j < ow; j++)
                {
                    T a = Relu(top[2 * j], bias, hasBias), b = Relu(top[2 * j + 1], bias, hasBias);
                    T c = Relu(bottom[2 * j], bias, hasBias), d = Relu(bottom[2 * j + 1], bias, hasBias);
                    int ia = 0, ic = 2;
                    if (b > a || T.IsNaN(b)) { a = b; ia = 1; }
                    if (d > c || T.IsNaN(d)) { c = d; ic = 3; }
                    if (c > a || T.IsNaN(c)) { a = c; ia = ic; }
                    py[i * ow + j] = a;
                    pc[i * ow + j] = a > T.Zero ? (byte)ia : Masked;
                }
            }
        }
    }

    /// <summary>max(v + bias, 0) as the separate bias add and ReLU compute it (NaN propagates, −0 becomes +0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Relu<T>(T v, T bias, bool hasBias) where T : unmanaged, IFloatingPointIeee754<T>
        => T.Max(hasBias ? v + bias : v, T.Zero);

    /// <summary>
    /// Float <see cref="Forward{T}"/>: 4 windows per step from two 8-float loads of each input row,
    /// split into even and odd taps by shuffles; a row's last partial group overlaps the previous one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ForwardVector(float* z, int w, int oh, int ow, float bias, bool hasBias, float* y, byte* code)
    {
        const int V = 4;
        Vector128<float> vb = Vector128.Create(hasBias ? bias : 0f), zero = Vector128<float>.Zero;
        Vector128<int> two = Vector128.Create(2), masked = Vector128.Create((int)Masked);
        for (int i = 0; i < oh; i++)
        {
            float* top = z + (nint)2 * i * w, bottom = top + w;
            float* yr = y + (nint)i * ow;
            byte* cr = code + (nint)i * ow;
            for (int j = 0; ; j += V)
            {
                if (j > ow - V) j = ow - V;
                Vector128<float> t0 = Vector128.Load(top + 2 * j), t1 = Vector128.Load(top + 2 * j + V);
                Vector128<float> b0 = Vector128.Load(bottom + 2 * j), b1 = Vector128.Load(bottom + 2 * j + V);
                if (hasBias)
                {
                    t0 += vb; t1 += vb; b0 += vb; b1 += vb;
                }
                t0 = Vector128.Max(t0, zero); t1 = Vector128.Max(t1, zero);
                b0 = Vector128.Max(b0, zero); b1 = Vector128.Max(b1, zero);
                Vector128<float> a = LaneShuffles.Even(t0, t1), b = LaneShuffles.Odd(t0, t1);
                Vector128<float> c = LaneShuffles.Even(b0, b1), d = LaneShuffles.Odd(b0, b1);
                Vector128<int> m = Takes(b, a);
                a = Vector128.ConditionalSelect(m.AsSingle(), b, a);
                Vector128<int> ia = -m; // 1 where b wins
                m = Takes(d, c);
                c = Vector128.ConditionalSelect(m.AsSingle(), d, c);
                Vector128<int> ic = two - m;
                m = Takes(c, a);
                Vector128<float> best = Vector128.ConditionalSelect(m.AsSingle(), c, a);
                best.Store(yr + j);
                Vector128<int> k = Vector128.ConditionalSelect(m, ic, ia);
                k = Vector128.ConditionalSelect(Vector128.GreaterThan(best, zero).AsInt32(), k, masked);
                Unsafe.WriteUnaligned(cr + j, LaneShuffles.NarrowToFourBytes(k));
                if (j == ow - V) break;
            }
        }
    }

    /// <summary>Lanes where v replaces the running best (v &gt; best, or v is NaN) are all ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Takes(Vector128<float> v, Vector128<float> best)
        => (Vector128.GreaterThan(v, best) | ~Vector128.Equals(v, v)).AsInt32();

    /// <summary>
    /// Gradient of <see cref="Forward{T}"/> with respect to z: dz (the whole [h, w] plane, overwritten)
    /// gets dy[i, j] at the window's winning tap and 0 everywhere else (masked windows, the other
    /// taps, and a trailing odd row or column).
    /// </summary>
    /// <exception cref="ArgumentException">A buffer is shorter than its plane.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Backward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<byte> code, int h, int w, Span<T> dz)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = h / 2, ow = w / 2;
        if ((long)h * w > dz.Length || (long)oh * ow > dy.Length || (long)oh * ow > code.Length)
            throw new ArgumentException("ReluPoolKernels.Backward: buffers shorter than the plane");
        fixed (T* pdy = dy)
        fixed (byte* pc = code)
        fixed (T* pdz = dz)
        {
            if (typeof(T) == typeof(float) && Vector128.IsHardwareAccelerated && ow >= 4)
                BackwardVector((float*)pdy, pc, w, oh, ow, (float*)pdz);
            else
                for (int i = 0; i < oh; i++)
                {
                    T* top = pdz + (nint)2 * i * w, bottom = top + w;
                    T* g = pdy + (nint)i * ow;
                    byte* c = pc + (nint)i * ow;
                    for (int j = 0; j < ow; j++)
                    {
                        int k = c[j];
                        T v = g[j] + T.Zero; // as the unfused scatter into zeros: −0 becomes +0
                        top[2 * j] = k == 0 ? v : T.Zero;
                        top[2 * j + 1] = k == 1 ? v : T.Zero;
                        bottom[2 * j] = k == 2 ? v : T.Zero;
                        bottom[2 * j + 1] = k == 3 ? v : T.Zero;
                    }
                }
            for (int i = 0; i < oh && (w & 1) != 0; i++)
            {
                pdz[(nint)(2 * i + 1) * w - 1] = T.Zero;
                pdz[(nint)(2 * i + 2) * w - 1] = T.Zero;
            }
            if ((h & 1) != 0) new Span<T>(pdz + (nint)(h - 1) * w, w).Clear();
        }
    }

    /// <summary>
    /// Float <see cref="Backward{T}"/>: 4 windows per step; each tap's value is dy masked by
    /// code == tap, and the even/odd taps are interleaved back into the two input rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void BackwardVector(float* dy, byte* code, int w, int oh, int ow, float* dz)
    {
        const int V = 4;
        Vector128<int> one = Vector128.Create(1), two = Vector128.Create(2), three = Vector128.Create(3);
        for (int i = 0; i < oh; i++)
        {
            float* top = dz + (nint)2 * i * w, bottom = top + w;
            float* g = dy + (nint)i * ow;
            byte* c = code + (nint)i * ow;
            for (int j = 0; ; j += V)
            {
                if (j > ow - V) j = ow - V;
                Vector128<float> v = Vector128.Load(g + j) + Vector128<float>.Zero;
                Vector128<int> k = LaneShuffles.WidenFourBytes(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<int>(c + j)).AsByte());
                Vector128<float> e0 = v & Vector128.Equals(k, Vector128<int>.Zero).AsSingle(), e1 = v & Vector128.Equals(k, one).AsSingle();
                Vector128<float> e2 = v & Vector128.Equals(k, two).AsSingle(), e3 = v & Vector128.Equals(k, three).AsSingle();
                LaneShuffles.ZipLow(e0, e1).Store(top + 2 * j);
                LaneShuffles.ZipHigh(e0, e1).Store(top + 2 * j + V);
                LaneShuffles.ZipLow(e2, e3).Store(bottom + 2 * j);
                LaneShuffles.ZipHigh(e2, e3).Store(bottom + 2 * j + V);
                if (j == ow - V) break;
            }
        }
    }
}
