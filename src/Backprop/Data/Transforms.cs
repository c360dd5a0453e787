using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Data;

/// <summary>Whole-tensor preprocessing applied once to an in-memory data set.</summary>
public static class Transforms
{
    /// <summary>(x − mean) / std, as a new contiguous tensor (not recorded by autograd).</summary>
    /// <exception cref="ArgumentException">std is not positive.</exception>
    public static Tensor Normalize(Tensor x, double mean, double std)
    {
        if (!(std > 0)) throw new ArgumentException($"Normalize: std must be positive, got {std}");
        using (GradMode.Disable())
            return ((x - mean) / std).Contiguous();
    }
}
