using System.Numerics;
using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Distributions;

/// <summary>
/// A categorical distribution over K classes for every row of logits [..., K]
/// (torch.distributions.Categorical(logits=...)): sampling, log-probabilities that carry the gradient
/// back to the logits, and the entropy. The building block of a score-function (REINFORCE) estimator:
/// <c>loss = −(reward − baseline) · dist.LogProb(dist.Sample())</c>, whose gradient is an unbiased
/// estimate of −∇ E[reward].
/// </summary>
public sealed class Categorical
{
    /// <summary>The distribution whose unnormalised log-probabilities are <paramref name="logits"/> [..., K] (normalised along the last dim).</summary>
    /// <exception cref="ArgumentException">The logits are a scalar, have no classes, or are not floating point.</exception>
    public Categorical(Tensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.Rank == 0 || logits.Shape[logits.Rank - 1] == 0)
            throw new ArgumentException($"Categorical: logits must be [..., K] with K ≥ 1 classes, got shape {logits.Shape}");
        logits.CheckFloat("Categorical");
        Logits = logits - logits.LogSumExp(-1, keepDim: true);
        NumEvents = logits.Shape[logits.Rank - 1];
        int[] batch = new int[logits.Rank - 1];
        for (int i = 0; i < batch.Length; i++) batch[i] = logits.Shape[i];
        BatchShape = new Shape(batch);
    }

    /// <summary>The normalised log-probabilities log p [..., K] (logits − logsumexp(logits)), differentiable.</summary>
    public Tensor Logits { get; }

    /// <summary>The probabilities p = softmax(logits) [..., K], differentiable.</summary>
    public Tensor Probs => Logits.Exp();

    /// <summary>K, the number of classes.</summary>
    public int NumEvents { get; }

    /// <summary>The shape of one draw: the logits' shape without the class dim.</summary>
    public Shape BatchShape { get; }

    /// <summary>
    /// Draws one class per row: int64 of <see cref="BatchShape"/>, by inverting the cumulative
    /// distribution with one uniform number per row from <paramref name="generator"/> (default
    /// <see cref="Generator.Default"/>). Classes of probability 0 are never drawn. Not differentiable.
    /// </summary>
    /// <remarks>The draws follow the same distribution as torch's, not the same random stream.</remarks>
    /// <exception cref="ArgumentException">A row's probabilities are NaN (the logits held NaN or only −∞).</exception>
    public Tensor Sample(Generator? generator = null)
    {
        Tensor p;
        using (GradMode.Disable())
            p = Logits.Exp().Contiguous();
        var result = new Tensor(BatchShape, DType.Int64);
        DTypeSwitch.Float(p.DType, new InverseCdf(p, result, NumEvents, Generator.Use(generator)));
        return result;
    }

    /// <summary>log p(value) for int64 class indices of <see cref="BatchShape"/>; differentiable with respect to the logits.</summary>
    /// <exception cref="ArgumentException">The value is not int64, has another shape, or holds an index outside [0, K).</exception>
    public Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.DType != DType.Int64 || value.Shape != BatchShape)
            throw new ArgumentException($"Categorical.LogProb: value must be int64 of the batch shape {BatchShape}, got {value.DType.Name()} {value.Shape}");
        return Logits.Gather(-1, value.Unsqueeze(-1)).Squeeze(-1);
    }

    /// <summary>The entropy −Σ p log p of every row, [batch shape]; classes of probability 0 contribute 0.</summary>
    public Tensor Entropy()
    {
        // As torch: log p is clamped to the dtype's lowest finite value, so p = 0 gives 0 · finite = 0, not 0 · −∞.
        double lowest = Logits.DType == DType.Float32 ? float.MinValue : double.MinValue;
        return -(Logits.ClampMin(lowest) * Probs).Sum(-1);
    }

    private readonly struct InverseCdf(Tensor probs, Tensor result, int k, Generator generator) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> p = probs.ReadOnlyElements<T>();
            Span<long> chosen = result.Elements<long>();
            for (int row = 0; row < chosen.Length; row++)
            {
                ReadOnlySpan<T> r = p.Slice(row * k, k);
                double total = 0;
                for (int j = 0; j < k; j++) total += double.CreateTruncating(r[j]);
                if (!double.IsFinite(total) || total <= 0)
                    throw new ArgumentException($"Categorical.Sample: the probabilities of row {row} sum to {total} (NaN or −∞ logits); cannot sample");
                double u = generator.NextDouble() * total, sum = 0;
                int pick = -1;
                for (int j = 0; j < k; j++)
                {
                    double pj = double.CreateTruncating(r[j]);
                    if (pj <= 0) continue;
                    sum += pj;
                    pick = j; // the last class with p > 0 catches u that rounding left beyond the sum
                    if (u < sum) break;
                }
                chosen[row] = pick;
            }
        }
    }
}
