namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(Shape shape, DType dtype = DType.Float32) => new(shape, dtype);

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(Shape shape, DType dtype = DType.Float32) => Full(shape, 1.0, dtype);

    /// <summary>A tensor of zeros with the shape and dtype of <paramref name="like"/>.</summary>
    public static Tensor ZerosLike(Tensor like) => new(like.Shape, like.DType);

    /// <summary>A tensor of ones with the shape and dtype of <paramref name="like"/>.</summary>
    public static Tensor OnesLike(Tensor like) => Full(like.Shape, 1.0, like.DType);

    /// <summary>A tensor filled with one value (truncated toward zero for int64; for bool, true unless the value is 0).</summary>
    /// <exception cref="ArgumentException">The dtype is int64 and the value is NaN, infinite or outside the int64 range.</exception>
    public static Tensor Full(Shape shape, double value, DType dtype = DType.Float32)
    {
        var t = new Tensor(shape, dtype);
        switch (dtype)
        {
            case DType.Float32: t.Data<float>().AsSpan().Fill((float)value); break;
            case DType.Float64: t.Data<double>().AsSpan().Fill(value); break;
            case DType.Int64: t.Data<long>().AsSpan().Fill(ToInt64(value, "Full")); break;
            default: t.Data<bool>().AsSpan().Fill(value != 0); break; // NaN is true, as PyTorch
        }
        return t;
    }

    /// <summary>A bool tensor filled with one value.</summary>
    public static Tensor Full(Shape shape, bool value) => Full(shape, value ? 1 : 0, DType.Bool);

    /// <summary>A 0-dimensional tensor holding one value.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32) => Full(Shape.Scalar, value, dtype);

    /// <summary>Values start, start+step, ... below end (as torch.arange).</summary>
    /// <exception cref="ArgumentException">
    /// A bound or the step is NaN or infinite, the step is zero or points away from end, the range holds
    /// more than <see cref="int.MaxValue"/> values, or (int64) a value does not fit in int64.
    /// </exception>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Float32)
    {
        const string op = "Arange";
        if (!double.IsFinite(start) || !double.IsFinite(end))
            throw new ArgumentException($"{op}: start and end must be finite, got start {start} and end {end}");
        if (!double.IsFinite(step) || step == 0)
            throw new ArgumentException($"{op}: step must be finite and nonzero, got step {step} (from {start} to {end})");
        if ((end - start) * step < 0)
            throw new ArgumentException($"{op}: step {step} cannot go from {start} to {end} (its sign points away from end)");
        // Counted in double before anything is allocated: a range such as 0 to 1e12 is an argument error, not out of memory.
        double count = Math.Max(0, Math.Ceiling((end - start) / step));
        if (dtype == DType.Bool)
            throw new ArgumentException($"{op}: a range cannot be bool (from {start} to {end}); use Int64, Float32 or Float64");
        if (!(count <= int.MaxValue))
            throw new ArgumentException($"{op}: {start} to {end} by step {step} holds {count:G4} values, more than the {int.MaxValue} a tensor can hold");
        int n = (int)count;
        if (dtype == DType.Int64 && n > 0)
        {
            ToInt64(start, op);
            ToInt64(start + (n - 1) * step, op);
        }
        var t = new Tensor(new Shape(n), dtype);
        for (int i = 0; i < n; i++)
        {
            double v = start + i * step;
            switch (dtype)
            {
                case DType.Float32: t.Data<float>()[i] = (float)v; break;
                case DType.Float64: t.Data<double>()[i] = v; break;
                default: t.Data<long>()[i] = (long)v; break;
            }
        }
        return t;
    }

    /// <summary>0, 1, ..., end-1.</summary>
    public static Tensor Arange(int end, DType dtype = DType.Float32) => Arange(0, end, 1, dtype);

    /// <summary>
    /// Copies an array into a new tensor of the given shape (default: 1-D): float → Float32, double → Float64,
    /// long → Int64, bool → Bool. An <c>int[]</c> (C#'s usual index type) takes the overload
    /// <see cref="FromArray(int[], Shape)"/> and becomes Int64, the dtype PyTorch uses for indices.
    /// </summary>
    /// <exception cref="ArgumentException">The shape's element count differs from the array length.</exception>
    /// <exception cref="NotSupportedException">T is not float, double, long, int or bool.</exception>
    public static Tensor FromArray<T>(T[] data, Shape? shape = null) where T : unmanaged
    {
        if (typeof(T) == typeof(int)) return FromArray((int[])(object)data, shape); // reached through generic code only
        CheckArrayElementType<T>("FromArray");
        shape ??= new Shape(data.Length);
        if (shape.Numel != data.Length)
            throw new ArgumentException($"FromArray: {data.Length} values cannot fill shape {shape} ({shape.Numel} elements)");
        return new Tensor(new Storage<T>((T[])data.Clone()), shape, shape.ContiguousStrides(), 0);
    }

    /// <summary>
    /// Copies C# ints into a new Int64 tensor (default: 1-D). There is no int32 dtype: every index op takes
    /// int64, as PyTorch's do, so <c>x.IndexSelect(0, Tensor.FromArray(new[] { 2, 0 }))</c> just works.
    /// </summary>
    /// <exception cref="ArgumentException">The shape's element count differs from the array length.</exception>
    public static Tensor FromArray(int[] data, Shape? shape = null)
    {
        shape ??= new Shape(data.Length);
        if (shape.Numel != data.Length)
            throw new ArgumentException($"FromArray: {data.Length} values cannot fill shape {shape} ({shape.Numel} elements)");
        var values = new long[data.Length];
        for (int i = 0; i < data.Length; i++) values[i] = data[i];
        return new Tensor(new Storage<long>(values), shape, shape.ContiguousStrides(), 0);
    }

    /// <summary>Copies a 2-D array into a new [rows, cols] tensor (int becomes Int64, as in <see cref="FromArray(int[], Shape)"/>).</summary>
    /// <exception cref="NotSupportedException">T is not float, double, long, int or bool.</exception>
    public static Tensor FromArray<T>(T[,] data) where T : unmanaged
    {
        var flat = new T[data.Length];
        int k = 0;
        foreach (T v in data) flat[k++] = v;
        return FromArray(flat, new Shape(data.GetLength(0), data.GetLength(1)));
    }

    /// <summary>Wraps an array without copying; writes to either are visible in both.</summary>
    /// <exception cref="ArgumentException">The shape's element count differs from the array length.</exception>
    /// <exception cref="NotSupportedException">T is not float, double, long or bool (an int[] cannot be shared: copy it with FromArray, which makes it Int64).</exception>
    public static Tensor WrapArray<T>(T[] data, Shape shape) where T : unmanaged
    {
        CheckArrayElementType<T>("WrapArray");
        if (shape.Numel != data.Length)
            throw new ArgumentException($"WrapArray: {data.Length} values cannot fill shape {shape} ({shape.Numel} elements)");
        return new Tensor(new Storage<T>(data), shape, shape.ContiguousStrides(), 0);
    }

    private static void CheckArrayElementType<T>(string op) where T : unmanaged
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double) && typeof(T) != typeof(long) && typeof(T) != typeof(bool))
            throw new NotSupportedException(typeof(T) == typeof(int)
                ? $"{op}: an int[] cannot back a tensor without a copy (there is no int32 dtype); Tensor.FromArray(int[]) copies it into an Int64 tensor"
                : $"{op}: element type {typeof(T).Name} is not supported; use float, double, long, int (stored as int64) or bool");
    }

    /// <summary>Samples from U(low, high).</summary>
    /// <exception cref="ArgumentException">
    /// The dtype is not floating point, a bound is NaN, infinite or outside the dtype's range, low exceeds high,
    /// or high − low overflows (as torch.Tensor.uniform_).
    /// </exception>
    public static Tensor Uniform(Shape shape, double low, double high, DType dtype = DType.Float32, Generator? generator = null)
    {
        CheckRandomDType(dtype, "Uniform");
        CheckUniformBounds(low, high, dtype);
        Generator g = Generator.Use(generator);
        var t = new Tensor(shape, dtype);
        double span = high - low;
        if (dtype == DType.Float32)
        {
            Span<float> d = t.Data<float>();
            for (int i = 0; i < d.Length; i++) d[i] = (float)(low + span * g.NextSingle());
        }
        else
        {
            Span<double> d = t.Data<double>();
            for (int i = 0; i < d.Length; i++) d[i] = low + span * g.NextDouble();
        }
        return t;
    }

    /// <summary>
    /// Samples from N(mean, std²). Unlike torch.normal, which fills the tensor with ±∞ or NaN, an
    /// infinite std or a NaN or infinite mean is refused: no such sample is ever wanted.
    /// </summary>
    /// <exception cref="ArgumentException">The dtype is not floating point, std is negative or NaN (as PyTorch), or std or mean is not finite in the dtype.</exception>
    public static Tensor Normal(Shape shape, double mean = 0, double std = 1, DType dtype = DType.Float32, Generator? generator = null)
    {
        CheckRandomDType(dtype, "Normal");
        CheckNormalParameters(mean, std, dtype);
        Generator g = Generator.Use(generator);
        var t = new Tensor(shape, dtype);
        if (dtype == DType.Float32)
        {
            Span<float> d = t.Data<float>();
            for (int i = 0; i < d.Length; i++) d[i] = (float)(mean + std * g.NextNormal());
        }
        else
        {
            Span<double> d = t.Data<double>();
            for (int i = 0; i < d.Length; i++) d[i] = mean + std * g.NextNormal();
        }
        return t;
    }

    /// <summary>Samples from U(0, 1).</summary>
    public static Tensor Rand(Shape shape, DType dtype = DType.Float32, Generator? generator = null)
        => Uniform(shape, 0, 1, dtype, generator);

    /// <summary>Samples from N(0, 1).</summary>
    public static Tensor Randn(Shape shape, DType dtype = DType.Float32, Generator? generator = null)
        => Normal(shape, 0, 1, dtype, generator);

    /// <summary>Uniform integers in [low, high) as int64.</summary>
    /// <exception cref="ArgumentException">The range is empty or holds more than <see cref="long.MaxValue"/> values.</exception>
    public static Tensor RandInt(Shape shape, long low, long high, Generator? generator = null)
    {
        if (high <= low)
            throw new ArgumentException($"RandInt: empty range [{low}, {high})");
        if (high - low <= 0) // wrapped: the range holds more than long.MaxValue values
            throw new ArgumentException($"RandInt: range [{low}, {high}) holds more than {long.MaxValue} values");
        Generator g = Generator.Use(generator);
        var t = new Tensor(shape, DType.Int64);
        Span<long> d = t.Data<long>();
        for (int i = 0; i < d.Length; i++) d[i] = low + g.NextInt64(high - low);
        return t;
    }

    private static void CheckUniformBounds(double low, double high, DType dtype)
    {
        double limit = dtype == DType.Float32 ? float.MaxValue : double.MaxValue;
        if (!(Math.Abs(low) <= limit) || !(Math.Abs(high) <= limit))
            throw new ArgumentException($"Uniform: low and high must be finite {dtype.Name()} values, got low {low} and high {high}");
        if (low > high)
            throw new ArgumentException($"Uniform: low must not exceed high (samples lie in [low, high)), got low {low} > high {high}");
        if (!double.IsFinite(high - low))
            throw new ArgumentException($"Uniform: high − low overflows, got low {low} and high {high}");
    }

    private static void CheckNormalParameters(double mean, double std, DType dtype)
    {
        if (!(std >= 0))
            throw new ArgumentException($"Normal: std must be non-negative, got std {std} (mean {mean})");
        double limit = dtype == DType.Float32 ? float.MaxValue : double.MaxValue;
        if (!(std <= limit) || !(Math.Abs(mean) <= limit))
            throw new ArgumentException($"Normal: mean and std must be finite {dtype.Name()} values, got mean {mean} and std {std}");
    }

    /// <summary>The int64 a double truncates to, or an exception naming the op when it has none.</summary>
    private static long ToInt64(double value, string op)
    {
        // 2^63 is exact in double; long.MinValue = −2^63 is the only bound that fits.
        if (!(value >= -9223372036854775808.0 && value < 9223372036854775808.0))
            throw new ArgumentException($"{op}: value {value} cannot be stored as int64 (NaN, infinite or outside [−2^63, 2^63))");
        return (long)value;
    }

    private static void CheckRandomDType(DType dtype, string op)
    {
        if (!dtype.IsFloatingPoint())
            throw new ArgumentException($"{op}: random samples need a floating-point dtype, got {dtype.Name()}; use RandInt for integers");
    }
}
