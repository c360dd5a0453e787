using Backprop.Tensors;

namespace Backprop.Data;

/// <summary>How batch sources hand their freshly made tensors to the consumer's step scope.</summary>
internal static class BatchOwnership
{
    /// <summary>
    /// A batch tensor made since <paramref name="mark"/> (<see cref="Storage.LastSerial"/> before the batch
    /// was made) outside any scope may be adopted by the consumer's step scope, so its buffer is recycled
    /// with the step (<see cref="Memory.TensorScope.Begin(ReadOnlySpan{Tensor})"/>); views of data a
    /// source keeps never are.
    /// </summary>
    public static void Offer(Tensor t, long mark)
    {
        Storage s = t.Storage;
        if (s.Serial > mark && s.Scope is null && t.Offset == 0 && t.Numel == s.Length) s.Adoptable = true;
    }
}
