using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop.Kernels.Recurrent;

/// <summary>The pointwise part of one Elman RNN step (tanh or ReLU) for one batch row and a run of n hidden units.</summary>
internal static unsafe class RnnCellKernel
{
    /// <summary>h' = tanh(pre) or max(pre, 0), written over the pre-activations in <paramref name="gates"/>, to <paramref name="h"/> and to <paramref name="output"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<T>(int n, bool relu, T* gates, T* h, T* output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = Forward<Lanes512<T>, T>(0, n, relu, gates, h, output);
        j = Forward<Lanes256<T>, T>(j, n, relu, gates, h, output);
        j = Forward<Lanes128<T>, T>(j, n, relu, gates, h, output);
        Forward<Lanes1<T>, T>(j, n, relu, gates, h, output);
    }

    /// <summary>
    /// With dh = <paramref name="dh"/> + <paramref name="dOut"/> and y = h': d(pre) = dh·(1 − y²) (tanh) or dh
    /// where y &gt; 0 (ReLU) into <paramref name="dGates"/>; dh ← 0 (the recurrent product gives the previous state's gradient).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<T>(int n, bool relu, T* gates, T* dh, T* dOut, T* dGates) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = Backward<Lanes512<T>, T>(0, n, relu, gates, dh, dOut, dGates);
        j = Backward<Lanes256<T>, T>(j, n, relu, gates, dh, dOut, dGates);
        j = Backward<Lanes128<T>, T>(j, n, relu, gates, dh, dOut, dGates);
        Backward<Lanes1<T>, T>(j, n, relu, gates, dh, dOut, dGates);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Forward<TV, T>(int j, int n, bool relu, T* gates, T* h, T* output)
        where TV : struct, ILanes<TV, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!TV.IsAccelerated) return j;
        for (; j + TV.Count <= n; j += TV.Count)
        {
            TV pre = TV.Load(gates + j);
            TV y = relu ? TV.Relu(pre) : TV.Tanh(pre);
            TV.Store(y, gates + j);
            TV.Store(y, h + j);
            TV.Store(y, output + j);
        }
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Backward<TV, T>(int j, int n, bool relu, T* gates, T* dh, T* dOut, T* dGates)
        where TV : struct, ILanes<TV, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!TV.IsAccelerated) return j;
        TV one = TV.Splat(T.One), zero = TV.Splat(T.Zero);
        for (; j + TV.Count <= n; j += TV.Count)
        {
            TV y = TV.Load(gates + j);
            TV dhv = TV.Load(dh + j) + TV.Load(dOut + j);
            TV.Store(relu ? TV.ReluGrad(y, dhv) : dhv * (one - y * y), dGates + j);
            TV.Store(zero, dh + j);
        }
        return j;
    }
}
