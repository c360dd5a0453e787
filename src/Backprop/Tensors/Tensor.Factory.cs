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

    /// <summary>A tensor filled with one value.</summary>
    public static Tensor Full(Shape shape, double value, DType dtype = DType.Float32)
    {
        var t = new Tensor(shape, dtype);
        switch (dtype)
        {
            case DType.Float32: t.Data<float>().AsSpan().Fill((float)value); break;
            case DType.Float64: t.Data<double>().AsSpan().Fill(value); break;
            default: t.Data<long>().AsSpan().Fill(checked((long)value)); break;
        }
        return t;
    }

    /// <summary>A 0-dimensional tensor holding one value.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32) => Full(Shape.Scalar, value, dtype);

    /// <summary>Values start, start+step, ... below end (as torch.arange).</summary>
    /// <exception cref="ArgumentException">step is zero or has the wrong sign.</exception>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Float32)
    {
        if (step == 0 || (end - start) * step < 0 && end != start)
            throw new ArgumentException($"Arange: step {step} cannot go from {start} to {end}");
        int n = (int)Math.Max(0, Math.Ceiling((end - start) / step));
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

    /// <summary>Copies an array into a new tensor of the given shape (default: 1-D).</summary>
    /// <exception cref="ArgumentException">The shape's element count differs from the array length.</exception>
    public static Tensor FromArray<T>(T[] data, Shape? shape = null) where T : unmanaged
    {
        shape ??= new Shape(data.Length);
        if (shape.Numel != data.Length)
            throw new ArgumentException($"FromArray: {data.Length} values cannot fill shape {shape} ({shape.Numel} elements)");
        return new Tensor(new Storage<T>((T[])data.Clone()), shape, shape.ContiguousStrides(), 0);
    }

    /// <summary>Copies a 2-D array into a new [rows, cols] tensor.</summary>
    public static Tensor FromArray<T>(T[,] data) where T : unmanaged
    {
        var flat = new T[data.Length];
        int k = 0;
        foreach (T v in data) flat[k++] = v;
        return new Tensor(new Storage<T>(flat), new Shape(data.GetLength(0), data.GetLength(1)), [data.GetLength(1), 1], 0);
    }

    /// <summary>Wraps an array without copying; writes to either are visible in both.</summary>
    public static Tensor WrapArray<T>(T[] data, Shape shape) where T : unmanaged
    {
        if (shape.Numel != data.Length)
            throw new ArgumentException($"WrapArray: {data.Length} values cannot fill shape {shape} ({shape.Numel} elements)");
        return new Tensor(new Storage<T>(data), shape, shape.ContiguousStrides(), 0);
    }

    /// <summary>Samples from U(low, high).</summary>
    public static Tensor Uniform(Shape shape, double low, double high, DType dtype = DType.Float32, Generator? generator = null)
    {
        CheckRandomDType(dtype, "Uniform");
        Generator g = generator ?? Generator.Default;
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

    /// <summary>Samples from N(mean, std²).</summary>
    public static Tensor Normal(Shape shape, double mean = 0, double std = 1, DType dtype = DType.Float32, Generator? generator = null)
    {
        CheckRandomDType(dtype, "Normal");
        Generator g = generator ?? Generator.Default;
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
    public static Tensor RandInt(Shape shape, long low, long high, Generator? generator = null)
    {
        if (high <= low)
            throw new ArgumentException($"RandInt: empty range [{low}, {high})");
        Generator g = generator ?? Generator.Default;
        var t = new Tensor(shape, DType.Int64);
        Span<long> d = t.Data<long>();
        for (int i = 0; i < d.Length; i++) d[i] = low + g.NextInt64(high - low);
        return t;
    }

    private static void CheckRandomDType(DType dtype, string op)
    {
        if (!dtype.IsFloatingPoint())
            throw new ArgumentException($"{op}: random samples need a floating-point dtype, got {dtype.Name()}; use RandInt for integers");
    }
}
