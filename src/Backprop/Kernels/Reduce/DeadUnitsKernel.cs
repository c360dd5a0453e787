using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels.Reduce;

/// <summary>
/// Counts dead units in a batch of activations: units whose value is zero for every example (ReLU outputs
/// that pass no gradient for the whole batch). SIMD magnitude maxima (<see cref="TensorPrimitives"/>); a NaN
/// counts as alive.
/// </summary>
internal static class DeadUnitsKernel
{
    /// <summary>
    /// y as [rows, units]: how many columns are zero in every row. <paramref name="scratch"/> holds
    /// <paramref name="units"/> elements (overwritten).
    /// </summary>
    public static int DeadColumns<T>(ReadOnlySpan<T> y, int rows, int units, Span<T> scratch) where T : unmanaged, INumberBase<T>
    {
        Span<T> peak = scratch[..units];
        peak.Clear();
        for (int r = 0; r < rows; r++)
            TensorPrimitives.MaxMagnitude(peak, y.Slice(r * units, units), peak);
        int dead = 0;
        foreach (T v in peak)
            if (v == T.Zero) dead++;
        return dead;
    }

    /// <summary>y as [batch, units, inner] (e.g. [N, C, H·W]): how many units are zero at every position of every example.</summary>
    public static int DeadChannels<T>(ReadOnlySpan<T> y, int batch, int units, int inner) where T : unmanaged, INumberBase<T>
    {
        if (inner == 0) return units;
        int dead = 0;
        for (int u = 0; u < units; u++)
        {
            bool alive = false;
            for (int n = 0; n < batch && !alive; n++)
                alive = TensorPrimitives.MaxMagnitude(y.Slice((n * units + u) * inner, inner)) != T.Zero;
            if (!alive) dead++;
        }
        return dead;
    }
}
