using Backprop.Ops.Attention;
using Backprop.Tensors;

namespace Backprop.NN;

public static partial class Functional
{
    /// <summary>
    /// torch.nn.functional.scaled_dot_product_attention: softmax(q·kᵀ·scale + mask)·v for
    /// <paramref name="query"/> [..., L, E], <paramref name="key"/> [..., S, E] and <paramref name="value"/>
    /// [..., S, Ev]; output [..., L, Ev]. Leading (batch) dims broadcast, e.g. [B, H] against [B, 1].
    /// One fused op with its own backward; q, k and v may be strided views (heads of a projection).
    /// </summary>
    /// <param name="query">[..., L, E].</param>
    /// <param name="key">[..., S, E].</param>
    /// <param name="value">[..., S, Ev].</param>
    /// <param name="attnMask">
    /// Broadcastable to the weights [..., L, S]. A Bool mask: true = may attend, false = masked, as PyTorch
    /// (an Int64 mask is read the same way, nonzero = may attend: the form it had before the bool dtype).
    /// A floating mask (the query's dtype) is added to the scores and receives a gradient when it requires one.
    /// </param>
    /// <param name="dropoutP">Dropout on the attention weights, survivors scaled by 1/(1 − p); applied whenever p &gt; 0,
    /// as in PyTorch (modules pass 0 outside training). The mask comes from <paramref name="generator"/>.</param>
    /// <param name="isCausal">Query i attends keys j ≤ i only (top-left aligned, as PyTorch, also when L ≠ S).</param>
    /// <param name="scale">Factor on q·kᵀ; default 1/√E.</param>
    /// <param name="generator">Random numbers for the dropout mask (default <see cref="Generator.Default"/>).</param>
    /// <remarks>
    /// A query row whose every score is −∞ (fully masked) yields weights 0 and output 0, as PyTorch's math
    /// backend since 2.5 (its _safe_softmax; earlier versions gave NaN), with zero gradients.
    /// </remarks>
    /// <exception cref="ArgumentException">Shapes do not fit (the message names them), dtypes differ,
    /// both a mask and isCausal are given (as PyTorch), or dropoutP is outside [0, 1].</exception>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? attnMask = null, double dropoutP = 0,
                                                   bool isCausal = false, double? scale = null, Generator? generator = null)
        => ScaledDotProductAttentionNode.Forward(query, key, value, attnMask, dropoutP, isCausal, scale, generator);
}
