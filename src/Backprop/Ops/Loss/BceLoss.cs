using Backprop.Autograd;
using Backprop.Kernels.Loss;
using Backprop.Tensors;

namespace Backprop.Ops.Loss;

/// <summary>
/// Binary cross-entropy of probabilities (PyTorch's binary_cross_entropy):
/// ℓ = −w·[t·max(log x, −100) + (1 − t)·max(log(1 − x), −100)], the logs clamped so x = 0 or 1 gives a
/// finite loss. x must lie in [0, 1]; the weight (constant, no gradient, as PyTorch) broadcasts to the input.
/// </summary>
internal sealed class BceLossNode : PointwiseLossNode
{
    private const string Op = "BinaryCrossEntropy";

    private BceLossNode(Tensor input, Tensor target, Tensor? weight, Reduction reduction) : base(input, target, weight, reduction) { }

    /// <exception cref="ArgumentException">Shapes or dtypes differ, an input is outside [0, 1], the weight does not broadcast, or the reduction is BatchMean.</exception>
    public static Tensor Forward(Tensor input, Tensor target, Tensor? weight, Reduction reduction)
    {
        PointwiseLoss.CheckReduction(reduction, Op);
        PointwiseLoss.CheckOperands(input, target, Op);
        Tensor x = PointwiseLoss.Packed(input);
        PointwiseLoss.CheckProbabilities(x, Op);
        Tensor? w = null;
        if (weight is not null)
        {
            Tensor.CheckSameDType(input, weight, Op);
            if (!Shape.TryBroadcast(weight.Shape, input.Shape, out Shape b) || b != input.Shape)
                throw new ArgumentException($"{Op}: weight shape {weight.Shape} cannot be broadcast to input shape {input.Shape}");
            w = PointwiseLoss.Packed(weight.Detach().BroadcastTo(input.Shape)); // a copy only when it broadcasts
        }
        Tensor y = PointwiseLoss.Compute(x, PointwiseLoss.Packed(target), w, reduction, new BceTerm<float>(), new BceTerm<double>());
        if (GradMode.Records(input, target)) y.SetGradFn(new BceLossNode(input, target, w, reduction));
        return y;
    }

    /// <summary>"BinaryCrossEntropyBackward", as PyTorch.</summary>
    public override string Name => "BinaryCrossEntropyBackward";

    private protected override void Kernel(Tensor x, Tensor t, Tensor? w, double g, Tensor? gs, Tensor? dx, Tensor? dt)
        => PointwiseLoss.Grads(new BceTerm<float>(), new BceTerm<double>(), x, t, w, g, gs, dx, dt);

    // d/dx = (x − t)/max((1 − x)·x, 1e−12f) (PyTorch's clamp of the denominator, its bound a float), d/dt = log(1 − x) − log x = −logit(x).
    private protected override (Tensor? Dx, Tensor? Dt) Recorded(Tensor x, Tensor t, Tensor g, bool wantX, bool wantT)
        => (wantX ? g * (x - t) / ((1.0 - x) * x).ClampMin(1e-12f) : null,
            wantT ? g * ((1.0 - x).Log() - x.Log()) : null);
}
