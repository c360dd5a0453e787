using System.Numerics;
using System.Runtime.CompilerServices;
using Backprop.Kernels.Elementwise;

namespace Backprop.Kernels.Conv;

/// <summary>
/// One Winograd algorithm F(2×2, r×r): a 2×2 output tile from an n×n input patch, n = r + 1, as
/// Y = Aᵀ[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A. Each member is one of the transforms along one dimension; the 2-D ones apply it
/// to rows, then columns. <see cref="Winograd"/> drives them.
/// </summary>
internal unsafe interface IWinogradTile
{
    /// <summary>The filter's size r.</summary>
    static abstract int Kernel { get; }

    /// <summary>The patch's size n = r + 1.</summary>
    static abstract int Patch { get; }

    /// <summary>
    /// G·g in double: r taps (stride apart) to n values (stride apart), each a register of filters side by side. Plain
    /// multiplies, adds and divisions, so every width gives the same bits.
    /// </summary>
    static abstract void Filter<TW, TV>(double* g, nint gStride, double* r, nint rStride)
        where TW : ISimdWidth<double, TV>
        where TV : struct;

    /// <summary>Gᵀ·u, the transpose of <see cref="Filter{TW, TV}"/>: n values to r taps.</summary>
    static abstract void FilterBack<TW, TV>(double* u, nint uStride, double* r, nint rStride)
        where TW : ISimdWidth<double, TV>
        where TV : struct;

    /// <summary>
    /// Bᵀ·d on vectors (lanes are tiles): d_2j at even + j·step, d_2j+1 at odd + j·step; the n results to dst, stride apart.
    /// </summary>
    static abstract void Input<T, TW, TV>(T* even, T* odd, nint step, T* dst, nint stride)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct;

    /// <summary>Aᵀ·M·A of one vector of tiles: M's position (a, b) at m + (a·n + b)·stride.</summary>
    static abstract void Output<T, TW, TV>(T* m, nint stride, out TV y00, out TV y01, out TV y10, out TV y11)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct;

    /// <summary>A·dY·Aᵀ of one vector of tiles, dY = [y00 y01; y10 y11]: position (a, b) to dst + (a·n + b)·stride.</summary>
    static abstract void Gradient<T, TW, TV>(TV y00, TV y01, TV y10, TV y11, T* dst, nint stride)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct;
}

/// <summary>
/// F(2×2, 5×5), interpolation points 0, 1, −1, 2, −2 and ∞. With them Bᵀ has small integer entries (the same as
/// F(4×4, 3×3)'s); its row scales (4, −6, −6, 24, 24, 1) are moved into G. In float a convolution is within about
/// 2e-6 of the output's magnitude (the direct product: about 5e-7).
/// </summary>
internal unsafe struct Tile5x5 : IWinogradTile
{
    public static int Kernel => 5;

