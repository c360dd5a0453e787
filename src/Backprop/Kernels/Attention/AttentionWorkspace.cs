using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Kernels.Attention;

/// <summary>
/// Per-thread scratch for one attention slice (Kᵀ or Vᵀ, the score and gradient matrices), 64-byte
/// aligned on the pinned object heap, allocated once and grown on demand: steady calls allocate nothing.
/// </summary>
internal static unsafe class AttentionWorkspace
{
    [ThreadStatic] private static byte[]? t_buffer;

    /// <summary>Scratch of at least <paramref name="bytes"/> bytes for the calling thread (valid until its next call).</summary>
    public static void* Get(nint bytes)
    {
        if (t_buffer is null || t_buffer.Length - 64 < bytes)
            t_buffer = GC.AllocateUninitializedArray<byte>((int)Math.Max(bytes + 64, 4096), pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(t_buffer));
        return (void*)((address + 63) & ~(nint)63);
    }
}
