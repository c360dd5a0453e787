namespace Backprop;

/// <summary>
/// Control over the buffer pool behind tensors. Training loops never need it: the library
/// recycles buffers by itself at its safe points (backward, ZeroGrad, Step, Sequential.Forward).
/// </summary>
public static class TensorMemory
{
    /// <summary>
    /// Recycles, now, the buffers of this thread's tensors that nothing references any more (runs a
    /// young-generation collection to find them), so the next tensors of the same sizes reuse them
    /// instead of fresh memory. Use it after dropping large tensors outside a training loop, e.g.
    /// between the calls a benchmark times, where PyTorch would free them with <c>del</c>.
    /// Call it where this thread holds no span over a tensor's elements.
    /// </summary>
    public static void Reclaim() => BufferPool.Reclaim();
}
