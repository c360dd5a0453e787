using Backprop.Autograd;
using Backprop.Kernels.Loss;
using Backprop.Tensors;

namespace Backprop.Ops.Loss;

/// <summary>Mean absolute error |x − t| per element, reduced (PyTorch's l1_loss); input and target have the same shape.</summary>
internal sealed class L1LossNode : PointwiseLossNode
{
    private L1LossNode(Tensor input, Tensor target, Reduction reduction) : base(input, target, null, reduction) { }

    /// <exception cref="ArgumentException">Shapes or dtypes differ, or the reduction is BatchMean.</exception>
    public static Tensor Forward(Tensor input, Tensor target, Reduction reduction)
    {
        const string op = "L1Loss";
        PointwiseLoss.CheckReduction(reduction, op);
        PointwiseLoss.CheckOperands(input, target, op);
        Tensor y = PointwiseLoss.Compute(PointwiseLoss.Packed(input), PointwiseLoss.Packed(target), null, reduction, new L1Term<float>(), new L1Term<double>());
        if (GradMode.Records(input, target)) y.SetGradFn(new L1LossNode(input, target, reduction));
        return y;
    }

    private protected override void Kernel(Tensor x, Tensor t, Tensor? w, double g, Tensor? gs, Tensor? dx, Tensor? dt)
        => PointwiseLoss.Grads(new L1Term<float>(), new L1Term<double>(), x, t, w, g, gs, dx, dt);

    // d/dx |x − t| = sign(x − t) (0 at a tie), d/dt = −sign(x − t).
    private protected override (Tensor? Dx, Tensor? Dt) Recorded(Tensor x, Tensor t, Tensor g, bool wantX, bool wantT)
    {
        Tensor dx = g * (x - t).Sign();
        return (wantX ? dx : null, wantT ? -dx : null);
    }
}
