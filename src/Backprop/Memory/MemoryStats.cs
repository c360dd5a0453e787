using Backprop.Tensors;

namespace Backprop.Memory;

/// <summary>
/// Bytes of tensor storage that the calling thread's open <see cref="TensorScope"/>s own right now, and
/// the most they owned since <see cref="ResetPeak"/>: for a training step run inside a scope, the memory
/// of its activations (forward outputs, tensors saved for backward, temporaries) and of its gradients in
/// flight, everything made in the step that has not gone back to the buffer pool yet. The CPU analogue of
/// PyTorch's <c>torch.cuda.memory_allocated()</c>, <c>max_memory_allocated()</c> and
/// <c>reset_peak_memory_stats()</c>, restricted to scope-owned memory.
/// </summary>
/// <remarks>
/// Counted: every storage of at least 1,024 elements (<c>BufferPool.MinLength</c>) from the moment a
/// scope owns it (it was made while the scope was open, or adopted from a data loader) until it is
/// recycled (the scope ended, or the backward engine recycled a consumed gradient), stored into a
/// longer-lived object (a parameter, <see cref="Tensor.Grad"/>, optimizer state, a module buffer) or
/// kept past the outermost scope. Not counted: smaller buffers, tensors made outside any scope,
/// parameters, gradients and optimizer state. Per thread, like scopes: the figures are the calling
/// thread's. Keeping them costs one thread-local addition per scope-owned storage.
/// </remarks>
public static class MemoryStats
{
    [ThreadStatic] private static long t_live;
    [ThreadStatic] private static long t_peak;

    /// <summary>Bytes of storage the calling thread's open scopes own now.</summary>
    public static long ScopedBytes => t_live;

    /// <summary>The most <see cref="ScopedBytes"/> has been since the last <see cref="ResetPeak"/> (or since the thread started).</summary>
    public static long PeakScopedBytes => t_peak;

    /// <summary>Starts a new high-water mark at the current <see cref="ScopedBytes"/> (call it before the step to measure).</summary>
    public static void ResetPeak() => t_peak = t_live;

    /// <summary>A storage of <paramref name="bytes"/> became scope-owned (positive) or stopped being so (negative).</summary>
    internal static void Count(long bytes)
    {
        long now = t_live += bytes;
        if (now > t_peak) t_peak = now;
    }
}
