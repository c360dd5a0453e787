using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop.Kernels.Recurrent;

/// <summary>
/// The pointwise part of one LSTM step for one batch row and a run of n hidden units, forward and
/// backward. The four gates of unit u sit at gates[u], gates[s + u], gates[2s + u], gates[3s + u]
/// (i, f, g, o; s = the hidden size, PyTorch's layout). Every width of <see cref="ILanes{TV, T}"/>
/// runs the same body; the scalar one finishes the row.
/// </summary>
internal static unsafe class LstmCellKernel
{
    /// <summary>
    /// From the pre-activations in <paramref name="gates"/> (x·W_ihᵀ + h·W_hhᵀ + biases): i = σ, f = σ,
    /// g = tanh, o = σ (written back over them), c' = f·c + i·g, h' = o·tanh(c'). Writes c', tanh(c')
    /// and h' (to <paramref name="h"/> and to <paramref name="output"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<T>(int n, T* gates, nint s, T* cPrev, T* c, T* tanhC, T* h, T* output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = Forward<Lanes512<T>, T>(0, n, gates, s, cPrev, c, tanhC, h, output);
        j = Forward<Lanes256<T>, T>(j, n, gates, s, cPrev, c, tanhC, h, output);
        j = Forward<Lanes128<T>, T>(j, n, gates, s, cPrev, c, tanhC, h, output);
        Forward<Lanes1<T>, T>(j, n, gates, s, cPrev, c, tanhC, h, output);
    }

    /// <summary>
    /// Given dh (the gradient of h', in <paramref name="dh"/>, plus <paramref name="dOut"/>, that of the
    /// step's output) and dc (the gradient of c' from the step after, in <paramref name="dc"/>):
    /// dc += dh·o·(1 − tanh²c'); the gate pre-activation gradients di = dc·g·i(1 − i), df = dc·c·f(1 − f),
    /// dg = dc·i·(1 − g²), do = dh·tanh c'·o(1 − o) into <paramref name="dGates"/> (same layout as the gates);
    /// dc ← dc·f, the gradient of the previous cell state; dh ← 0 (the recurrent product adds the rest).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<T>(int n, T* gates, nint s, T* tanhC, T* cPrev, T* dh, T* dOut, T* dc, T* dGates) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = Backward<Lanes512<T>, T>(0, n, gates, s, tanhC, cPrev, dh, dOut, dc, dGates);
        j = Backward<Lanes256<T>, T>(j, n, gates, s, tanhC, cPrev, dh, dOut, dc, dGates);
        j = Backward<Lanes128<T>, T>(j, n, gates, s, tanhC, cPrev, dh, dOut, dc, dGates);
        Backward<Lanes1<T>, T>(j, n, gates, s, tanhC, cPrev, dh, dOut, dc, dGates);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Forward<TV, T>(int j, int n, T* gates, nint s, T* cPrev, T* c, T* tanhC, T* h, T* output)
        where TV : struct, ILanes<TV, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!TV.IsAccelerated) return j;
        for (; j + TV.Count <= n; j += TV.Count)
        {
            T* gj = gates + j;
            TV i = TV.Sigmoid(TV.Load(gj)), f = TV.Sigmoid(TV.Load(gj + s)), g = TV.Tanh(TV.Load(gj + 2 * s)), o = TV.Sigmoid(TV.Load(gj + 3 * s));
            TV c2 = f * TV.Load(cPrev + j) + i * g;
            TV tc = TV.Tanh(c2);
            TV h2 = o * tc;
            TV.Store(i, gj);
            TV.Store(f, gj + s);
            TV.Store(g, gj + 2 * s);
            TV.Store(o, gj + 3 * s);
            TV.Store(c2, c + j);
            TV.Store(tc, tanhC + j);
            TV.Store(h2, h + j);
            TV.Store(h2, output + j);
        }
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Backward<TV, T>(int j, int n, T* gates, nint s, T* tanhC, T* cPrev, T* dh, T* dOut, T* dc, T* dGates)
        where TV : struct, ILanes<TV, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!TV.IsAccelerated) return j;
        TV one = TV.Splat(T.One), zero = TV.Splat(T.Zero);
        for (; j + TV.Count <= n; j += TV.Count)
        {
            T* gj = gates + j;
            T* dj = dGates + j;
            TV i = TV.Load(gj), f = TV.Load(gj + s), g = TV.Load(gj + 2 * s), o = TV.Load(gj + 3 * s);
            TV tc = TV.Load(tanhC + j);
            TV dhv = TV.Load(dh + j) + TV.Load(dOut + j);
            TV dcv = TV.Load(dc + j) + dhv * o * (one - tc * tc);
            TV.Store(dcv * g * i * (one - i), dj);
            TV.Store(dcv * TV.Load(cPrev + j) * f * (one - f), dj + s);
            TV.Store(dcv * i * (one - g * g), dj + 2 * s);
            TV.Store(dhv * tc * o * (one - o), dj + 3 * s);
            TV.Store(dcv * f, dc + j);
            TV.Store(zero, dh + j);
        }
        return j;
    }
}
