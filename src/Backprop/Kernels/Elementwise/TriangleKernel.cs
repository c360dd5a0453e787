namespace Backprop.Kernels.Elementwise;

/// <summary>
/// Keeps the upper or lower triangle of each [rows, cols] matrix of a contiguous batch and zeroes the
/// rest (PyTorch's triu/tril): element (i, j) is kept when j − i ≥ diagonal (upper) or j − i ≤ diagonal
/// (lower). Each row is one kept run copied and the rest cleared, so the work is two block moves a row.
/// </summary>
internal static class TriangleKernel
{
    /// <summary>y = triu(x, diagonal) or tril(x, diagonal) over <paramref name="matrices"/> row-major [rows, cols] matrices.</summary>
    public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int matrices, int rows, int cols, long diagonal, bool upper)
        where T : unmanaged
    {
        long need = (long)matrices * rows * cols;
        if (x.Length < need || y.Length < need)
            throw new ArgumentException($"TriangleKernel: {matrices} matrices of [{rows}, {cols}] need {need} elements, got x {x.Length} and y {y.Length}");
        for (int m = 0; m < matrices; m++)
            for (int i = 0; i < rows; i++)
            {
                int row = (m * rows + i) * cols;
                // Kept columns: [start, end) — j ≥ i + diagonal for upper, j ≤ i + diagonal for lower.
                long start = upper ? Math.Clamp(i + diagonal, 0, cols) : 0;
                long end = upper ? cols : Math.Clamp(i + diagonal + 1, 0, cols);
                if (end < start) end = start;
                y.Slice(row, (int)start).Clear();
                x.Slice(row + (int)start, (int)(end - start)).CopyTo(y.Slice(row + (int)start, (int)(end - start)));
                y.Slice(row + (int)end, cols - (int)end).Clear();
            }
    }
}
