using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Ops.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.MatMul;

/// <summary>
/// y = max(x·Wᵀ + b, 0): <see cref="LinearNode"/> and <see cref="ReluNode"/> fused, so the
/// pre-activation is never kept (ReLU runs in place on the GEMM output) and the backward masks the
/// gradient once before the GEMMs. Bit-identical to Linear followed by Relu.
/// </summary>
internal sealed class LinearReluNode : Node
{
    private readonly SavedTensor? _x, _w;
    private readonly SavedTensor _y;
    private readonly int _rows;

    private LinearReluNode(Tensor x, Tensor w, Tensor? bias, Tensor y, int rows) : base(x, w, bias)
    {
        _rows = rows;
        _y = Save(y);
        if (NeedsInputGrad(0)) _w = Save(w);
        if (NeedsInputGrad(1)) _x = Save(x);
    }

    public static Tensor Forward(Tensor x, Tensor w, Tensor? bias)
    {
        Tensor y = LinearNode.Compute(x, w, bias, out int rows, relu: true); // ReLU in the GEMM epilogue
        if (GradMode.Records(x, w, bias)) y.SetGradFn(new LinearReluNode(x, w, bias, y, rows));
        return y;
    }

    // With z = x·Wᵀ + b and y = max(z, 0): dz = dy where y > 0, else 0 (a constant mask); then
    // dx = dz·W, dW = dz2ᵀ·x2, db = Σ_r dz_r over the rows r of the flattened input.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor y = _y.Value;
        Tensor dz;
        if (GradMode.Records(dy))
            dz = KeepWhereNode.Forward(dy, y.Gt(0));
        else if (OwnsOutputGradient && dy.IsContiguous && y.IsContiguous)
        {
            dz = dy; // the engine's private tensor: mask it in place
            DTypeSwitch.Float(dy.DType, new MaskInPlace(y, dy));
        }
        else
            dz = ElementwiseMap.Binary(y, dy, default(ReluBackwardOp<float>), default(ReluBackwardOp<double>), "LinearReluBackward");
        var (dx, dw, db) = LinearNode.Grads(this, dz, _w, _x, _rows, NeedsInputGrad(2));
        return [dx, dw, db];
    }

    /// <summary>dy ← dy where y &gt; 0, else 0, in dy's own storage.</summary>
    private readonly struct MaskInPlace(Tensor y, Tensor dy) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => VectorLoop.Binary(default(ReluBackwardOp<T>), y.ReadOnlyElements<T>(), dy.ReadOnlyElements<T>(), dy.Elements<T>());
    }
}
