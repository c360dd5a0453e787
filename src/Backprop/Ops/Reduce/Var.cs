using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Backprop.Autograd;
using Backprop.Kernels.Reduce;
using Backprop.Tensors;

namespace Backprop.Ops.Reduce;

/// <summary>Variance (and its square root, the standard deviation) over dims with Bessel-style correction.</summary>
internal static class VarianceForward
{
    /// <summary>Σ (x − mean)² / max(0, n − correction) over the masked dims, in the kept shape.</summary>
    public static Tensor Compute(Tensor x, bool[] reduced, int correction, string op, out double divisor)
    {
        if (!x.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: input dtype must be floating point (float32 or float64), got {x.DType.Name()} (shape {x.Shape})");
        if (correction < 0)
            throw new ArgumentOutOfRangeException(nameof(correction), $"{op}: correction must be non-negative, got {correction}");
        Tensor src = ReduceLayout.Prepare(x, reduced, out int outer, out int n, out int inner);
        divisor = Math.Max(0, n - correction);
        var y = new Tensor(ReduceDims.KeptShape(x.Shape, reduced), x.DType);
        DTypeSwitch.Float(x.DType, new VarianceKernel(src, outer, n, inner, divisor, y));
        return y;
    }

    private readonly struct VarianceKernel(Tensor x, int outer, int n, int inner, double divisor, Tensor y) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => VarKernel.Run(x.ReadOnlyElements<T>(), outer, n, inner, T.CreateTruncating(divisor), y.Elements<T>());
    }

    /// <summary>y = √y in place (y is fresh and contiguous).</summary>
    public static void SqrtInPlace(Tensor y) => DTypeSwitch.Float(y.DType, new SqrtKernel(y));

    private readonly struct SqrtKernel(Tensor y) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Sqrt(y.Elements<T>(), y.Elements<T>());
    }
}

/// <summary>y = Σ (x − mean)² / (n − correction) over the reduced dims.</summary>
internal sealed class VarNode : Node
{
    private readonly SavedTensor _x;
    private readonly bool[] _reduced;
    private readonly bool _keepDim;
    private readonly double _divisor;

    private VarNode(Tensor x, bool[] reduced, bool keepDim, double divisor) : base(x)
    {
        _x = Save(x);
        _reduced = reduced;
        _keepDim = keepDim;
        _divisor = divisor;
    }

    public static Tensor Forward(Tensor x, int[] dims, int correction, bool keepDim)
    {
        bool[] reduced = ReduceDims.Mask(x.Shape, dims, "Var");
        Tensor y = VarianceForward.Compute(x, reduced, correction, "Var", out double divisor);
        y = ReduceLayout.Finish(y, x.Shape, reduced, keepDim);
        if (GradMode.Records(x)) y.SetGradFn(new VarNode(x, reduced, keepDim, divisor));
        return y;
    }

    // d var/dx_i = 2 (x_i − mean) / (n − correction); the mean's own dependence on x cancels because Σ(x − mean) = 0.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value;
        Tensor g = ReduceLayout.Unsqueeze(dy, x.Shape, _reduced, _keepDim);
        Tensor centered = x - x.Mean(ReduceLayout.DimList(_reduced), keepDim: true);
        return [centered * (g * (2.0 / _divisor))];
    }
}

/// <summary>y = √var(x) over the reduced dims.</summary>
internal sealed class StdNode : Node
{
    private readonly SavedTensor _x, _y;
    private readonly bool[] _reduced;
    private readonly bool _keepDim;
    private readonly double _divisor;

    private StdNode(Tensor x, Tensor y, bool[] reduced, bool keepDim, double divisor) : base(x)
    {
        _x = Save(x);
        _y = Save(y);
        _reduced = reduced;
        _keepDim = keepDim;
        _divisor = divisor;
    }

    public static Tensor Forward(Tensor x, int[] dims, int correction, bool keepDim)
    {
        bool[] reduced = ReduceDims.Mask(x.Shape, dims, "Std");
        Tensor y = VarianceForward.Compute(x, reduced, correction, "Std", out double divisor);
        VarianceForward.SqrtInPlace(y);
        y = ReduceLayout.Finish(y, x.Shape, reduced, keepDim);
        if (GradMode.Records(x)) y.SetGradFn(new StdNode(x, y, reduced, keepDim, divisor));
        return y;
    }

    // d std/dx_i = (x_i − mean) / ((n − correction) · std). Where std = 0 the gradient is 0, as in
    // PyTorch: a constant mask z (1 where std = 0) keeps the division finite and zeroes those entries.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value;
        Tensor std = ReduceLayout.Unsqueeze(_y.Value, x.Shape, _reduced, _keepDim);
        Tensor g = ReduceLayout.Unsqueeze(dy, x.Shape, _reduced, _keepDim);
        Tensor? zeros = ZeroMask(std);
        Tensor scale = zeros is null
            ? g / (std * _divisor)
            : g / (std * _divisor + zeros) * (1.0 - zeros);
        Tensor centered = x - x.Mean(ReduceLayout.DimList(_reduced), keepDim: true);
        return [centered * scale];
    }

    private static Tensor? ZeroMask(Tensor std)
    {
        double[] values = std.ToDoubleArray();
        if (Array.IndexOf(values, 0.0) < 0) return null;
        var mask = new double[values.Length];
        for (int i = 0; i < values.Length; i++) mask[i] = values[i] == 0 ? 1 : 0;
        return Tensor.FromArray(mask, std.Shape).To(std.DType);
    }
}
