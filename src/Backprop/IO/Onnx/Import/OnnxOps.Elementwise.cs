using Backprop.Ops.Elementwise;
using Backprop.Tensors;

namespace Backprop.IO.Onnx.Import;

// Element-wise ops: numpy broadcasting is the engine's, so binary ops map one to one.
internal static partial class OnnxOps
{
    private static void AddElementwise(Dictionary<string, OnnxOp> t)
    {
        Binary(t, "Add", (a, b) => a + b);
        Binary(t, "Sub", (a, b) => a - b);
        Binary(t, "Mul", (a, b) => a * b);
        // Integer division truncates in ONNX (C's /); the engine's true division would give floats.
        Binary(t, "Div", (a, b) => a.DType.IsFloatingPoint() ? a / b : a.Div(b, RoundingMode.Trunc));
        Binary(t, "Pow", Pow);
        Binary(t, "Equal", (a, b) => a.Eq(b));
        Binary(t, "Less", (a, b) => a.Lt(b));
        Binary(t, "Greater", (a, b) => a.Gt(b));
        Binary(t, "LessOrEqual", (a, b) => a.Le(b));
        Binary(t, "GreaterOrEqual", (a, b) => a.Ge(b));
        Binary(t, "And", (a, b) => a.LogicalAnd(b));
        Binary(t, "Or", (a, b) => a.LogicalOr(b));
        Binary(t, "Xor", (a, b) => a.LogicalXor(b));
        Variadic(t, "Max", (a, b) => a.Maximum(b));
        Variadic(t, "Min", (a, b) => a.Minimum(b));
        Variadic(t, "Sum", (a, b) => a + b);
        t["Mean"] = (n, x, _) =>
        {
            Tensor sum = In(n, x, 0);
            for (int i = 1; i < x.Length; i++) sum = sum + In(n, x, i);
            return One(x.Length == 1 ? sum : sum / x.Length);
        };

        Unary(t, "Relu", x => x.Relu());
        Unary(t, "Sigmoid", x => x.Sigmoid());
        Unary(t, "Tanh", x => x.Tanh());
        Unary(t, "Erf", x => x.Erf());
        Unary(t, "Exp", x => x.Exp());
        Unary(t, "Log", x => x.Log());
        Unary(t, "Sqrt", x => x.Sqrt());
        Unary(t, "Abs", x => x.Abs());
        Unary(t, "Neg", x => x.Neg());
        Unary(t, "Reciprocal", x => x.Reciprocal());
        Unary(t, "Floor", x => x.Floor());
        Unary(t, "Ceil", x => x.Neg().Floor().Neg());
        Unary(t, "Sign", x => x.Sign());
        Unary(t, "Sin", x => x.Sin());
        Unary(t, "Cos", x => x.Cos());
        Unary(t, "Softplus", x => x.Softplus());
        Unary(t, "Softsign", x => x / (x.Abs() + 1.0));
        Unary(t, "Not", x => x.LogicalNot());
        Unary(t, "Identity", x => x);
        t["ThresholdedRelu"] = (n, x, _) => { Tensor v = In(n, x, 0); return One(Tensor.Where(v.Gt(n.Float("alpha", 1f)), v, 0.0)); };
        t["CastLike"] = (n, x, _) => { Tensor v = In(n, x, 0); DType to = In(n, x, 1).DType; return One(v.DType == to ? v : to == DType.Bool ? v.Ne(0.0) : v.To(to)); };
        t["LeakyRelu"] = (n, x, _) => One(In(n, x, 0).LeakyRelu(n.Float("alpha", 0.01f)));
        t["Elu"] = (n, x, _) => One(Elu(In(n, x, 0), n.Float("alpha", 1f), 1));
        t["Selu"] = (n, x, _) => One(Elu(In(n, x, 0), n.Float("alpha", 1.67326319217681884765625f), n.Float("gamma", 1.05070102214813232421875f)));
        t["HardSigmoid"] = (n, x, _) => One((In(n, x, 0) * (double)n.Float("alpha", 0.2f) + (double)n.Float("beta", 0.5f)).Clamp(0, 1));
        t["HardSwish"] = (n, x, _) => { Tensor v = In(n, x, 0); return One(v * (v * (1.0 / 6) + 0.5).Clamp(0, 1)); };
        t["PRelu"] = (n, x, _) => { Tensor v = In(n, x, 0); return One(Tensor.Where(v.Lt(0.0), v * In(n, x, 1), v)); };
        t["Gelu"] = (n, x, _) => n.String("approximate", "none") switch
        {
            "none" => One(In(n, x, 0).Gelu()),
            "tanh" => One(In(n, x, 0).Gelu(GeluApproximation.Tanh)),
            string s => throw n.Unsupported($"approximate '{s}' (none and tanh are)"),
        };
        t["Clip"] = Clip;
        t["Cast"] = Cast;
        t["Where"] = (n, x, _) => One(Tensor.Where(In(n, x, 0), In(n, x, 1), In(n, x, 2)));
    }