    public static int Patch => 6;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Filter<TW, TV>(double* g, nint gStride, double* r, nint rStride)
        where TW : ISimdWidth<double, TV>
        where TV : struct
    {
        TV g0 = TW.Load(g), g1 = TW.Load(g + gStride), g2 = TW.Load(g + 2 * gStride), g3 = TW.Load(g + 3 * gStride), g4 = TW.Load(g + 4 * gStride);
        TV even = TW.Add(TW.Add(g0, g2), g4), odd = TW.Add(g1, g3);
        TV even2 = TW.Add(TW.Add(g0, TW.Mul(TW.Splat(4), g2)), TW.Mul(TW.Splat(16), g4));
        TV odd2 = TW.Add(TW.Mul(TW.Splat(2), g1), TW.Mul(TW.Splat(8), g3));
        TV six = TW.Splat(6), twentyFour = TW.Splat(24);
        TW.Store(r, TW.Div(g0, TW.Splat(4)));
        TW.Store(r + rStride, TW.Div(TW.Neg(TW.Add(even, odd)), six));
        TW.Store(r + 2 * rStride, TW.Div(TW.Neg(TW.Sub(even, odd)), six));
        TW.Store(r + 3 * rStride, TW.Div(TW.Add(even2, odd2), twentyFour));
        TW.Store(r + 4 * rStride, TW.Div(TW.Sub(even2, odd2), twentyFour));
        TW.Store(r + 5 * rStride, g4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FilterBack<TW, TV>(double* u, nint uStride, double* r, nint rStride)
        where TW : ISimdWidth<double, TV>
        where TV : struct
    {
        TV u0 = TW.Load(u), u1 = TW.Load(u + uStride), u2 = TW.Load(u + 2 * uStride);
        TV u3 = TW.Load(u + 3 * uStride), u4 = TW.Load(u + 4 * uStride), u5 = TW.Load(u + 5 * uStride);
        TV six = TW.Splat(6), twentyFour = TW.Splat(24);
        TV plus = TW.Div(TW.Neg(TW.Add(u1, u2)), six), minus = TW.Div(TW.Neg(TW.Sub(u1, u2)), six);
        TV plus2 = TW.Div(TW.Add(u3, u4), twentyFour), minus2 = TW.Div(TW.Sub(u3, u4), twentyFour);
        TW.Store(r, TW.Add(TW.Add(TW.Div(u0, TW.Splat(4)), plus), plus2));
        TW.Store(r + rStride, TW.Add(minus, TW.Mul(TW.Splat(2), minus2)));
        TW.Store(r + 2 * rStride, TW.Add(plus, TW.Mul(TW.Splat(4), plus2)));
        TW.Store(r + 3 * rStride, TW.Add(minus, TW.Mul(TW.Splat(8), minus2)));
        TW.Store(r + 4 * rStride, TW.Add(TW.Add(plus, TW.Mul(TW.Splat(16), plus2)), u5));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input<T, TW, TV>(T* even, T* odd, nint step, T* r, nint stride)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        TV d0 = TW.Load(even), d1 = TW.Load(odd), d2 = TW.Load(even + step), d3 = TW.Load(odd + step);
        TV d4 = TW.Load(even + 2 * step), d5 = TW.Load(odd + 2 * step);
        TV four = TW.Splat(T.CreateTruncating(4)), minusFour = TW.Splat(T.CreateTruncating(-4)), minusFive = TW.Splat(T.CreateTruncating(-5));
        TV two = TW.Splat(T.CreateTruncating(2)), minusTwo = TW.Splat(T.CreateTruncating(-2));
        TV d42 = TW.Sub(d4, d2), d31 = TW.Sub(d3, d1);
        TW.Store(r, TW.MulAdd(four, d0, TW.MulAdd(minusFive, d2, d4)));
        TW.Store(r + stride, TW.MulAdd(minusFour, TW.Add(d1, d2), TW.Add(d3, d4)));
        TW.Store(r + 2 * stride, TW.MulAdd(four, TW.Sub(d1, d2), TW.Sub(d4, d3)));
        TW.Store(r + 3 * stride, TW.MulAdd(two, d31, d42));
        TW.Store(r + 4 * stride, TW.MulAdd(minusTwo, d31, d42));
        TW.Store(r + 5 * stride, TW.MulAdd(four, d1, TW.MulAdd(minusFive, d3, d5)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output<T, TW, TV>(T* m, nint stride, out TV y00, out TV y01, out TV y10, out TV y11)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        // Aᵀ·M column by column (z0, z1: its two rows), each folded into the outputs by Aᵀ's rows [1 1 1 1 1 0] and [0 1 −1 2 −2 1]
        TV two = TW.Splat(T.CreateTruncating(2));
        Column<T, TW, TV>(m, stride, two, out TV z0, out TV z1);
        y00 = z0; y10 = z1;
        Column<T, TW, TV>(m + stride, stride, two, out z0, out z1);
        y00 = TW.Add(y00, z0); y10 = TW.Add(y10, z1);
        y01 = z0; y11 = z1;
        Column<T, TW, TV>(m + 2 * stride, stride, two, out z0, out z1);
        y00 = TW.Add(y00, z0); y10 = TW.Add(y10, z1);
        y01 = TW.Sub(y01, z0); y11 = TW.Sub(y11, z1);
        Column<T, TW, TV>(m + 3 * stride, stride, two, out TV w0, out TV w1);
        Column<T, TW, TV>(m + 4 * stride, stride, two, out z0, out z1);
        y00 = TW.Add(y00, TW.Add(w0, z0)); y10 = TW.Add(y10, TW.Add(w1, z1));
        y01 = TW.MulAdd(two, TW.Sub(w0, z0), y01); y11 = TW.MulAdd(two, TW.Sub(w1, z1), y11);
        Column<T, TW, TV>(m + 5 * stride, stride, two, out z0, out z1);
        y01 = TW.Add(y01, z0); y11 = TW.Add(y11, z1);
    }

    /// <summary>Rows 0 and 1 of Aᵀ·M for one column of the patches (m at its first row; rows 6 positions apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column<T, TW, TV>(T* m, nint stride, TV two, out TV z0, out TV z1)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        TV m0 = TW.Load(m), m1 = TW.Load(m + 6 * stride), m2 = TW.Load(m + 12 * stride);
        TV m3 = TW.Load(m + 18 * stride), m4 = TW.Load(m + 24 * stride), m5 = TW.Load(m + 30 * stride);
        z0 = TW.Add(TW.Add(m0, TW.Add(m1, m2)), TW.Add(m3, m4));
        z1 = TW.MulAdd(two, TW.Sub(m3, m4), TW.Add(TW.Sub(m1, m2), m5));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Gradient<T, TW, TV>(TV y00, TV y01, TV y10, TV y11, T* dst, nint stride)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        // each row's 2 values to 6 (Aᵀ's columns: [1 0] [1 1] [1 −1] [1 2] [1 −2] [0 1]), then the same down the columns
        TV two = TW.Splat(T.CreateTruncating(2)), minusTwo = TW.Splat(T.CreateTruncating(-2));
        GradientColumn<T, TW, TV>(y00, y10, two, minusTwo, dst, stride);
        GradientColumn<T, TW, TV>(TW.Add(y00, y01), TW.Add(y10, y11), two, minusTwo, dst + stride, stride);
        GradientColumn<T, TW, TV>(TW.Sub(y00, y01), TW.Sub(y10, y11), two, minusTwo, dst + 2 * stride, stride);
        GradientColumn<T, TW, TV>(TW.MulAdd(two, y01, y00), TW.MulAdd(two, y11, y10), two, minusTwo, dst + 3 * stride, stride);
        GradientColumn<T, TW, TV>(TW.MulAdd(minusTwo, y01, y00), TW.MulAdd(minusTwo, y11, y10), two, minusTwo, dst + 4 * stride, stride);
        GradientColumn<T, TW, TV>(y01, y11, two, minusTwo, dst + 5 * stride, stride);
    }

    /// <summary>Column b of A·dY·Aᵀ from its two rows' values r0, r1: positions a·6 + b, a = 0..5 (dst is at b).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradientColumn<T, TW, TV>(TV r0, TV r1, TV two, TV minusTwo, T* dst, nint stride)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        TW.Store(dst, r0);
        TW.Store(dst + 6 * stride, TW.Add(r0, r1));
        TW.Store(dst + 12 * stride, TW.Sub(r0, r1));
        TW.Store(dst + 18 * stride, TW.MulAdd(two, r1, r0));
        TW.Store(dst + 24 * stride, TW.MulAdd(minusTwo, r1, r0));
        TW.Store(dst + 30 * stride, r1);
    }
}

/// <summary>
/// F(2×2, 3×3), interpolation points 0, 1, −1 and ∞: Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 −1 0 1] (rows 1 and 2
/// scaled by 2, the halves moved into G), Aᵀ = [1 1 1 0; 0 1 −1 1]. 16 products per tile and channel pair
/// instead of 36; in float about as accurate as the direct product.
/// </summary>
internal unsafe struct Tile3x3 : IWinogradTile
{
    public static int Kernel => 3;

    public static int Patch => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Filter<TW, TV>(double* g, nint gStride, double* r, nint rStride)
        where TW : ISimdWidth<double, TV>
        where TV : struct
    {
        TV g0 = TW.Load(g), g1 = TW.Load(g + gStride), g2 = TW.Load(g + 2 * gStride), two = TW.Splat(2);
        TW.Store(r, g0);
        TW.Store(r + rStride, TW.Div(TW.Add(TW.Add(g0, g1), g2), two));
        TW.Store(r + 2 * rStride, TW.Div(TW.Add(TW.Sub(g0, g1), g2), two));
        TW.Store(r + 3 * rStride, g2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FilterBack<TW, TV>(double* u, nint uStride, double* r, nint rStride)
        where TW : ISimdWidth<double, TV>
        where TV : struct
    {
        TV u0 = TW.Load(u), u1 = TW.Load(u + uStride), u2 = TW.Load(u + 2 * uStride), u3 = TW.Load(u + 3 * uStride), two = TW.Splat(2);
        TV plus = TW.Div(TW.Add(u1, u2), two);
        TW.Store(r, TW.Add(u0, plus));
        TW.Store(r + rStride, TW.Div(TW.Sub(u1, u2), two));
        TW.Store(r + 2 * rStride, TW.Add(plus, u3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input<T, TW, TV>(T* even, T* odd, nint step, T* r, nint stride)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        TV d0 = TW.Load(even), d1 = TW.Load(odd), d2 = TW.Load(even + step), d3 = TW.Load(odd + step);
        TW.Store(r, TW.Sub(d0, d2));
        TW.Store(r + stride, TW.Add(d1, d2));
        TW.Store(r + 2 * stride, TW.Sub(d2, d1));
        TW.Store(r + 3 * stride, TW.Sub(d3, d1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output<T, TW, TV>(T* m, nint stride, out TV y00, out TV y01, out TV y10, out TV y11)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        // Aᵀ·M column by column (rows [1 1 1 0] and [0 1 −1 1]), then the same across the columns
        Column<T, TW, TV>(m, stride, out TV a0, out TV a1);
        Column<T, TW, TV>(m + stride, stride, out TV b0, out TV b1);
        Column<T, TW, TV>(m + 2 * stride, stride, out TV c0, out TV c1);
        Column<T, TW, TV>(m + 3 * stride, stride, out TV d0, out TV d1);
        y00 = TW.Add(TW.Add(a0, b0), c0);
        y01 = TW.Add(TW.Sub(b0, c0), d0);
        y10 = TW.Add(TW.Add(a1, b1), c1);
        y11 = TW.Add(TW.Sub(b1, c1), d1);
    }

    /// <summary>Rows 0 and 1 of Aᵀ·M for one column of the patches (rows 4 positions apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column<T, TW, TV>(T* m, nint stride, out TV z0, out TV z1)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        TV m0 = TW.Load(m), m1 = TW.Load(m + 4 * stride), m2 = TW.Load(m + 8 * stride), m3 = TW.Load(m + 12 * stride);
        z0 = TW.Add(TW.Add(m0, m1), m2);
        z1 = TW.Add(TW.Sub(m1, m2), m3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Gradient<T, TW, TV>(TV y00, TV y01, TV y10, TV y11, T* dst, nint stride)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        // each row's 2 values to 4 (Aᵀ's columns: [1 0] [1 1] [1 −1] [0 1]), then the same down the columns
        GradientColumn<T, TW, TV>(y00, y10, dst, stride);
        GradientColumn<T, TW, TV>(TW.Add(y00, y01), TW.Add(y10, y11), dst + stride, stride);
        GradientColumn<T, TW, TV>(TW.Sub(y00, y01), TW.Sub(y10, y11), dst + 2 * stride, stride);
        GradientColumn<T, TW, TV>(y01, y11, dst + 3 * stride, stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradientColumn<T, TW, TV>(TV r0, TV r1, T* dst, nint stride)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        TW.Store(dst, r0);
        TW.Store(dst + 4 * stride, TW.Add(r0, r1));
        TW.Store(dst + 8 * stride, TW.Sub(r0, r1));
        TW.Store(dst + 12 * stride, r1);
    }
}
