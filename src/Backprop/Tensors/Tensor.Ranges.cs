namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>An [n, m] matrix with ones on the diagonal and zeros elsewhere (torch.eye); m defaults to n; a bool dtype gives a diagonal mask.</summary>
    /// <exception cref="ArgumentException">n or m is negative, or the dtype is not float32, float64, int64 or bool.</exception>
    public static Tensor Eye(int n, int? m = null, DType dtype = DType.Float32)
    {
        int cols = m ?? n;
        if (n < 0 || cols < 0)
            throw new ArgumentException($"Eye: n and m must be greater or equal to 0, got n = {n} and m = {cols}");
        if (dtype != DType.Bool) CheckRangeDType(dtype, "Eye"); // a bool identity is a diagonal mask, as torch.eye(dtype=torch.bool)
        var t = new Tensor(new Shape(n, cols), dtype);
        int diagonal = Math.Min(n, cols);
        for (int i = 0; i < diagonal; i++)
        {
            int at = i * cols + i;
            switch (dtype)
            {
                case DType.Float32: t.Data<float>()[at] = 1; break;
                case DType.Float64: t.Data<double>()[at] = 1; break;
                case DType.Bool: t.Data<bool>()[at] = true; break;
                default: t.Data<long>()[at] = 1; break;
            }
        }
        return t;
    }

    /// <summary>
    /// <paramref name="steps"/> evenly spaced values from start to end, both included (torch.linspace). As PyTorch,
    /// the first half is start + step·i and the second half end − step·(steps − 1 − i), computed in the dtype
    /// (int64 steps in double and truncated), so the last value is exactly end.
    /// </summary>
    /// <exception cref="ArgumentException">steps is negative, or the dtype is not float32, float64 or int64.</exception>
    public static Tensor Linspace(double start, double end, int steps, DType dtype = DType.Float32)
        => Spaced(start, end, steps, null, dtype, "Linspace");

    /// <summary>
    /// <paramref name="steps"/> values base^v for v evenly spaced from start to end, both included (torch.logspace),
    /// the exponents computed as <see cref="Linspace"/> computes its values.
    /// </summary>
    /// <exception cref="ArgumentException">steps is negative, or the dtype is not float32, float64 or int64.</exception>
    public static Tensor Logspace(double start, double end, int steps, double @base = 10, DType dtype = DType.Float32)
        => Spaced(start, end, steps, @base, dtype, "Logspace");

    private static Tensor Spaced(double start, double end, int steps, double? logBase, DType dtype, string op)
    {
        if (steps < 0)
            throw new ArgumentException($"{op}: number of steps must be non-negative, got {steps} (from {start} to {end})");
        CheckRangeDType(dtype, op);
        var t = new Tensor(new Shape(steps), dtype);
        int halfway = steps / 2;
        switch (dtype)
        {
            case DType.Float32:
            {
                Span<float> d = t.Data<float>();
                float s = (float)start, e = (float)end, step = (e - s) / (steps - 1);
                for (int i = 0; i < steps; i++)
                {
                    float v = steps == 1 ? s : i < halfway ? s + step * i : e - step * (steps - i - 1);
                    d[i] = logBase is { } b ? (float)Math.Pow((float)b, v) : v;
                }
                break;
            }
            case DType.Float64:
            {
                Span<double> d = t.Data<double>();
                double step = (end - start) / (steps - 1);
                for (int i = 0; i < steps; i++)
                {
                    double v = steps == 1 ? start : i < halfway ? start + step * i : end - step * (steps - i - 1);
                    d[i] = logBase is { } b ? Math.Pow(b, v) : v;
                }
                break;
            }
            default:
            {
                // PyTorch converts start and end to int64 first, steps in double, and truncates each value.
                Span<long> d = t.Data<long>();
                long s = ToInt64(start, op), e = ToInt64(end, op);
                double step = ((double)e - s) / (steps - 1);
                for (int i = 0; i < steps; i++)
                {
                    double v = steps == 1 ? s : i < halfway ? s + step * i : e - step * (steps - i - 1);
                    d[i] = (long)(logBase is { } b ? Math.Pow(Math.Truncate(b), v) : v); // an int64 base is truncated too
                }
                break;
            }
        }
        return t;
    }

    private static void CheckRangeDType(DType dtype, string op)
    {
        if (dtype is not (DType.Float32 or DType.Float64 or DType.Int64))
            throw new ArgumentException($"{op}: dtype must be float32, float64 or int64, got {dtype.Name()}");
    }
}
