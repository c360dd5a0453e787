using System.Runtime.CompilerServices;

namespace Backprop.Kernels.Gemm;

/// <summary>
/// Where a micro-kernel reads the MR values of A it needs at each depth step: from a packed
/// panel (<see cref="PackedA{T}"/>) or straight from A's rows (<see cref="RowsA{T}"/>). The kernels
/// are generic over it, so each form compiles to its own loop with no indirection.
/// </summary>
internal unsafe interface IPanelA<T> where T : unmanaged
{
    /// <summary>A(i, p) for row i of the tile at the current depth p.</summary>
    T this[int i] { get; }

    /// <summary>Moves to depth p + 1.</summary>
    void Next();
}

/// <summary>A packed panel: MR values per depth step, stored one step after another.</summary>
internal unsafe struct PackedA<T>(T* panel, int mr) : IPanelA<T> where T : unmanaged
{
    private T* _p = panel;

    public readonly T this[int i]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _p[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Next() => _p += mr;
}

/// <summary>
/// A row-major A read in place: row i at <c>first + i·lda</c>, contiguous along the depth. Saves
/// packing an A that is not transposed; each row is one sequential stream.
/// </summary>
internal unsafe struct RowsA<T>(T* first, nint lda) : IPanelA<T> where T : unmanaged
{
    private T* _p = first;

    public readonly T this[int i]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _p[i * lda];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Next() => _p++;
}
