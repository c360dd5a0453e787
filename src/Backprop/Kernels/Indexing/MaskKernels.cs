namespace Backprop.Kernels.Indexing;

/// <summary>Selecting by a mask of bytes 0/1 (the bytes of a bool tensor) and its inverse.</summary>
internal static class MaskKernels
{
    /// <summary>Number of ones in the mask.</summary>
    public static int CountSet(ReadOnlySpan<byte> mask) => mask.Length - mask.Count((byte)0);

    /// <summary>dst = the elements of src where mask is 1, in order (dst has <see cref="CountSet"/> elements).</summary>
    public static void Select<T>(ReadOnlySpan<T> src, ReadOnlySpan<byte> mask, Span<T> dst) where T : unmanaged
    {
        int k = 0, i = 0;
        while (k < dst.Length)
        {
            // Runs of ones are copied as blocks: a mask usually keeps or drops whole stretches.
            int start = mask.Slice(i).IndexOf((byte)1);
            if (start < 0) break;
            i += start;
            int run = mask.Slice(i).IndexOf((byte)0);
            if (run < 0) run = mask.Length - i;
            src.Slice(i, run).CopyTo(dst.Slice(k, run));
            k += run;
            i += run;
        }
    }

    /// <summary>dst[i] = the next element of src where mask[i] is 1, 0 elsewhere: the inverse of <see cref="Select{T}"/>.</summary>
    public static void Scatter<T>(ReadOnlySpan<T> src, ReadOnlySpan<byte> mask, Span<T> dst) where T : unmanaged
    {
        dst.Clear();
        int k = 0, i = 0;
        while (k < src.Length)
        {
            int start = mask.Slice(i).IndexOf((byte)1);
            if (start < 0) break;
            i += start;
            int run = mask.Slice(i).IndexOf((byte)0);
            if (run < 0) run = mask.Length - i;
            src.Slice(k, run).CopyTo(dst.Slice(i, run));
            k += run;
            i += run;
        }
    }
}
