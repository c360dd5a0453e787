using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Elementwise;

namespace Backprop.Kernels.Loss;

/// <summary>ℓ = |x − t|; ∂ℓ/∂x = sign(x − t) (0 at a tie, as PyTorch), ∂ℓ/∂t = −sign(x − t).</summary>
internal readonly struct L1Term<T> : ILossTerm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Loss(T x, T t) => T.Abs(x - t);
    public Vector256<T> Loss(Vector256<T> x, Vector256<T> t) => Vector256.Abs(x - t);
    public Vector512<T> Loss(Vector512<T> x, Vector512<T> t) => Vector512.Abs(x - t);
    public Vector128<T> Loss(Vector128<T> x, Vector128<T> t) => Vector128.Abs(x - t);

    public T GradInput(T x, T t)
    {
        T d = x - t;
        return d > T.Zero ? T.One : d < T.Zero ? -T.One : T.Zero;
    }

    public Vector256<T> GradInput(Vector256<T> x, Vector256<T> t)
    {
        Vector256<T> d = x - t;
        return (Vector256.GreaterThan(d, Vector256<T>.Zero) & Vector256<T>.One) - (Vector256.LessThan(d, Vector256<T>.Zero) & Vector256<T>.One);
    }

    public Vector512<T> GradInput(Vector512<T> x, Vector512<T> t)
    {
        Vector512<T> d = x - t;
        return (Vector512.GreaterThan(d, Vector512<T>.Zero) & Vector512<T>.One) - (Vector512.LessThan(d, Vector512<T>.Zero) & Vector512<T>.One);
    }

    public Vector128<T> GradInput(Vector128<T> x, Vector128<T> t)
    {
        Vector128<T> d = x - t;
        return (Vector128.GreaterThan(d, Vector128<T>.Zero) & Vector128<T>.One) - (Vector128.LessThan(d, Vector128<T>.Zero) & Vector128<T>.One);
    }

    public T GradTarget(T x, T t) => -GradInput(x, t);
    public Vector256<T> GradTarget(Vector256<T> x, Vector256<T> t) => -GradInput(x, t);
    public Vector512<T> GradTarget(Vector512<T> x, Vector512<T> t) => -GradInput(x, t);
    public Vector128<T> GradTarget(Vector128<T> x, Vector128<T> t) => -GradInput(x, t);
}

/// <summary>
/// With z = |x − t| and β &gt; 0: smooth L1 ℓ = z &lt; β ? ½z²/β : z − ½β, ∂ℓ/∂x = clamp((x − t)/β, −1, 1);
/// Huber (δ = β) ℓ = z &lt; δ ? ½z² : δ·(z − ½δ), ∂ℓ/∂x = clamp(x − t, −δ, δ). ∂ℓ/∂t = −∂ℓ/∂x.
/// PyTorch's formulas, term for term.
/// </summary>
internal readonly struct SmoothL1Term<T>(T beta, bool huber) : ILossTerm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly T Half = T.CreateTruncating(0.5);

    public T Loss(T x, T t)
    {
        T z = T.Abs(x - t);
        if (huber) return z < beta ? Half * z * z : beta * (z - Half * beta);
        return z < beta ? Half * z * z / beta : z - Half * beta;
    }

    public Vector256<T> Loss(Vector256<T> x, Vector256<T> t)
    {
        Vector256<T> z = Vector256.Abs(x - t), b = Vector256.Create(beta), h = Vector256.Create(Half);
        Vector256<T> inner = huber ? h * z * z : h * z * z / b, outer = huber ? b * (z - h * b) : z - h * b;
        return Vector256.ConditionalSelect(Vector256.LessThan(z, b), inner, outer);
    }

    public Vector512<T> Loss(Vector512<T> x, Vector512<T> t)
    {
        Vector512<T> z = Vector512.Abs(x - t), b = Vector512.Create(beta), h = Vector512.Create(Half);
        Vector512<T> inner = huber ? h * z * z : h * z * z / b, outer = huber ? b * (z - h * b) : z - h * b;
        return Vector512.ConditionalSelect(Vector512.LessThan(z, b), inner, outer);
    }

    public Vector128<T> Loss(Vector128<T> x, Vector128<T> t)
    {
        Vector128<T> z = Vector128.Abs(x - t), b = Vector128.Create(beta), h = Vector128.Create(Half);
        Vector128<T> inner = huber ? h * z * z : h * z * z / b, outer = huber ? b * (z - h * b) : z - h * b;
        return Vector128.ConditionalSelect(Vector128.LessThan(z, b), inner, outer);
    }

    public T GradInput(T x, T t)
    {
        T d = x - t;
        return huber ? T.Clamp(d, -beta, beta) : T.Clamp(d / beta, -T.One, T.One);
    }

    public Vector256<T> GradInput(Vector256<T> x, Vector256<T> t)
    {
        Vector256<T> d = x - t, b = Vector256.Create(beta);
        return huber ? Vector256.Min(Vector256.Max(d, -b), b) : Vector256.Min(Vector256.Max(d / b, -Vector256<T>.One), Vector256<T>.One);
    }

    public Vector512<T> GradInput(Vector512<T> x, Vector512<T> t)
    {
        Vector512<T> d = x - t, b = Vector512.Create(beta);
        return huber ? Vector512.Min(Vector512.Max(d, -b), b) : Vector512.Min(Vector512.Max(d / b, -Vector512<T>.One), Vector512<T>.One);
    }

    public Vector128<T> GradInput(Vector128<T> x, Vector128<T> t)
    {
        Vector128<T> d = x - t, b = Vector128.Create(beta);
        return huber ? Vector128.Min(Vector128.Max(d, -b), b) : Vector128.Min(Vector128.Max(d / b, -Vector128<T>.One), Vector128<T>.One);
    }

    public T GradTarget(T x, T t) => -GradInput(x, t);
    public Vector256<T> GradTarget(Vector256<T> x, Vector256<T> t) => -GradInput(x, t);
    public Vector512<T> GradTarget(Vector512<T> x, Vector512<T> t) => -GradInput(x, t);
    public Vector128<T> GradTarget(Vector128<T> x, Vector128<T> t) => -GradInput(x, t);
}

