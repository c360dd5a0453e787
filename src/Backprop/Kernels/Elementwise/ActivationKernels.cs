using System.Numerics;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels.Elementwise;

/// <summary>Relu backward from the saved output: dx = y &gt; 0 ? dy : 0 (operands: y, dy).</summary>
internal readonly struct ReluBackwardOp<T> : IVectorBinary<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T y, T dy) => y > T.Zero ? dy : T.Zero;
    public Vector128<T> Invoke(Vector128<T> y, Vector128<T> dy) => Vector128.GreaterThan(y, Vector128<T>.Zero) & dy;
    public Vector256<T> Invoke(Vector256<T> y, Vector256<T> dy) => Vector256.GreaterThan(y, Vector256<T>.Zero) & dy;
    public Vector512<T> Invoke(Vector512<T> y, Vector512<T> dy) => Vector512.GreaterThan(y, Vector512<T>.Zero) & dy;
}

/// <summary>y = x &gt; 0 ? x : slope·x.</summary>
internal readonly struct LeakyReluOp<T>(T slope) : IVectorUnary<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x) => x > T.Zero ? x : x * slope;
    public Vector128<T> Invoke(Vector128<T> x) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<T>.Zero), x, x * slope);
    public Vector256<T> Invoke(Vector256<T> x) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), x, x * slope);
    public Vector512<T> Invoke(Vector512<T> x) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), x, x * slope);
}

/// <summary>dx = x &gt; 0 ? dy : slope·dy (operands: x, dy).</summary>
internal readonly struct LeakyReluBackwardOp<T>(T slope) : IVectorBinary<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x, T dy) => x > T.Zero ? dy : dy * slope;
    public Vector128<T> Invoke(Vector128<T> x, Vector128<T> dy) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<T>.Zero), dy, dy * slope);
    public Vector256<T> Invoke(Vector256<T> x, Vector256<T> dy) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), dy, dy * slope);
    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> dy) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), dy, dy * slope);
}

/// <summary>
/// Exact GELU, y = x·Φ(x) = ½·x·(1 + erf(x/√2)): double as ½·x·erfc(−x/√2) with ErfMath; float in float
/// (GaussianSingle) as x·Φ(−|x|) for x &lt; 0 and x − x·Φ(−|x|) for x ≥ 0, so both tails stay accurate.
/// </summary>
internal readonly struct GeluOp : IVectorUnary<float>, IVectorUnary<double>
{
    private const double Rsqrt2 = 0.70710678118654752440;

    public double Invoke(double x) => 0.5 * x * ErfMath.Erfc(-x * Rsqrt2);
    public Vector128<double> Invoke(Vector128<double> x) => Vector128.Create(0.5) * x * ErfMath.Erfc(x * Vector128.Create(-Rsqrt2));
    public Vector256<double> Invoke(Vector256<double> x) => Vector256.Create(0.5) * x * ErfMath.Erfc(x * Vector256.Create(-Rsqrt2));
    public Vector512<double> Invoke(Vector512<double> x) => Vector512.Create(0.5) * x * ErfMath.Erfc(x * Vector512.Create(-Rsqrt2));

    public float Invoke(float x)
    {
        float tail = x * GaussianSingle.UpperTail(x, out _);
        return x >= 0 ? (float.IsPositiveInfinity(x) ? x : x - tail) : tail;
    }

    public Vector128<float> Invoke(Vector128<float> x)
    {
        Vector128<float> tail = x * GaussianSingle.UpperTail(x, out _);
        Vector128<float> y = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(x, Vector128<float>.Zero), x - tail, tail);
        return Vector128.ConditionalSelect(Vector128.Equals(x, Vector128.Create(float.PositiveInfinity)), x, y);
    }

    public Vector256<float> Invoke(Vector256<float> x)
    {
        Vector256<float> tail = x * GaussianSingle.UpperTail(x, out _);
        Vector256<float> y = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), x - tail, tail);
        return Vector256.ConditionalSelect(Vector256.Equals(x, Vector256.Create(float.PositiveInfinity)), x, y);
    }

    public Vector512<float> Invoke(Vector512<float> x)
    {
        Vector512<float> tail = x * GaussianSingle.UpperTail(x, out _);
        Vector512<float> y = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero), x - tail, tail);
        return Vector512.ConditionalSelect(Vector512.Equals(x, Vector512.Create(float.PositiveInfinity)), x, y);
    }
}

