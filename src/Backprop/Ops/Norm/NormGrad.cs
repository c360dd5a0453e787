using System.Numerics;
using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Ops.Norm;

/// <summary>y = 1/√x element-wise; a small recorded op so normalisation backwards can be differentiated again.</summary>
internal sealed class NormRsqrtNode : Node
{
    private readonly SavedTensor _y;

    private NormRsqrtNode(Tensor x, Tensor y) : base(x) => _y = Save(y);

    public static Tensor Forward(Tensor x)
    {
        x.CheckFloat("Rsqrt");
        Tensor xc;
        using (GradMode.Disable()) xc = x.Contiguous();
        var y = new Tensor(x.Shape, x.DType);
        DTypeSwitch.Float(x.DType, new RsqrtKernel(xc, y));
        if (GradMode.Records(x)) y.SetGradFn(new NormRsqrtNode(x, y));
        return y;
    }

    private readonly struct RsqrtKernel(Tensor x, Tensor y) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> s = x.ReadOnlyElements<T>();
            Span<T> d = y.Elements<T>();
            for (int i = 0; i < s.Length; i++) d[i] = T.One / T.Sqrt(s[i]);
        }
    }

    // d/dx x^(−1/2) = −½·x^(−3/2) = −½·y³.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor y = _y.Value;
        return [dy * (y * y * y) * -0.5];
    }
}

/// <summary>Gradient formulas shared by layer norm and batch norm, written with differentiable tensor ops.</summary>
internal static class NormGrad
{
    /// <summary>Mean and 1/√(biased var + eps) over <paramref name="dims"/> (kept), recorded so they can be differentiated.</summary>
    public static (Tensor Mean, Tensor Rstd) Stats(Tensor x, int[] dims, int count, double eps)
    {
        Tensor mean = x.Sum(dims, keepDim: true) / count;
        Tensor xc = x - mean;
        Tensor rstd = NormRsqrtNode.Forward((xc * xc).Sum(dims, keepDim: true) / count + eps);
        return (mean, rstd);
    }

    /// <summary>
    /// With x̂ = (x − mean)·rstd and g = dy·w (the gradient reaching x̂), the input gradient of a
    /// normalisation over <paramref name="dims"/> is dx = rstd·(g − mean(g) − x̂·mean(g·x̂)).
    /// </summary>
    public static Tensor InputGrad(Tensor g, Tensor xhat, Tensor rstd, int[] dims, int count)
        => rstd * (g - g.Sum(dims, keepDim: true) / count - xhat * ((g * xhat).Sum(dims, keepDim: true) / count));
}
