using Backprop.Tensors;

namespace Backprop.Data;

/// <summary>
/// Where a <see cref="Training.Trainer"/> gets its training batches: a fixed number of batches per
/// epoch, and the batches of any epoch, in order, from any batch on. The batches of epoch e must depend
/// only on the source's settings and e (not on what was read before), so that a run resumed at an
/// epoch, or in the middle of one, sees exactly the batches an uninterrupted run would.
/// <see cref="DataLoader"/>, <see cref="TextWindows"/> and <see cref="TextStreams"/> are sources.
/// </summary>
public interface IBatchSource
{
    /// <summary>Batches per epoch.</summary>
    int BatchCount { get; }

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/> (from 0), starting with batch
    /// <paramref name="startBatch"/> (from 0): the same tensors values as the same positions of the whole
    /// epoch. Tensors made for a batch belong to the consumer: a <see cref="Memory.TensorScope"/> begun
    /// with them adopts them (<see cref="Memory.TensorScope.Begin(System.ReadOnlySpan{Tensor})"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="startBatch"/> is outside [0, <see cref="BatchCount"/>].</exception>
    IEnumerable<(Tensor Inputs, Tensor Targets)> Epoch(int epoch, int startBatch = 0);
}
