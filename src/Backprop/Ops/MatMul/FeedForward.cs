using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Gemm;
using Backprop.Ops.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.MatMul;

/// <summary>
/// y = GELU(x·W1ᵀ + b1)·W2ᵀ + b2 (exact GELU): a transformer block's feed-forward half as one node, the
/// same values as Linear, Gelu, Linear. Its hidden activations are the block's largest tensors, and
/// the GELU and its gradient run in the GEMMs' epilogues on tiles still in cache instead of in passes
/// of their own over memory: the first GEMM writes h = x·W1ᵀ + b1 and GELU(h) together, and in the
/// backward dh = (dz·W2) ∘ GELU′(h) comes straight out of the GEMM that computes dz·W2.
/// </summary>
internal sealed class FeedForwardNode : Node
{
    private readonly SavedTensor _x, _w1, _w2, _h, _g;
    private readonly SavedTensor? _b1;
    private readonly int _rows;

    private FeedForwardNode(Tensor x, Tensor w1, Tensor? b1, Tensor w2, Tensor? b2, Tensor h, Tensor g, int rows) : base(x, w1, b1, w2, b2)
    {
        _rows = rows;
        (_x, _w1, _w2, _h, _g) = (Save(x), Save(w1), Save(w2), Save(h), Save(g));
        if (b1 is not null) _b1 = Save(b1); // only a double backward, which recomputes h, reads it
    }

    /// <summary>The block's output, recording one node when a gradient is wanted.</summary>
    public static Tensor Forward(Tensor x, Tensor w1, Tensor? b1, Tensor w2, Tensor? b2)
    {
        LinearNode.Check(x, w1, b1);
        int hidden = w1.Shape[0];
        if (w2.Rank != 2 || w2.Shape[1] != hidden)
            throw new ArgumentException($"FeedForward: the second weight must be [out, {hidden}] to follow the first weight {w1.Shape}, got {w2.Shape}");
        int rows = 1;
        for (int d = 0; d < x.Rank - 1; d++) rows *= x.Shape[d];
        Tensor x2 = x.IsContiguous ? x.Reshape(rows, w1.Shape[1]) : x.Detach().Contiguous().Reshape(rows, w1.Shape[1]);
        var h = Tensor.Uninitialized(new Shape(rows, hidden), x.DType);
        var g = Tensor.Uninitialized(new Shape(rows, hidden), x.DType);
        if (h.Numel > 0) DTypeSwitch.Float(x.DType, new HiddenKernel(x2, w1, b1, h, g));
        int[] dims = x.Shape.ToArray();
        dims[^1] = hidden;
        Tensor y = LinearNode.Compute(g.Reshape(dims), w2, b2, out _);
        if (GradMode.Records(x, w1, b1) || GradMode.Records(w2, b2))
            y.SetGradFn(new FeedForwardNode(x, w1, b1, w2, b2, h, g, rows));
        return y;
    }

