using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.NN;

public static partial class Functional
{
    /// <summary>Straight-through rounding: round(x) forward, identity gradient; see <see cref="Tensor.SteRound"/>.</summary>
    public static Tensor SteRound(Tensor x) => x.SteRound();

    /// <summary>Straight-through sign: sign(x) forward, identity (or with <paramref name="clip"/>, |x| ≤ 1-masked) gradient; see <see cref="Tensor.SteSign"/>.</summary>
    public static Tensor SteSign(Tensor x, bool clip = false) => x.SteSign(clip);

    /// <summary>
    /// Gumbel-softmax (torch.nn.functional.gumbel_softmax): softmax((logits + g) / tau) along
    /// <paramref name="dim"/> with g = −log(−log u), u ~ U(0, 1) (never exactly 0) drawn from <paramref name="generator"/>.
    /// With <paramref name="hard"/> the forward value is the one-hot of the argmax and the gradient is that
    /// of the soft sample (straight-through: <c>y_hard − y_soft.detach() + y_soft</c>, as PyTorch).
    /// </summary>
    /// <remarks>PyTorch draws its noise as −log(Exponential(1)); the distribution is the same, the stream is not.</remarks>
    /// <exception cref="ArgumentException"><paramref name="tau"/> is not positive and finite, or the logits are not floating point.</exception>
    public static Tensor GumbelSoftmax(Tensor logits, double tau = 1, bool hard = false, int dim = -1, Generator? generator = null)
    {
        if (!(tau > 0) || !double.IsFinite(tau))
            throw new ArgumentException($"GumbelSoftmax: tau must be positive and finite, got {tau} (logits {logits.Shape})");
        logits.CheckFloat("GumbelSoftmax");
        Tensor gumbels;
        using (GradMode.Disable())
        {
            // u in [tiny, 1): neither 0 nor 1, so −log(−log u) is always finite (a draw of exactly 0, 1 in 2^24 for
            // float32, would otherwise give an infinite noise and a NaN sample; PyTorch's exponential draw excludes 0 likewise).
            double tiny = logits.DType == DType.Float32 ? 1.17549435e-38 : 2.2250738585072014e-308; // smallest normal
            Tensor u = Tensor.Uniform(logits.Shape, tiny, 1, logits.DType, generator);
            gumbels = -(-u.Log()).Log();
        }
        Tensor soft = ((logits + gumbels) / tau).Softmax(dim);
        if (!hard) return soft;
        Tensor index;
        Tensor oneHot;
        using (GradMode.Disable())
        {
            int d = dim < 0 ? dim + logits.Rank : dim;
            index = soft.ArgMax(d, keepDim: true);
            oneHot = Tensor.ZerosLike(soft).ScatterAdd(d, index, Tensor.Ones(index.Shape, soft.DType));
        }
        return oneHot - soft.Detach() + soft;
    }
}
