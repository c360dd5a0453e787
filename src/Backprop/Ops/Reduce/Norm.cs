using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Reduce;
using Backprop.Tensors;

namespace Backprop.Ops.Reduce;

/// <summary>
/// Vector p-norm over all elements or over given dims (torch.linalg.vector_norm): p = 2, 1, ∞, −∞, 0 or any
/// other real p; the Frobenius norm is p = 2 over two dims. Float32 and float64 only, as PyTorch.
/// </summary>
internal sealed class NormNode : Node
{
    private readonly SavedTensor _x, _y;
    private readonly double _p;
    private readonly bool[] _reduced;
    private readonly bool _keepDim;

    private NormNode(Tensor x, Tensor y, double p, bool[] reduced, bool keepDim) : base(x)
    {
        _x = Save(x);
        _y = Save(y);
        _p = p;
        _reduced = reduced;
        _keepDim = keepDim;
    }

    public static Tensor Forward(Tensor x, double p, ReadOnlySpan<int> dims, bool keepDim, string op = "Norm")
    {
        if (!x.DType.IsFloatingPoint() || x.DType is not (DType.Float32 or DType.Float64))
            throw new ArgumentException($"{op}: expected a float32 or float64 tensor, got {x.DType.Name()} (shape {x.Shape}); convert it with To(DType.Float32)");
        if (double.IsNaN(p))
            throw new ArgumentException($"{op}: the order p must be a number, got NaN (shape {x.Shape})");
        bool[] reduced = ReduceDims.Mask(x.Shape, dims, op);
        Tensor c = ReduceLayout.Prepare(x, reduced, out int outer, out int n, out int inner);
        if (n == 0 && double.IsInfinity(p))
            throw new ArgumentException($"{op}: cannot compute the {(p > 0 ? "" : "-")}inf norm over an empty reduction (shape {x.Shape}, dims [{string.Join(", ", dims.ToArray())}]): max and min have no identity");
        var y = Tensor.Uninitialized(ReduceDims.KeptShape(x.Shape, reduced), x.DType); // every element is written
        DTypeSwitch.Float(x.DType, new Kernel(c, y, outer, n, inner, p));
        Tensor kept = y;
        y = ReduceLayout.Finish(y, x.Shape, reduced, keepDim);
        if (GradMode.Records(x)) y.SetGradFn(new NormNode(x, kept, p, reduced, keepDim));
        return y;
    }

    // With g = dy broadcast over the reduced dims and N the norm (PyTorch's norm_backward, zero subgradients included):
    //   p = 0: 0.   p = 1: sign(x)·g.   p = 2: g·x/N, 0 where N = 0.
    //   p = ±∞: sign(x)·g/k at the k elements with |x| = N (or NaN), 0 elsewhere (shared among ties).
    //   p < 1: sign(x)|x|^(p−1)·g·N^(1−p), 0 where x = 0.
    //   p > 1: sign(x)|x|^(p−1)·g/N^(p−1), 0 where N = 0.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value;
        if (_p == 0) return [Tensor.Zeros(x.Shape, dy.DType)];
        Tensor g = ReduceLayout.Unsqueeze(dy, x.Shape, _reduced, _keepDim);
        // The saved norm (kept dims) is a constant; a recorded backward recomputes it so it is differentiated too.
        Tensor norm = GradMode.Records(dy, x) ? Forward(x, _p, ReduceLayout.DimList(_reduced), keepDim: true) : _y.Value;
        Tensor zero = Tensor.Scalar(0, x.DType);
        if (_p == 1) return [x.Sign() * g];
        if (_p == 2) return [g * Tensor.Where(norm.Detach().Eq(0.0), zero, x / norm)];
        if (double.IsInfinity(_p))
        {
            Tensor abs = x.Detach().Abs();
            Tensor one = Tensor.Scalar(1, x.DType);
            Tensor mask = Tensor.Where(abs.Eq(norm.Detach()), one, Tensor.Where(abs.Ne(abs), one, zero));  // the extreme elements (and NaNs)
            return [x.Sign() * (g / mask.Sum(ReduceLayout.DimList(_reduced), keepDim: true) * mask)];
        }
        if (_p < 1)
        {
            Tensor scaled = Tensor.Where(x.Detach().Eq(0.0), zero, x.Sign() * x.Abs().Pow(_p - 1));
            return [scaled * g * norm.Pow(1 - _p)];
        }
        Tensor scale = Tensor.Where(norm.Detach().Eq(0.0), zero, g / norm.Pow(_p - 1));
        return [x.Sign() * x.Abs().Pow(_p - 1) * scale];
    }

    private readonly struct Kernel(Tensor x, Tensor y, int outer, int n, int inner, double p) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => VectorNormKernel.Run(x.ReadOnlyElements<T>(), outer, n, inner, p, y.Elements<T>());
    }
}