/// <summary>Exact GELU backward: dx = dy·(Φ(x) + x·φ(x)), Φ(x) = ½·erfc(−x/√2), φ(x) = e^(−x²/2)/√(2π).</summary>
internal readonly struct GeluBackwardOp : IVectorBinary<float>, IVectorBinary<double>
{
    private const double Rsqrt2 = 0.70710678118654752440;
    private const double InvSqrt2Pi = 0.39894228040143267794;

    public double Invoke(double x, double dy)
        => dy * (0.5 * ErfMath.Erfc(-x * Rsqrt2) + x * Math.Exp(-0.5 * x * x) * InvSqrt2Pi);

    public Vector128<double> Invoke(Vector128<double> x, Vector128<double> dy)
    {
        Vector128<double> cdf = Vector128.Create(0.5) * ErfMath.Erfc(x * Vector128.Create(-Rsqrt2));
        Vector128<double> pdf = Vector128.Exp(Vector128.Create(-0.5) * x * x) * Vector128.Create(InvSqrt2Pi);
        return dy * Vector128.MultiplyAddEstimate(x, pdf, cdf);
    }

    public Vector256<double> Invoke(Vector256<double> x, Vector256<double> dy)
    {
        Vector256<double> cdf = Vector256.Create(0.5) * ErfMath.Erfc(x * Vector256.Create(-Rsqrt2));
        Vector256<double> pdf = Vector256.Exp(Vector256.Create(-0.5) * x * x) * Vector256.Create(InvSqrt2Pi);
        return dy * Vector256.FusedMultiplyAdd(x, pdf, cdf);
    }

    public Vector512<double> Invoke(Vector512<double> x, Vector512<double> dy)
    {
        Vector512<double> cdf = Vector512.Create(0.5) * ErfMath.Erfc(x * Vector512.Create(-Rsqrt2));
        Vector512<double> pdf = Vector512.Exp(Vector512.Create(-0.5) * x * x) * Vector512.Create(InvSqrt2Pi);
        return dy * Vector512.FusedMultiplyAdd(x, pdf, cdf);
    }

    // float: Φ(x) = Φ(−|x|) or 1 − Φ(−|x|); φ(x) = e^(−x²/2)/√(2π), from the same call.
    public float Invoke(float x, float dy)
    {
        float tail = GaussianSingle.UpperTail(x, out float gaussian);
        float cdf = x >= 0 ? 1f - tail : tail;
        return dy * MathF.FusedMultiplyAdd(x, gaussian * (float)InvSqrt2Pi, cdf);
    }

    public Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy)
    {
        Vector128<float> tail = GaussianSingle.UpperTail(x, out Vector128<float> gaussian);
        Vector128<float> cdf = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(x, Vector128<float>.Zero), Vector128<float>.One - tail, tail);
        return dy * Vector128.MultiplyAddEstimate(x, gaussian * Vector128.Create((float)InvSqrt2Pi), cdf);
    }

    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy)
    {
        Vector256<float> tail = GaussianSingle.UpperTail(x, out Vector256<float> gaussian);
        Vector256<float> cdf = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), Vector256<float>.One - tail, tail);
        return dy * Vector256.FusedMultiplyAdd(x, gaussian * Vector256.Create((float)InvSqrt2Pi), cdf);
    }

    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy)
    {
        Vector512<float> tail = GaussianSingle.UpperTail(x, out Vector512<float> gaussian);
        Vector512<float> cdf = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero), Vector512<float>.One - tail, tail);
        return dy * Vector512.FusedMultiplyAdd(x, gaussian * Vector512.Create((float)InvSqrt2Pi), cdf);
    }
}

/// <summary>Constants of the tanh GELU approximation.</summary>
internal static class GeluTanh
{
    /// <summary>√(2/π).</summary>
    public const double Beta = 0.79788456080286535588;
    /// <summary>The cubic coefficient 0.044715.</summary>
    public const double Kappa = 0.044715;
}