/// <summary>
/// Binary cross-entropy of a probability x ∈ [0, 1] and target t, PyTorch's form with each log clamped at −100:
/// ℓ = (t − 1)·max(log(1 − x), −100) − t·max(log x, −100); ∂ℓ/∂x = (x − t)/max((1 − x)·x, 10⁻¹² as a float);
/// ∂ℓ/∂t = log(1 − x) − log x (−logit x, unclamped: ±∞ at 0 and 1). log(1 − x) is computed as log1p(−x).
/// </summary>
internal readonly struct BceTerm<T> : ILossTerm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // PyTorch's EPSILON reaches the clamp as a float, 1e−12f = 9.9999999600e−13, in float64 too (measured against torch 1.13).
    private static readonly T Floor = T.CreateTruncating(-100), Epsilon = T.CreateTruncating(1e-12f);

    /// <summary>log(1 − x) accurate for small x (the rounding of 1 − x is corrected); −∞ at x = 1.</summary>
    public static T Log1m(T x)
    {
        T w = T.One - x;
        return w == T.One ? -x : T.Log(w) * -x / (w - T.One);
    }

    /// <summary>log x, −∞ at 0 (whatever the vector log does there).</summary>
    private static Vector256<T> Log(Vector256<T> x)
        => Vector256.ConditionalSelect(Vector256.Equals(x, Vector256<T>.Zero), Vector256.Create(T.NegativeInfinity), SimdMath.Log(x));

    private static Vector512<T> Log(Vector512<T> x)
        => Vector512.ConditionalSelect(Vector512.Equals(x, Vector512<T>.Zero), Vector512.Create(T.NegativeInfinity), SimdMath.Log(x));

    private static Vector128<T> Log(Vector128<T> x)
        => Vector128.ConditionalSelect(Vector128.Equals(x, Vector128<T>.Zero), Vector128.Create(T.NegativeInfinity), SimdMath.Log(x));

    private static Vector256<T> Log1m(Vector256<T> x)
    {
        Vector256<T> w = Vector256<T>.One - x;
        Vector256<T> corrected = Log(w) * -x / (w - Vector256<T>.One);
        return Vector256.ConditionalSelect(Vector256.Equals(w, Vector256<T>.One), -x, corrected);
    }

    private static Vector512<T> Log1m(Vector512<T> x)
    {
        Vector512<T> w = Vector512<T>.One - x;
        Vector512<T> corrected = Log(w) * -x / (w - Vector512<T>.One);
        return Vector512.ConditionalSelect(Vector512.Equals(w, Vector512<T>.One), -x, corrected);
    }

    private static Vector128<T> Log1m(Vector128<T> x)
    {
        Vector128<T> w = Vector128<T>.One - x;
        Vector128<T> corrected = Log(w) * -x / (w - Vector128<T>.One);
        return Vector128.ConditionalSelect(Vector128.Equals(w, Vector128<T>.One), -x, corrected);
    }

    public T Loss(T x, T t) => (t - T.One) * T.Max(Log1m(x), Floor) - t * T.Max(T.Log(x), Floor);

    public Vector256<T> Loss(Vector256<T> x, Vector256<T> t)
    {
        Vector256<T> floor = Vector256.Create(Floor);
        return (t - Vector256<T>.One) * Vector256.Max(Log1m(x), floor) - t * Vector256.Max(Log(x), floor);
    }

    public Vector512<T> Loss(Vector512<T> x, Vector512<T> t)
    {
        Vector512<T> floor = Vector512.Create(Floor);
        return (t - Vector512<T>.One) * Vector512.Max(Log1m(x), floor) - t * Vector512.Max(Log(x), floor);
    }

    public Vector128<T> Loss(Vector128<T> x, Vector128<T> t)
    {
        Vector128<T> floor = Vector128.Create(Floor);
        return (t - Vector128<T>.One) * Vector128.Max(Log1m(x), floor) - t * Vector128.Max(Log(x), floor);
    }

    public T GradInput(T x, T t) => (x - t) / T.Max((T.One - x) * x, Epsilon);
    public Vector256<T> GradInput(Vector256<T> x, Vector256<T> t) => (x - t) / Vector256.Max((Vector256<T>.One - x) * x, Vector256.Create(Epsilon));
    public Vector512<T> GradInput(Vector512<T> x, Vector512<T> t) => (x - t) / Vector512.Max((Vector512<T>.One - x) * x, Vector512.Create(Epsilon));
    public Vector128<T> GradInput(Vector128<T> x, Vector128<T> t) => (x - t) / Vector128.Max((Vector128<T>.One - x) * x, Vector128.Create(Epsilon));

    public T GradTarget(T x, T t) => Log1m(x) - T.Log(x);
    public Vector256<T> GradTarget(Vector256<T> x, Vector256<T> t) => Log1m(x) - Log(x);
    public Vector512<T> GradTarget(Vector512<T> x, Vector512<T> t) => Log1m(x) - Log(x);
    public Vector128<T> GradTarget(Vector128<T> x, Vector128<T> t) => Log1m(x) - Log(x);
}

