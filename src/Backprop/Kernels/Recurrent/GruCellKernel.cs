using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop.Kernels.Recurrent;

/// <summary>
/// The pointwise part of one GRU step for one batch row and a run of n hidden units, forward and
/// backward. Gates r, z, n of unit u sit at gates[u], gates[s + u], gates[2s + u] (s = the hidden size).
/// The n gate keeps its two halves apart, as PyTorch's GRU: n = tanh(W_in x + b_in + r·(W_hn h + b_hn)).
/// </summary>
internal static unsafe class GruCellKernel
{
    /// <summary>
    /// r = σ(gates r), z = σ(gates z) (their pre-activations hold both projections and both biases);
    /// hn ← hn + b_hn (hn holds h·W_hnᵀ); n = tanh(gates n + r·hn) (gates n holds W_in x + b_in);
    /// h' = (1 − z)·n + z·h, written to <paramref name="h"/> and <paramref name="output"/>; r, z, n written
    /// back over the gates.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<T>(int n, T* gates, nint s, T* hn, T* biasHn, T* hPrev, T* h, T* output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = Forward<Lanes512<T>, T>(0, n, gates, s, hn, biasHn, hPrev, h, output);
        j = Forward<Lanes256<T>, T>(j, n, gates, s, hn, biasHn, hPrev, h, output);
        j = Forward<Lanes128<T>, T>(j, n, gates, s, hn, biasHn, hPrev, h, output);
        Forward<Lanes1<T>, T>(j, n, gates, s, hn, biasHn, hPrev, h, output);
    }

    /// <summary>
    /// With dh = <paramref name="dh"/> + <paramref name="dOut"/>: dn = dh·(1 − z)·(1 − n²) (the gradient of
    /// n's pre-activation, also that of W_in x + b_in), dz = dh·(h − n)·z(1 − z), dr = dn·hn·r(1 − r) into
    /// <paramref name="dGates"/>; d(hn) = dn·r into <paramref name="dHn"/> (the gradient of W_hn h + b_hn);
    /// dh ← dh·z, the direct part of the previous state's gradient (the recurrent product adds the rest).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<T>(int n, T* gates, nint s, T* hn, T* hPrev, T* dh, T* dOut, T* dGates, T* dHn) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = Backward<Lanes512<T>, T>(0, n, gates, s, hn, hPrev, dh, dOut, dGates, dHn);
        j = Backward<Lanes256<T>, T>(j, n, gates, s, hn, hPrev, dh, dOut, dGates, dHn);
        j = Backward<Lanes128<T>, T>(j, n, gates, s, hn, hPrev, dh, dOut, dGates, dHn);
        Backward<Lanes1<T>, T>(j, n, gates, s, hn, hPrev, dh, dOut, dGates, dHn);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Forward<TV, T>(int j, int n, T* gates, nint s, T* hn, T* biasHn, T* hPrev, T* h, T* output)
        where TV : struct, ILanes<TV, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!TV.IsAccelerated) return j;
        for (; j + TV.Count <= n; j += TV.Count)
        {
            T* gj = gates + j;
            TV r = TV.Sigmoid(TV.Load(gj)), z = TV.Sigmoid(TV.Load(gj + s));
            TV hnv = TV.Load(hn + j) + TV.Load(biasHn + j);
            TV nv = TV.Tanh(TV.Load(gj + 2 * s) + r * hnv);
            TV h2 = nv + z * (TV.Load(hPrev + j) - nv);
            TV.Store(r, gj);
            TV.Store(z, gj + s);
            TV.Store(nv, gj + 2 * s);
            TV.Store(hnv, hn + j);
            TV.Store(h2, h + j);
            TV.Store(h2, output + j);
        }
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Backward<TV, T>(int j, int n, T* gates, nint s, T* hn, T* hPrev, T* dh, T* dOut, T* dGates, T* dHn)
        where TV : struct, ILanes<TV, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!TV.IsAccelerated) return j;
        TV one = TV.Splat(T.One);
        for (; j + TV.Count <= n; j += TV.Count)
        {
            T* gj = gates + j;
            T* dj = dGates + j;
            TV r = TV.Load(gj), z = TV.Load(gj + s), nv = TV.Load(gj + 2 * s);
            TV dhv = TV.Load(dh + j) + TV.Load(dOut + j);
            TV dn = dhv * (one - z) * (one - nv * nv);
            TV.Store(dn * TV.Load(hn + j) * r * (one - r), dj);
            TV.Store(dhv * (TV.Load(hPrev + j) - nv) * z * (one - z), dj + s);
            TV.Store(dn, dj + 2 * s);
            TV.Store(dn * r, dHn + j);
            TV.Store(dhv * z, dh + j);
        }
        return j;
    }
}