    private static void Unary(Dictionary<string, OnnxOp> t, string op, Func<Tensor, Tensor> f) => t[op] = (n, x, _) => One(f(In(n, x, 0)));

    private static void Binary(Dictionary<string, OnnxOp> t, string op, Func<Tensor, Tensor, Tensor> f) => t[op] = (n, x, _) =>
    {
        // Opsets before 7 broadcast only with an explicit attribute, aligned at an axis: not numpy's rule.
        if (n.Opset < 7 && n.Int("broadcast", 0) != 0) throw n.Unsupported("legacy broadcasting (opset < 7 with broadcast=1)");
        return One(f(In(n, x, 0), In(n, x, 1)));
    };

    private static void Variadic(Dictionary<string, OnnxOp> t, string op, Func<Tensor, Tensor, Tensor> f) => t[op] = (n, x, _) =>
    {
        Tensor y = In(n, x, 0);
        for (int i = 1; i < x.Length; i++) y = f(y, In(n, x, i));
        return One(y);
    };

    // ONNX's result has the base's type: a float base to an integer power stays float, as does an integer base to a float one (truncated).
    private static Tensor Pow(Tensor a, Tensor b)
    {
        if (a.DType.IsFloatingPoint()) return a.Pow(b.DType == a.DType ? b : b.To(a.DType));
        if (b.DType.IsFloatingPoint()) return a.To(DType.Float64).Pow(b.To(DType.Float64)).To(a.DType);
        return a.Pow(b);
    }

    private static Tensor Elu(Tensor x, double alpha, double gamma)
    {
        Tensor y = Tensor.Where(x.Gt(0.0), x, (x.Exp() - 1.0) * alpha);
        return gamma == 1 ? y : y * gamma;
    }

    private static Tensor?[] Clip(OnnxNode n, Tensor?[] x, bool training)
    {
        Tensor v = In(n, x, 0);
        double? min, max;
        if (n.Opset < 11)
        {
            min = n.Has("min") ? n.Float("min", 0) : null;
            max = n.Has("max") ? n.Float("max", 0) : null;
        }
        else
        {
            min = Optional(x, 1) is { } lo ? Scalar(n, lo, "min") : null;
            max = Optional(x, 2) is { } hi ? Scalar(n, hi, "max") : null;
        }
        if (min is null && max is null) return One(v);
        // Clip with min > max gives max everywhere (numpy's clip), which a clamp to min then max reproduces.
        if (min is { } a && max is { } b && a > b) return One(v.ClampMin(a).ClampMax(b));
        return One(v.Clamp(min, max));
    }

    private static Tensor?[] Cast(OnnxNode n, Tensor?[] x, bool training)
    {
        long to = n.Int("to", 0);
        DType dtype = OnnxTensors.DTypeOf((int)to) ?? throw n.Unsupported($"cast to {OnnxTensors.Name((int)to)} (FLOAT, DOUBLE, INT64, BOOL and smaller integers are supported)");
        Tensor v = In(n, x, 0);
        if (v.DType == dtype) return One(v);
        return One(dtype == DType.Bool ? v.Ne(0.0) : v.To(dtype));
    }
}
