using Backprop.Tensors;

namespace Backprop.NN;

/// <summary>Which fan the Kaiming initialisers preserve the variance of.</summary>
public enum FanMode
{
    /// <summary>Preserve activations' variance in the forward pass.</summary>
    FanIn,
    /// <summary>Preserve gradients' variance in the backward pass.</summary>
    FanOut,
}

/// <summary>Nonlinearities that have a recommended initialisation gain.</summary>
public enum Nonlinearity
{
    /// <summary>Identity / linear layers (gain 1).</summary>
    Linear,
    /// <summary>Sigmoid (gain 1).</summary>
    Sigmoid,
    /// <summary>Tanh (gain 5/3).</summary>
    Tanh,
    /// <summary>ReLU (gain √2).</summary>
    Relu,
    /// <summary>Leaky ReLU with slope a (gain √(2 / (1 + a²))).</summary>
    LeakyRelu,
    /// <summary>SELU (gain 3/4).</summary>
    Selu,
}

/// <summary>Weight initialisers with PyTorch's definitions (torch.nn.init).</summary>
public static class Init
{
    /// <summary>fan_in and fan_out of a weight shaped [out, in, *kernel] (as PyTorch computes them).</summary>
    /// <exception cref="ArgumentException">The shape has fewer than 2 dimensions.</exception>
    public static (int FanIn, int FanOut) Fans(Shape shape)
    {
        if (shape.Rank < 2)
            throw new ArgumentException($"Init: fan in and fan out need at least 2 dimensions, got shape {shape}");
        int receptive = 1;
        for (int d = 2; d < shape.Rank; d++) receptive *= shape[d];
        return (shape[1] * receptive, shape[0] * receptive);
    }

    /// <summary>The recommended gain for a nonlinearity (torch.nn.init.calculate_gain).</summary>
    public static double Gain(Nonlinearity nonlinearity, double negativeSlope = 0.01) => nonlinearity switch
    {
        Nonlinearity.Tanh => 5.0 / 3,
        Nonlinearity.Relu => Math.Sqrt(2.0),
        Nonlinearity.LeakyRelu => Math.Sqrt(2.0 / (1 + negativeSlope * negativeSlope)),
        Nonlinearity.Selu => 3.0 / 4,
        _ => 1.0,
    };

    /// <summary>U(low, high).</summary>
    /// <exception cref="ArgumentException">A bound is NaN or infinite, or low exceeds high (see <see cref="Tensor.Uniform"/>).</exception>
    public static Tensor Uniform(Shape shape, double low, double high, Generator? generator = null, DType dtype = DType.Float32)
        => Tensor.Uniform(shape, low, high, dtype, generator);

    /// <summary>N(mean, std²).</summary>
    /// <exception cref="ArgumentException">std is negative or NaN, or std or mean is infinite (see <see cref="Tensor.Normal"/>).</exception>
    public static Tensor Normal(Shape shape, double mean, double std, Generator? generator = null, DType dtype = DType.Float32)
        => Tensor.Normal(shape, mean, std, dtype, generator);

    /// <summary>Glorot/Xavier uniform: U(−a, a) with a = gain·√(6 / (fan_in + fan_out)).</summary>
    public static Tensor XavierUniform(Shape shape, double gain = 1, Generator? generator = null, DType dtype = DType.Float32)
    {
        var (fanIn, fanOut) = Fans(shape);
        double a = gain * Math.Sqrt(6.0 / (fanIn + fanOut));
        return Tensor.Uniform(shape, -a, a, dtype, generator);
    }

    /// <summary>Glorot/Xavier normal: N(0, std²) with std = gain·√(2 / (fan_in + fan_out)).</summary>
    public static Tensor XavierNormal(Shape shape, double gain = 1, Generator? generator = null, DType dtype = DType.Float32)
    {
        var (fanIn, fanOut) = Fans(shape);
        return Tensor.Normal(shape, 0, gain * Math.Sqrt(2.0 / (fanIn + fanOut)), dtype, generator);
    }

    /// <summary>Kaiming/He uniform: U(−b, b) with b = gain·√(3 / fan); gain from the nonlinearity and slope a.</summary>
    public static Tensor KaimingUniform(Shape shape, double a = 0, FanMode mode = FanMode.FanIn,
                                        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null, DType dtype = DType.Float32)
    {
        double bound = Gain(nonlinearity, a) * Math.Sqrt(3.0 / Fan(shape, mode));
        return Tensor.Uniform(shape, -bound, bound, dtype, generator);
    }

    /// <summary>Kaiming/He normal: N(0, std²) with std = gain / √fan.</summary>
    public static Tensor KaimingNormal(Shape shape, double a = 0, FanMode mode = FanMode.FanIn,
                                       Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null, DType dtype = DType.Float32)
        => Tensor.Normal(shape, 0, Gain(nonlinearity, a) / Math.Sqrt(Fan(shape, mode)), dtype, generator);

    private static int Fan(Shape shape, FanMode mode)
    {
        var (fanIn, fanOut) = Fans(shape);
        int fan = mode == FanMode.FanIn ? fanIn : fanOut;
        if (fan == 0) throw new ArgumentException($"Init: zero fan for shape {shape}");
        return fan;
    }

    /// <summary>
    /// A (semi-)orthogonal matrix scaled by gain: the weight viewed as [rows, rest] has orthonormal
    /// rows (or columns, whichever is fewer), from the QR decomposition of a normal sample.
    /// </summary>
    public static Tensor Orthogonal(Shape shape, double gain = 1, Generator? generator = null, DType dtype = DType.Float32)
    {
        if (shape.Rank < 2)
            throw new ArgumentException($"Init.Orthogonal: needs at least 2 dimensions, got shape {shape}");
        int rows = shape[0], cols = shape.Numel / Math.Max(rows, 1);
        double[] sample = Tensor.Normal([rows, cols], 0, 1, DType.Float64, generator).ToDoubleArray();
        bool transpose = rows < cols;
        int m = transpose ? cols : rows, n = transpose ? rows : cols; // tall m×n, m ≥ n
        var q = new double[m * n];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                q[transpose ? j * n + i : i * n + j] = sample[i * cols + j];

        // Modified Gram–Schmidt on the columns: Q has orthonormal columns and R a positive diagonal,
        // which is the sign convention PyTorch applies (q *= sign(diag(r))).
        for (int j = 0; j < n; j++)
        {
            for (int k = 0; k < j; k++)
            {
                double dot = 0;
                for (int i = 0; i < m; i++) dot += q[i * n + k] * q[i * n + j];
                for (int i = 0; i < m; i++) q[i * n + j] -= dot * q[i * n + k];
            }
            double norm = 0;
            for (int i = 0; i < m; i++) norm += q[i * n + j] * q[i * n + j];
            norm = Math.Sqrt(norm);
            for (int i = 0; i < m; i++) q[i * n + j] /= norm;
        }

        var result = new double[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                result[i * cols + j] = gain * q[transpose ? j * n + i : i * n + j];
        return Tensor.FromArray(result, shape).To(dtype);
    }
}
