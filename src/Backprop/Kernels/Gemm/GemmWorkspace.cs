using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Kernels.Gemm;

/// <summary>
/// Per-thread packing buffers, 64-byte aligned, allocated on the pinned object heap once and
/// grown on demand: steady-state GEMM calls allocate nothing.
/// </summary>
internal static unsafe class GemmWorkspace
{
    [ThreadStatic] private static byte[]? t_a, t_b;

    /// <summary>Scratch for packed A, at least <paramref name="bytes"/> long.</summary>
    public static void* A(nint bytes) => Get(ref t_a, bytes);

    /// <summary>Scratch for packed B, at least <paramref name="bytes"/> long.</summary>
    public static void* B(nint bytes) => Get(ref t_b, bytes);

    private static void* Get(ref byte[]? buffer, nint bytes)
    {
        if (buffer is null || buffer.Length - 64 < bytes)
            buffer = GC.AllocateUninitializedArray<byte>((int)Math.Max(bytes + 64, 4096), pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (void*)((address + 63) & ~(nint)63);
    }
}