/// <summary>
/// Tanh GELU, y = ½·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³), evaluated as x·σ(2u)
/// (the same function: 1 + tanh(u) = 2σ(2u)) so nothing cancels for negative x.
/// </summary>
internal readonly struct GeluTanhOp<T> : IVectorUnary<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly T TwoBeta = T.CreateChecked(-2 * GeluTanh.Beta), Kappa = T.CreateChecked(GeluTanh.Kappa);

    public T Invoke(T x) => x / (T.One + T.Exp(TwoBeta * (x + Kappa * x * x * x)));

    public Vector128<T> Invoke(Vector128<T> x)
        => x / (Vector128<T>.One + SimdMath.Exp(Vector128.Create(TwoBeta) * (x + Vector128.Create(Kappa) * x * x * x)));

    public Vector256<T> Invoke(Vector256<T> x)
        => x / (Vector256<T>.One + SimdMath.Exp(Vector256.Create(TwoBeta) * (x + Vector256.Create(Kappa) * x * x * x)));

    public Vector512<T> Invoke(Vector512<T> x)
        => x / (Vector512<T>.One + SimdMath.Exp(Vector512.Create(TwoBeta) * (x + Vector512.Create(Kappa) * x * x * x)));
}

/// <summary>
/// Tanh GELU backward: with s = σ(2u) = (1 + tanh u)/2, dy/dx = s + 2·x·s·(1 − s)·√(2/π)·(1 + 3·0.044715·x²)
/// (PyTorch's ½(1 + tanh u) + ½x(1 − tanh²u)·u′ rewritten with s).
/// </summary>
internal readonly struct GeluTanhBackwardOp<T> : IVectorBinary<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly T MinusTwoBeta = T.CreateChecked(-2 * GeluTanh.Beta), Kappa = T.CreateChecked(GeluTanh.Kappa),
        TwoBeta = T.CreateChecked(2 * GeluTanh.Beta), ThreeKappa = T.CreateChecked(3 * GeluTanh.Kappa);

    public T Invoke(T x, T dy)
    {
        T x2 = x * x;
        T s = T.One / (T.One + T.Exp(MinusTwoBeta * (x + Kappa * x2 * x)));
        return dy * (s + x * s * (T.One - s) * TwoBeta * (T.One + ThreeKappa * x2));
    }

    public Vector128<T> Invoke(Vector128<T> x, Vector128<T> dy)
    {
        Vector128<T> x2 = x * x;
        Vector128<T> s = Vector128<T>.One / (Vector128<T>.One + SimdMath.Exp(Vector128.Create(MinusTwoBeta) * (x + Vector128.Create(Kappa) * x2 * x)));
        return dy * (s + x * s * (Vector128<T>.One - s) * Vector128.Create(TwoBeta) * (Vector128<T>.One + Vector128.Create(ThreeKappa) * x2));
    }

    public Vector256<T> Invoke(Vector256<T> x, Vector256<T> dy)
    {
        Vector256<T> x2 = x * x;
        Vector256<T> s = Vector256<T>.One / (Vector256<T>.One + SimdMath.Exp(Vector256.Create(MinusTwoBeta) * (x + Vector256.Create(Kappa) * x2 * x)));
        return dy * (s + x * s * (Vector256<T>.One - s) * Vector256.Create(TwoBeta) * (Vector256<T>.One + Vector256.Create(ThreeKappa) * x2));
    }

    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> dy)
    {
        Vector512<T> x2 = x * x;
        Vector512<T> s = Vector512<T>.One / (Vector512<T>.One + SimdMath.Exp(Vector512.Create(MinusTwoBeta) * (x + Vector512.Create(Kappa) * x2 * x)));
        return dy * (s + x * s * (Vector512<T>.One - s) * Vector512.Create(TwoBeta) * (Vector512<T>.One + Vector512.Create(ThreeKappa) * x2));
    }
}

