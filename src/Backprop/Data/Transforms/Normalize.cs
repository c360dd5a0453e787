using Backprop.Kernels.Image;
using Backprop.Tensors;

namespace Backprop.Data.Transforms;

/// <summary>
/// (x − mean[c]) / std[c] for each channel c of [..., C, H, W] images, as <c>torchvision.transforms.Normalize</c>
/// (computed as its <c>sub_(mean).div_(std)</c>, so float32 results are the same to the bit). With one mean and
/// one std the tensor may have any shape, e.g. flattened images [N, 784] (torchvision asks for [..., C, H, W]).
/// </summary>
public sealed class Normalize : Transform
{
    private readonly double[] _mean, _std;

    /// <summary>One mean and one standard deviation for every element.</summary>
    /// <exception cref="ArgumentException">std is zero, or a value is not finite.</exception>
    public Normalize(double mean, double std) : this([mean], [std])
    {
    }

    /// <summary>A mean and a standard deviation per channel.</summary>
    /// <exception cref="ArgumentException">The lists are empty or differ in length, a std is zero, or a value is not finite.</exception>
    public Normalize(double[] mean, double[] std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length == 0 || mean.Length != std.Length)
            throw new ArgumentException($"Normalize: expected one std per mean, got {mean.Length} means and {std.Length} stds");
        for (int c = 0; c < mean.Length; c++)
        {
            if (!double.IsFinite(mean[c]) || !double.IsFinite(std[c]))
                throw new ArgumentException($"Normalize: mean {mean[c]} and std {std[c]} of channel {c} must be finite");
            if (std[c] == 0)
                throw new ArgumentException($"Normalize: std of channel {c} is zero, leading to division by zero");
        }
        _mean = (double[])mean.Clone();
        _std = (double[])std.Clone();
    }

    /// <summary>The means, one per channel.</summary>
    public IReadOnlyList<double> Mean => _mean;

    /// <summary>The standard deviations, one per channel.</summary>
    public IReadOnlyList<double> Std => _std;

    /// <summary>The normalised tensor (new, contiguous, not recorded by autograd); the generator is not used.</summary>
    /// <exception cref="ArgumentException">The tensor is not floating point, or there are several channels and it is not [..., C, H, W] with C of them.</exception>
    public override Tensor Apply(Tensor input, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!input.DType.IsFloatingPoint())
            throw new ArgumentException($"Normalize: expected a floating-point tensor, got {input.DType.Name()} {input.Shape}");
        int channels = _mean.Length;
        int plane = input.Numel;
        if (channels > 1)
        {
            if (input.Rank < 3 || input.Shape.Dims[^3] != channels)
                throw new ArgumentException($"Normalize: {channels} means and stds need an image [..., {channels}, H, W], got shape {input.Shape}");
            plane = input.Shape.Dims[^2] * input.Shape.Dims[^1];
        }
        Tensor x = ImageTransforms.CheckImageOrAny(input);
        Tensor y = Tensor.Uninitialized(x.Shape, x.DType);
        int planes = plane == 0 ? 0 : x.Numel / plane;
        for (int p = 0; p < planes; p++)
        {
            int c = p % channels;
            if (x.DType == DType.Float32)
                ImageKernels.Normalize(x.ReadOnlyElements<float>().Slice(p * plane, plane), y.Elements<float>().Slice(p * plane, plane), (float)_mean[c], (float)_std[c]);
            else
                ImageKernels.Normalize(x.ReadOnlyElements<double>().Slice(p * plane, plane), y.Elements<double>().Slice(p * plane, plane), _mean[c], _std[c]);
        }
        return y;
    }
}
