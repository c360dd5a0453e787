using System.Numerics;
using Backprop.Tensors;

namespace Backprop.NN;

public static partial class Functional
{
    /// <summary>
    /// Inverted dropout: in training each element is zeroed with probability <paramref name="p"/> and
    /// the survivors are scaled by 1/(1 − p), so the expectation is unchanged; the gradient is the
    /// same mask times the same scale. With p = 0 or outside training the input itself is returned;
    /// p = 1 gives zeros. The mask is drawn from <paramref name="generator"/> (default
    /// <see cref="Generator.Default"/>), so a seeded generator reproduces it.
    /// </summary>
    /// <exception cref="ArgumentException">p is outside [0, 1] or the input is not floating point.</exception>
    public static Tensor Dropout(Tensor input, double p = 0.5, bool training = true, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!(p >= 0 && p <= 1))
            throw new ArgumentException($"Dropout: probability p must be between 0 and 1, got {p} (input shape {input.Shape})");
        input.CheckFloat("Dropout");
        if (!training || p == 0) return input;
        Tensor mask = DropoutMask(input.Shape, input.DType, p, Generator.Use(generator));
        return input * mask; // the product records dy·mask as the gradient, so second order works too
    }

    /// <summary>A tensor of 0 (probability p) and 1/(1 − p) (probability 1 − p); all zeros when p = 1.</summary>
    private static Tensor DropoutMask(Shape shape, DType dtype, double p, Generator generator)
    {
        var mask = new Tensor(shape, dtype);
        if (p >= 1) return mask;
        DTypeSwitch.Float(dtype, new DropoutMaskKernel(mask, p, 1.0 / (1.0 - p), generator));
        return mask;
    }

    private readonly struct DropoutMaskKernel(Tensor mask, double p, double scale, Generator generator) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            Span<T> m = mask.Elements<T>();
            T keep = T.CreateTruncating(scale);
            for (int i = 0; i < m.Length; i++) m[i] = generator.NextDouble() < p ? T.Zero : keep;
        }
    }
}
