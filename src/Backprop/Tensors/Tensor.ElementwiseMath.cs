using Backprop.Ops.Elementwise;

namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Element-wise power thisᵉˣᵖᵒⁿᵉⁿᵗ with broadcasting; both operands are differentiable. Mixed dtypes promote as
    /// PyTorch's (int64 with float32 is float32); two int64 (or int64 and bool) operands give an exact int64 power,
    /// where a negative exponent gives 0 unless the base is ±1.
    /// </summary>
    /// <remarks>The exponent's gradient aᵇ·ln a is taken as 0 where a = 0 and b ≥ 0, as PyTorch.</remarks>
    /// <exception cref="ArgumentException">Shapes cannot broadcast.</exception>
    /// <exception cref="NotSupportedException">Both operands are bool.</exception>
    public Tensor Pow(Tensor exponent) => PowNode.Forward(this, exponent);

    /// <summary>Element-wise power with a constant exponent; an int64 or bool tensor gives float32, as with a Python float exponent.</summary>
    public Tensor Pow(double exponent) => PowScalarNode.Forward(this, exponent);

    /// <summary>
    /// Element-wise power with a constant integer exponent, as with a Python int exponent: int64 and bool tensors
    /// give int64 (exactly, wrapping on overflow); float tensors are as <see cref="Pow(double)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An int64 or bool tensor with a negative exponent (PyTorch refuses it too).</exception>
    public Tensor Pow(long exponent) => IntegerPow.Forward(this, exponent);

    /// <summary>Element-wise x².</summary>
    public Tensor Square() => PowScalarNode.Forward(this, 2);

    /// <summary>Element-wise √x (NaN for x &lt; 0; the gradient is inf at 0).</summary>
    public Tensor Sqrt() => SqrtNode.Forward(this);

    /// <summary>Element-wise 1/√x.</summary>
    public Tensor Rsqrt() => RsqrtNode.Forward(this);

    /// <summary>Element-wise 1/x.</summary>
    public Tensor Reciprocal() => ReciprocalNode.Forward(this);

    /// <summary>Element-wise |x| (float32, float64, int64); the gradient is sign(x), 0 at 0.</summary>
    public Tensor Abs() => AbsNode.Forward(this);

    /// <summary>Element-wise sign, −1, 0 or 1 (NaN gives 0); zero gradient.</summary>
    public Tensor Sign() => SignNode.Forward(this);

    /// <summary>Element-wise rounding to the nearest integer, halves to even; zero gradient.</summary>
    public Tensor Round() => RoundingNode.Round(this);

    /// <summary>Element-wise floor; zero gradient.</summary>
    public Tensor Floor() => RoundingNode.Floor(this);

    /// <summary>Element-wise error function erf(x).</summary>
    public Tensor Erf() => ErfNode.Erf(this);

    /// <summary>Element-wise complementary error function 1 − erf(x), accurate for large x.</summary>
    public Tensor Erfc() => ErfNode.Erfc(this);

    /// <summary>
    /// Limits every element to [min, max]; a null bound is not applied. If min &gt; max every
    /// element becomes max (as PyTorch). The gradient is 1 inside [min, max], bounds included, 0 outside.
    /// </summary>
    /// <exception cref="ArgumentException">Both bounds are null or NaN, or the tensor is not floating point.</exception>
    public Tensor Clamp(double? min, double? max) => ClampNode.Forward(this, min, max, "Clamp");

    /// <summary>Element-wise max(x, min).</summary>
    public Tensor ClampMin(double min) => ClampNode.Forward(this, min, null, "ClampMin");

    /// <summary>Element-wise min(x, max).</summary>
    public Tensor ClampMax(double max) => ClampNode.Forward(this, null, max, "ClampMax");

    /// <summary>
    /// Element-wise maximum with broadcasting (NaN propagates). On ties the gradient is split
    /// half and half between the operands, as PyTorch.
    /// </summary>
    /// <remarks>Mixed dtypes promote as PyTorch's; for two bool tensors it is a logical or.</remarks>
    /// <exception cref="ArgumentException">Shapes cannot broadcast.</exception>
    public Tensor Maximum(Tensor other) => MaxMinNode.Maximum(this, other);

    /// <summary>Element-wise minimum with broadcasting; ties split the gradient half and half.</summary>
    /// <remarks>Mixed dtypes promote as PyTorch's; for two bool tensors it is a logical and.</remarks>
    /// <exception cref="ArgumentException">Shapes cannot broadcast.</exception>
    public Tensor Minimum(Tensor other) => MaxMinNode.Minimum(this, other);

    /// <summary>Rectified linear unit max(x, 0); the gradient at 0 is 0.</summary>
    public Tensor Relu() => ReluNode.Forward(this);

    /// <summary>x for x &gt; 0, negativeSlope·x otherwise.</summary>
    public Tensor LeakyRelu(double negativeSlope = 0.01) => LeakyReluNode.Forward(this, negativeSlope);

    /// <summary>Gaussian error linear unit, exact (erf) or with the tanh approximation.</summary>
    public Tensor Gelu(GeluApproximation approximate = GeluApproximation.None) => GeluNode.Forward(this, approximate);

    /// <summary>ln(1 + e^(β·x))/β, or x itself where β·x &gt; threshold (for numerical stability, as PyTorch).</summary>
    public Tensor Softplus(double beta = 1, double threshold = 20) => SoftplusNode.Forward(this, beta, threshold);

    /// <summary>Sigmoid linear unit (swish) x·σ(x).</summary>
    public Tensor Silu() => SiluNode.Forward(this);
}