    /// <summary>h = x2·W1ᵀ + b1 and g = GELU(h), by one GEMM whose epilogue adds the bias and writes GELU.</summary>
    private readonly struct HiddenKernel(Tensor x2, Tensor w1, Tensor? b1, Tensor h, Tensor g) : IFloatAction
    {
        public unsafe void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            Tensor w = w1;
            MatrixLayout lw = MatrixLayout.Of(ref w);
            int rows = h.Shape[0], hidden = h.Shape[1], inF = x2.Shape[1];
            ReadOnlySpan<T> bias = b1 is null ? default : b1.Contiguous().ReadOnlyElements<T>();
            fixed (T* px = x2.Data<T>().AsSpan(x2.Offset))
            fixed (T* pw = w.Data<T>().AsSpan(w.Offset))
            fixed (T* pb = bias)
            fixed (T* ph = h.Elements<T>())
            fixed (T* pg = g.Elements<T>())
                GemmKernel.Multiply(false, !lw.Trans, rows, hidden, inF, T.One, px, Math.Max(inF, 1), pw, lw.Ld, T.Zero, ph, hidden, parallel: true,
                                    GemmEpilogue<T>.Gelu(bias.IsEmpty ? null : pb, pg, hidden));
        }
    }

    // z = g·W2ᵀ + b2 with g = GELU(h), h = x·W1ᵀ + b1, over rows r of the flattened input:
    // dW2 = dzᵀ·g, db2 = Σ_r dz_r; dh = (dz·W2) ∘ GELU′(h); dx = dh·W1, dW1 = dhᵀ·x, db1 = Σ_r dh_r.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        if (GradMode.IsEnabled && (dy.RequiresGrad || _x.Value.RequiresGrad || _w1.Value.RequiresGrad || _w2.Value.RequiresGrad
                                   || (_b1?.Value.RequiresGrad ?? false)))
            return Composite(dy);
        Tensor w2 = _w2.Value, g = _g.Value;
        int outF = w2.Shape[0], hidden = w2.Shape[1];
        Tensor dz = dy.Reshape(_rows, outF);
        if (!dz.IsContiguous) dz = dz.Contiguous();
        Tensor? dw2 = NeedsInputGrad(3) ? NewInputGradient(3, w2.Shape, dy.DType, clear: false) : null;
        Tensor? db2 = NeedsInputGrad(4) ? dz.Sum(0) : null;
        bool wantHidden = NeedsInputGrad(0) || NeedsInputGrad(1) || NeedsInputGrad(2);
        Tensor? dh = wantHidden ? Tensor.Uninitialized(new Shape(_rows, hidden), dy.DType) : null;
        if (_rows > 0) DTypeSwitch.Float(dy.DType, new SecondLayerKernel(dz, w2, g, _h.Value, dh, dw2));
        Tensor? dx = null, dw1 = null, db1 = null;
        if (dh is not null)
        {
            (dx, dw1, db1) = LinearNode.Grads(this, dh, NeedsInputGrad(0) ? _w1 : null, NeedsInputGrad(1) ? _x : null, _rows, NeedsInputGrad(2));
            if (dx is not null) dx = dx.Reshape(_x.Value.Shape.ToArray());
        }
        return [dx, dw1, db1, dw2, db2];
    }

    /// <summary>dh = (dz·W2) ∘ GELU′(h) (a GEMM with the GELU gradient in its epilogue) and dW2 = dzᵀ·g.</summary>
    private readonly struct SecondLayerKernel(Tensor dz, Tensor w2, Tensor g, Tensor h, Tensor? dh, Tensor? dw2) : IFloatAction
    {
        public unsafe void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            Tensor w = w2;
            MatrixLayout lw = MatrixLayout.Of(ref w);
            int rows = dz.Shape[0], outF = dz.Shape[1], hidden = w2.Shape[1];
            fixed (T* pz = dz.Data<T>().AsSpan(dz.Offset))
            fixed (T* pw = w.Data<T>().AsSpan(w.Offset))
            fixed (T* pg = g.Data<T>().AsSpan(g.Offset))
            fixed (T* ph = h.Data<T>().AsSpan(h.Offset))
            {
                if (dh is not null)
                    fixed (T* pdh = dh.Elements<T>())
                        GemmKernel.Multiply(false, lw.Trans, rows, hidden, outF, T.One, pz, Math.Max(outF, 1), pw, lw.Ld, T.Zero, pdh, hidden,
                                            parallel: true, GemmEpilogue<T>.GeluGrad(ph, hidden));
                if (dw2 is not null)
                    fixed (T* pdw = dw2.Elements<T>())
                        GemmKernel.Multiply(true, false, outF, hidden, rows, T.One, pz, Math.Max(outF, 1), pg, hidden, T.Zero, pdw, hidden, parallel: true);
            }
        }
    }

    /// <summary>
    /// The same gradients as ops that are themselves recorded, for a backward that builds a graph
    /// (second derivatives): h is recomputed from x, W1 and b1 so that they reach it.
    /// </summary>
    private Tensor?[] Composite(Tensor dy)
    {
        Tensor x = _x.Value, w1 = _w1.Value, w2 = _w2.Value;
        int inF = w1.Shape[1], outF = w2.Shape[0];
        Tensor x2 = x.Reshape(_rows, inF), dz = dy.Reshape(_rows, outF);
        Tensor h = LinearNode.Forward(x2, w1, _b1?.Value);                                 // [rows, hidden]
        Tensor cdf = (h * -GeluNode.Rsqrt2).Erfc() * 0.5;                                  // Φ(h)
        Tensor pdf = (h * h * -0.5).Exp() * GeluNode.InvSqrt2Pi;                           // φ(h)
        Tensor dh = dz.MatMul(w2) * (cdf + h * pdf);                                       // (dz·W2) ∘ GELU′(h)
        return
        [
            NeedsInputGrad(0) ? dh.MatMul(w1).Reshape(x.Shape.ToArray()) : null,
            NeedsInputGrad(1) ? dh.T().MatMul(x2) : null,
            NeedsInputGrad(2) ? dh.Sum(0) : null,
            NeedsInputGrad(3) ? dz.T().MatMul(h * cdf) : null,                             // dzᵀ·GELU(h)
            NeedsInputGrad(4) ? dz.Sum(0) : null,
        ];
    }
}
