using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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

    /// <summary>A(i, p) in every lane of a 128-bit register.</summary>
    Vector128<T> Splat128(int i);

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
    public readonly Vector128<T> Splat128(int i) => Vector128.Create(_p[i]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Next() => _p += mr;
}

/// <summary>
/// A packed panel with every value stored as a whole 128-bit register of copies (MR registers per depth
/// step): the 128-bit kernel loads them instead of broadcasting, which on x86 without AVX costs a shuffle
/// per row and step on the ports the additions need.
/// </summary>
internal unsafe struct SplatA<T>(T* panel, int mr) : IPanelA<T> where T : unmanaged
{
    private T* _p = panel;
    private readonly nint _step = (nint)mr * Vector128<T>.Count;

    public readonly T this[int i]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _p[i * Vector128<T>.Count];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Vector128<T> Splat128(int i) => Vector128.Load(_p + i * Vector128<T>.Count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Next() => _p += _step;
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
    public readonly Vector128<T> Splat128(int i) => Vector128.Create(_p[i * lda]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Next() => _p++;
}