/// <summary>
/// Pointwise KL divergence of log-probabilities x from target t, PyTorch's composite form:
/// t as probabilities: ℓ = xlogy(t, t) − t·x (0·log 0 = 0), ∂ℓ/∂x = −t, ∂ℓ/∂t = log t + t/t − x
/// (NaN at t = 0, as PyTorch's autograd of xlogy gives); t as log-probabilities (logTarget):
/// ℓ = eᵗ·(t − x), ∂ℓ/∂x = −eᵗ, ∂ℓ/∂t = eᵗ·(t − x) + eᵗ.
/// </summary>
internal readonly struct KLDivTerm<T>(bool logTarget) : ILossTerm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Loss(T x, T t)
    {
        if (logTarget) return T.Exp(t) * (t - x);
        return (t == T.Zero ? T.Zero : t * T.Log(t)) - t * x;
    }

    public Vector256<T> Loss(Vector256<T> x, Vector256<T> t)
    {
        if (logTarget) return SimdMath.Exp(t) * (t - x);
        Vector256<T> xlogy = Vector256.ConditionalSelect(Vector256.Equals(t, Vector256<T>.Zero), Vector256<T>.Zero, t * SimdMath.Log(t));
        return xlogy - t * x;
    }

    public Vector512<T> Loss(Vector512<T> x, Vector512<T> t)
    {
        if (logTarget) return SimdMath.Exp(t) * (t - x);
        Vector512<T> xlogy = Vector512.ConditionalSelect(Vector512.Equals(t, Vector512<T>.Zero), Vector512<T>.Zero, t * SimdMath.Log(t));
        return xlogy - t * x;
    }

    public Vector128<T> Loss(Vector128<T> x, Vector128<T> t)
    {
        if (logTarget) return SimdMath.Exp(t) * (t - x);
        Vector128<T> xlogy = Vector128.ConditionalSelect(Vector128.Equals(t, Vector128<T>.Zero), Vector128<T>.Zero, t * SimdMath.Log(t));
        return xlogy - t * x;
    }

    public T GradInput(T x, T t) => logTarget ? -T.Exp(t) : -t;
    public Vector256<T> GradInput(Vector256<T> x, Vector256<T> t) => logTarget ? -SimdMath.Exp(t) : -t;
    public Vector512<T> GradInput(Vector512<T> x, Vector512<T> t) => logTarget ? -SimdMath.Exp(t) : -t;
    public Vector128<T> GradInput(Vector128<T> x, Vector128<T> t) => logTarget ? -SimdMath.Exp(t) : -t;

    public T GradTarget(T x, T t)
    {
        if (logTarget)
        {
            T e = T.Exp(t);
            return e * (t - x) + e;
        }
        return T.Log(t) + t / t - x;
    }

    public Vector256<T> GradTarget(Vector256<T> x, Vector256<T> t)
    {
        if (logTarget)
        {
            Vector256<T> e = SimdMath.Exp(t);
            return e * (t - x) + e;
        }
        return SimdMath.Log(t) + t / t - x;
    }

    public Vector512<T> GradTarget(Vector512<T> x, Vector512<T> t)
    {
        if (logTarget)
        {
            Vector512<T> e = SimdMath.Exp(t);
            return e * (t - x) + e;
        }
        return SimdMath.Log(t) + t / t - x;
    }

    public Vector128<T> GradTarget(Vector128<T> x, Vector128<T> t)
    {
        if (logTarget)
        {
            Vector128<T> e = SimdMath.Exp(t);
            return e * (t - x) + e;
        }
        return SimdMath.Log(t) + t / t - x;
    }
}