/// <summary>
/// Softplus, y = βx &gt; threshold ? x : ln(1 + e^(βx))/β, with ln(1 + e^z) evaluated as
/// max(z, 0) + ln(1 + e^(−|z|)) so it neither overflows nor loses the tail.
/// </summary>
internal readonly struct SoftplusOp<T>(T beta, T threshold) : IVectorUnary<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x)
    {
        T z = x * beta;
        if (z > threshold) return x;
        return (T.Max(z, T.Zero) + SimdMath.Log1P(T.Exp(-T.Abs(z)))) / beta;
    }

    public Vector128<T> Invoke(Vector128<T> x)
    {
        Vector128<T> z = x * Vector128.Create(beta);
        Vector128<T> soft = (Vector128.Max(z, Vector128<T>.Zero) + SimdMath.Log1P(SimdMath.Exp(-Vector128.Abs(z)))) / Vector128.Create(beta);
        return Vector128.ConditionalSelect(Vector128.GreaterThan(z, Vector128.Create(threshold)), x, soft);
    }

    public Vector256<T> Invoke(Vector256<T> x)
    {
        Vector256<T> z = x * Vector256.Create(beta);
        Vector256<T> soft = (Vector256.Max(z, Vector256<T>.Zero) + SimdMath.Log1P(SimdMath.Exp(-Vector256.Abs(z)))) / Vector256.Create(beta);
        return Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256.Create(threshold)), x, soft);
    }

    public Vector512<T> Invoke(Vector512<T> x)
    {
        Vector512<T> z = x * Vector512.Create(beta);
        Vector512<T> soft = (Vector512.Max(z, Vector512<T>.Zero) + SimdMath.Log1P(SimdMath.Exp(-Vector512.Abs(z)))) / Vector512.Create(beta);
        return Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512.Create(threshold)), x, soft);
    }
}

/// <summary>Softplus backward: dx = βx &gt; threshold ? dy : dy·σ(βx) (operands: x, dy).</summary>
internal readonly struct SoftplusBackwardOp<T>(T beta, T threshold) : IVectorBinary<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x, T dy)
    {
        T z = x * beta;
        return z > threshold ? dy : dy / (T.One + T.Exp(-z));
    }

    public Vector128<T> Invoke(Vector128<T> x, Vector128<T> dy)
    {
        Vector128<T> z = x * Vector128.Create(beta);
        return Vector128.ConditionalSelect(Vector128.GreaterThan(z, Vector128.Create(threshold)), dy, dy / (Vector128<T>.One + SimdMath.Exp(-z)));
    }

    public Vector256<T> Invoke(Vector256<T> x, Vector256<T> dy)
    {
        Vector256<T> z = x * Vector256.Create(beta);
        return Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256.Create(threshold)), dy, dy / (Vector256<T>.One + SimdMath.Exp(-z)));
    }

    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> dy)
    {
        Vector512<T> z = x * Vector512.Create(beta);
        return Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512.Create(threshold)), dy, dy / (Vector512<T>.One + SimdMath.Exp(-z)));
    }
}

/// <summary>SiLU (swish), y = x·σ(x) = x / (1 + e⁻ˣ).</summary>
internal readonly struct SiluOp<T> : IVectorUnary<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x) => x / (T.One + T.Exp(-x));
    public Vector128<T> Invoke(Vector128<T> x) => x / (Vector128<T>.One + SimdMath.Exp(-x));
    public Vector256<T> Invoke(Vector256<T> x) => x / (Vector256<T>.One + SimdMath.Exp(-x));
    public Vector512<T> Invoke(Vector512<T> x) => x / (Vector512<T>.One + SimdMath.Exp(-x));
}

/// <summary>SiLU backward: dx = dy·σ(x)·(1 + x·(1 − σ(x))) (operands: x, dy).</summary>
internal readonly struct SiluBackwardOp<T> : IVectorBinary<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x, T dy)
    {
        T s = T.One / (T.One + T.Exp(-x));
        return dy * s * (T.One + x * (T.One - s));
    }

    public Vector128<T> Invoke(Vector128<T> x, Vector128<T> dy)
    {
        Vector128<T> s = Vector128<T>.One / (Vector128<T>.One + SimdMath.Exp(-x));
        return dy * s * (Vector128<T>.One + x * (Vector128<T>.One - s));
    }

    public Vector256<T> Invoke(Vector256<T> x, Vector256<T> dy)
    {
        Vector256<T> s = Vector256<T>.One / (Vector256<T>.One + SimdMath.Exp(-x));
        return dy * s * (Vector256<T>.One + x * (Vector256<T>.One - s));
    }

    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> dy)
    {
        Vector512<T> s = Vector512<T>.One / (Vector512<T>.One + SimdMath.Exp(-x));
        return dy * s * (Vector512<T>.One + x * (Vector512<T>.One - s));
    }
}
