using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;

namespace Backprop.Tests.Support;

/// <summary>
/// Deterministic values a PyTorch script can reproduce exactly: element k of a tensor filled with
/// <paramref name="seed"/> is 0.5·sin(0.37·(k + 1) + seed). Used to compare modules with torch.nn ones.
/// </summary>
internal static class SineFill
{
    /// <summary>A float64 tensor of <paramref name="shape"/> filled from <paramref name="seed"/>.</summary>
    public static Tensor Tensor(double seed, params int[] shape)
    {
        int n = 1;
        foreach (int d in shape) n *= d;
        var v = new double[n];
        for (int k = 0; k < n; k++) v[k] = 0.5 * Math.Sin(0.37 * (k + 1) + seed);
        return T.F64(v, shape);
    }

    /// <summary>Fills parameter i (in registration order, as PyTorch's named_parameters) with seed 10 + i.</summary>
    public static TModule Parameters<TModule>(TModule module) where TModule : Module
    {
        int i = 0;
        foreach (Parameter p in module.Parameters())
            using (GradMode.Disable()) p.Data.CopyFrom(Tensor(10.0 + i++, p.Shape.ToArray()));
        return module;
    }
}
