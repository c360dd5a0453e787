using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Backprop.Kernels.Gemm;

namespace Backprop.Kernels.Conv;

/// <summary>
/// im2col without the column matrix: pads a block of images (one group's channels) into a scratch
/// buffer and describes column matrix entry (p, j) as an offset into it, so the GEMM packs its B
/// panels from the images directly. Row p = (c·KH + ki)·KW + kj, column j = i·OH·OW + oh·OW + ow of
/// image i of the block; the value is padded[i][c][oh·SH + ki·DH][ow·SW + kj·DW].
/// <para>
/// A plain per-thread workspace: one per thread and element type, its buffers on the pinned object
/// heap (the GEMM keeps pointers into them) and grown on demand, so they go with the thread and need
/// no finalizer. While the geometry stays the same (every block of every step of a layer) the borders
/// stay zero and the offsets stay valid; another geometry clears the buffer and recomputes them.
/// </para>
/// </summary>
internal sealed unsafe class ImplicitColumns<T> where T : unmanaged
{
    [ThreadStatic] private static ImplicitColumns<T>? t_current;

    private T[] _paddedArray = [];
    private int[] _offsetArray = [];
    private T* _padded;    // the pinned arrays above
    private int* _offsets; // k row offsets, then block·L column offsets
    private Window2d _g;
    private int _cg, _block, _hp, _wp, _imageSize, _k;
    private int _columnsFor; // images whose column offsets are in _offsets (0: none yet)

    private ImplicitColumns() { }

    /// <summary>This thread's workspace, set up for the geometry and blocks of up to <paramref name="block"/> images of <paramref name="channels"/> channels.</summary>
    public static ImplicitColumns<T> ForThread(in Window2d g, int channels, int block)
    {
        ImplicitColumns<T> cur = t_current ??= new ImplicitColumns<T>();
        if (cur._block == 0 || cur._g != g || cur._cg != channels || cur._block < block) cur.Configure(g, channels, block);
        return cur;
    }

    private void Configure(in Window2d g, int channels, int block)
    {
        _g = g;
        _cg = channels;
        _block = block;
        _hp = g.H + 2 * g.PH;
        _wp = g.W + 2 * g.PW;
        _imageSize = channels * _hp * _wp;
        _k = channels * g.KH * g.KW;
        int padded = Math.Max(1, block * _imageSize), offsets = Math.Max(1, _k + block * g.OH * g.OW);
        if (_paddedArray.Length < padded)
        {
            _paddedArray = GC.AllocateArray<T>(padded, pinned: true);
            _padded = (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_paddedArray));
        }
        else
            new Span<T>(_padded, padded).Clear(); // borders must be zero; interiors are overwritten per block
        if (_offsetArray.Length < offsets)
        {
            _offsetArray = GC.AllocateUninitializedArray<int>(offsets, pinned: true);
            _offsets = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_offsetArray));
        }
        int row = 0;
        for (int c = 0; c < channels; c++)
            for (int ki = 0; ki < g.KH; ki++)
                for (int kj = 0; kj < g.KW; kj++)
                    _offsets[row++] = (c * _hp + ki * g.DH) * _wp + kj * g.DW;
        _columnsFor = 0;
    }

    /// <summary>
    /// The [K, nb·OH·OW] column matrix of images [img0, img0 + nb) of x ([N, C, H, W]), channels of
    /// group grp; valid until the next call on this thread.
    /// </summary>
    public GemmGatherB<T> Columns(T* x, int c, int img0, int nb, int grp)
    {
        Window2d g = _g;
        int l = g.OH * g.OW, plane = g.H * g.W;
        for (int i = 0; i < nb; i++)
            for (int ch = 0; ch < _cg; ch++)
            {
                T* src = x + (nint)((img0 + i) * c + grp * _cg + ch) * plane;
                T* dst = _padded + (nint)i * _imageSize + ((nint)ch * _hp + g.PH) * _wp + g.PW;
                for (int h = 0; h < g.H; h++)
                    new ReadOnlySpan<T>(src + h * g.W, g.W).CopyTo(new Span<T>(dst + (nint)h * _wp, g.W));
            }
        if (_columnsFor < nb)
        {
            int* cols = _offsets + _k;
            for (int i = _columnsFor; i < nb; i++)
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                        cols[i * l + oh * g.OW + ow] = i * _imageSize + oh * g.SH * _wp + ow * g.SW;
            _columnsFor = nb;
        }
        return new GemmGatherB<T>(_padded, _offsets, _offsets + _k);
    }
}
