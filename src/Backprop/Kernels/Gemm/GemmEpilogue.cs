using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Elementwise;

namespace Backprop.Kernels.Gemm;

/// <summary>What the epilogue does to C after its last depth block.</summary>
internal enum GemmActivation : byte
{
    /// <summary>Nothing.</summary>
    None,

    /// <summary>C = max(C, 0).</summary>
    Relu,

    /// <summary>C is kept (the pre-activation h) and GELU(h) (exact, erf) is written to the auxiliary matrix.</summary>
    Gelu,

    /// <summary>C = C ∘ GELU′(h), with h read from the auxiliary matrix: the gradient through an exact GELU.</summary>
    GeluGrad,
}

/// <summary>
/// Work the GEMM driver does on C while it is still in cache: add a bias per column of C (with the first
/// depth block, so C = op(A)·op(B) + bias rounds exactly like a C pre-filled with the bias and beta = 1),
/// then an activation (after the last depth block). The bias and ReLU are applied by the micro-kernel to
/// its registers before they are stored (<see cref="BiasRelu"/> does the same for partial tiles); GELU
/// runs on each finished block of rows (<see cref="ApplyGelu"/>). Saves separate passes over C, which for
/// a large C come from memory: Linear's bias and ReLU, and a feed-forward block's GELU forward and backward.
/// </summary>
internal readonly unsafe struct GemmEpilogue<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Bias and ReLU (the Linear forward).</summary>
    public GemmEpilogue(T* bias, bool relu) : this(bias, relu ? GemmActivation.Relu : GemmActivation.None, null, 0) { }

    private GemmEpilogue(T* bias, GemmActivation activation, T* aux, nint auxLd)
    {
        Bias = bias;
        Activation = activation;
        Aux = aux;
        AuxLd = auxLd;
    }

    /// <summary>C = op(A)·op(B) + bias (the pre-activation h), and GELU(h) into <paramref name="output"/> (row stride <paramref name="ld"/>).</summary>
    public static GemmEpilogue<T> Gelu(T* bias, T* output, nint ld) => new(bias, GemmActivation.Gelu, output, ld);

    /// <summary>C = (op(A)·op(B)) ∘ GELU′(h) for the pre-activation <paramref name="h"/> (row stride <paramref name="ld"/>).</summary>
    public static GemmEpilogue<T> GeluGrad(T* h, nint ld) => new(null, GemmActivation.GeluGrad, h, ld);

    /// <summary>Bias per column of C (n values), or null.</summary>
    public T* Bias { get; }

    /// <summary>The activation after the last depth block.</summary>
    public GemmActivation Activation { get; }

    /// <summary>The matrix the activation writes (Gelu) or reads (GeluGrad), laid out like C with row stride <see cref="AuxLd"/>.</summary>
    public T* Aux { get; }

    /// <summary>Row stride of <see cref="Aux"/>.</summary>
    public nint AuxLd { get; }

    /// <summary>Whether C is clamped at zero from below.</summary>
    public bool Relu => Activation == GemmActivation.Relu;

    /// <summary>Whether there is nothing to do.</summary>
    public bool IsEmpty => Bias == null && Activation == GemmActivation.None;

    /// <summary>The epilogue of the block of C whose first element is (<paramref name="row"/>, <paramref name="col"/>).</summary>
    public GemmEpilogue<T> At(int row, int col)
        => new(Bias == null ? null : Bias + col, Activation, Aux == null ? null : Aux + row * AuxLd + col, AuxLd);

    /// <summary>The same epilogue on another element type of the same size (T is known to be it).</summary>
    public GemmEpilogue<TOther> As<TOther>() where TOther : unmanaged, IFloatingPointIeee754<TOther>
        => new((TOther*)Bias, Activation, (TOther*)Aux, AuxLd);

    /// <summary>The epilogue on a whole C (rows × cols, row stride ldc), for the paths that do not go through the tiled driver.</summary>
    public void ApplyAll(T* c, nint ldc, int rows, int cols)
    {
        if (!IsEmpty) Apply(c, ldc, 0, 0, rows, cols, first: true, last: true);
    }

    /// <summary>
    /// The epilogue on the block of C at (<paramref name="row"/>, <paramref name="col"/>) of this epilogue's block:
    /// the bias when <paramref name="first"/> (the first depth block), the activation when <paramref name="last"/>.
    /// </summary>
    public void Apply(T* c, nint ldc, int row, int col, int rows, int cols, bool first, bool last)
    {
        ApplyBiasRelu(c, ldc, col, rows, cols, first, last);
        if (last) ApplyGelu(c, ldc, row, col, rows, cols);
    }

    /// <summary>Whether the activation is a GELU, which runs on whole blocks of rows (<see cref="ApplyGelu"/>) rather than per tile.</summary>
    public bool IsGelu => Activation is GemmActivation.Gelu or GemmActivation.GeluGrad;

    /// <summary>The bias (when <paramref name="first"/>) and ReLU (when <paramref name="last"/>) on one tile, whose first column is <paramref name="col"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ApplyBiasRelu(T* c, nint ldc, int col, int rows, int cols, bool first, bool last)
    {
        T* bias = first && Bias != null ? Bias + col : null;
        bool relu = last && Activation == GemmActivation.Relu;
        if (bias != null || relu) BiasRelu(c, ldc, rows, cols, bias, relu);
    }

    /// <summary>
    /// The GELU activation (if that is the activation) on a finished block of C at (<paramref name="row"/>, <paramref name="col"/>).
    /// A block's rows are long enough for the vector loop to pay off, which a micro-kernel tile's 16 or 32 columns are not.
    /// </summary>
    public void ApplyGelu(T* c, nint ldc, int row, int col, int rows, int cols)
    {
        if (IsGelu) Gelu(c, ldc, Aux + row * AuxLd + col, AuxLd, rows, cols, Activation == GemmActivation.GeluGrad);
    }

    /// <summary>c[i, j] = c[i, j] + bias[j] (when bias is not null), then max(c[i, j], 0) when <paramref name="relu"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BiasRelu(T* c, nint ldc, int rows, int cols, T* bias, bool relu)
    {
        for (int i = 0; i < rows; i++, c += ldc)
        {
            int j = 0;
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
                for (; j + Vector512<T>.Count <= cols; j += Vector512<T>.Count)
                {
                    Vector512<T> v = Vector512.Load(c + j);
                    if (bias != null) v += Vector512.Load(bias + j);
                    if (relu) v = Vector512.Max(v, Vector512<T>.Zero);
                    v.Store(c + j);
                }
            if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
                for (; j + Vector256<T>.Count <= cols; j += Vector256<T>.Count)
                {
                    Vector256<T> v = Vector256.Load(c + j);
                    if (bias != null) v += Vector256.Load(bias + j);
                    if (relu) v = Vector256.Max(v, Vector256<T>.Zero);
                    v.Store(c + j);
                }
            if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
                for (; j + Vector128<T>.Count <= cols; j += Vector128<T>.Count)
                {
                    Vector128<T> v = Vector128.Load(c + j);
                    if (bias != null) v += Vector128.Load(bias + j);
                    if (relu) v = Vector128.Max(v, Vector128<T>.Zero);
                    v.Store(c + j);
                }
            for (; j < cols; j++)
            {
                T v = c[j];
                if (bias != null) v += bias[j];
                if (relu) v = T.Max(v, T.Zero);
                c[j] = v;
            }
        }
    }

    /// <summary>Row by row: aux = GELU(c), or (<paramref name="grad"/>) c = c ∘ GELU′(aux), with the element-wise GELU kernels.</summary>
    private static void Gelu(T* c, nint ldc, T* aux, nint ldAux, int rows, int cols, bool grad)
    {
        for (int i = 0; i < rows; i++, c += ldc, aux += ldAux)
        {
            if (typeof(T) == typeof(float))
            {
                var h = new Span<float>(grad ? aux : c, cols);
                var y = new Span<float>(grad ? c : aux, cols);
                if (grad) VectorLoop.Binary(default(GeluBackwardOp), h, y, y);
                else VectorLoop.Unary(default(GeluOp), h, y);
            }
            else
            {
                var h = new Span<double>(grad ? aux : c, cols);
                var y = new Span<double>(grad ? c : aux, cols);
                if (grad) VectorLoop.Binary(default(GeluBackwardOp), h, y, y);
                else VectorLoop.Unary(default(GeluOp), h, y);
            }
        }
    }
}
