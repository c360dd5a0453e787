using Backprop.Ops.MatMul;
using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// A pre-LayerNorm decoder block (GPT-2 style) over batch-first [N, T, dModel] inputs:
/// x = x + Dropout(Attn(LN1(x)), causal), then x = x + Dropout(fc2(GELU(fc1(LN2(x))))), GELU the exact erf
/// form. Parameters, in this order: <c>ln1.weight</c>, <c>ln1.bias</c>, <c>attn.in_proj_weight</c>,
/// <c>attn.in_proj_bias</c>, <c>attn.out_proj.weight</c>, <c>attn.out_proj.bias</c>, <c>ln2.weight</c>,
/// <c>ln2.bias</c>, <c>fc1.weight</c> [mlpHidden, dModel], <c>fc1.bias</c>, <c>fc2.weight</c> [dModel, mlpHidden],
/// <c>fc2.bias</c>; the same block in PyTorch is LayerNorm, nn.MultiheadAttention(batch_first=True), LayerNorm,
/// Linear, Linear under these names. Attention is always causal; with a <see cref="KeyValueCache"/> the input
/// holds only new positions (see <see cref="Forward(Tensor, KeyValueCache?)"/>).
/// </summary>
public sealed class TransformerBlock : Module
{
    private readonly Generator? _generator;

    /// <summary>Creates the block with PyTorch's initialisation of each module.</summary>
    /// <param name="dModel">Width of the residual stream.</param>
    /// <param name="numHeads">Attention heads (dModel must be divisible by it).</param>
    /// <param name="mlpHidden">Hidden width of the MLP (4·dModel in GPT-2).</param>
    /// <param name="dropout">Dropout on both residual branches while training.</param>
    /// <param name="attentionDropout">Dropout on the attention weights while training.</param>
    /// <param name="layerNormEps">ε of both layer norms.</param>
    /// <param name="bias">Biases in the attention and MLP projections.</param>
    /// <param name="generator">Random numbers for initialisation and dropout.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public TransformerBlock(int dModel, int numHeads, int mlpHidden, double dropout = 0, double attentionDropout = 0, double layerNormEps = 1e-5,
                            bool bias = true, Generator? generator = null, DType dtype = DType.Float32)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mlpHidden);
        if (!(dropout >= 0 && dropout <= 1))
            throw new ArgumentException($"TransformerBlock: dropout must be in [0, 1], got {dropout}");
        (DModel, Dropout, _generator) = (dModel, dropout, generator);
        Ln1 = RegisterModule("ln1", new LayerNorm(dModel, layerNormEps, dtype: dtype));
        Attn = RegisterModule("attn", new MultiheadAttention(dModel, numHeads, attentionDropout, bias, batchFirst: true, generator, dtype));
        Ln2 = RegisterModule("ln2", new LayerNorm(dModel, layerNormEps, dtype: dtype));
        Fc1 = RegisterModule("fc1", new Linear(dModel, mlpHidden, bias, generator, dtype));
        Fc2 = RegisterModule("fc2", new Linear(mlpHidden, dModel, bias, generator, dtype));
    }

    /// <summary>Width of the residual stream.</summary>
    public int DModel { get; }

    /// <summary>Dropout probability on the residual branches.</summary>
    public double Dropout { get; }

    /// <summary>LayerNorm before attention.</summary>
    public LayerNorm Ln1 { get; }

    /// <summary>Causal self-attention (batch first).</summary>
    public MultiheadAttention Attn { get; }

    /// <summary>LayerNorm before the MLP.</summary>
    public LayerNorm Ln2 { get; }

    /// <summary>MLP expansion, dModel → mlpHidden.</summary>
    public Linear Fc1 { get; }

    /// <summary>MLP projection, mlpHidden → dModel.</summary>
    public Linear Fc2 { get; }

    /// <summary>The block over a whole sequence x [N, T, dModel], causal.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null);

    /// <summary>
    /// The block over x [N, T, dModel]. With a <paramref name="cache"/> (inference, under
    /// <c>GradMode.Disable()</c>), x holds only the new positions: attention appends their keys and
    /// values to the cache and attends causally over everything cached, giving the same outputs for them
    /// as a full forward of the whole sequence.
    /// </summary>
    public Tensor Forward(Tensor x, KeyValueCache? cache)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 2 || x.Size(-1) != DModel)
            throw new ArgumentException($"TransformerBlock: input must be [N, T, {DModel}], got {x.Shape}");
        ModuleCall attn = Attn.BeginCall(Ln1.Call(x));
        Tensor a = attn.End(Attn.Forward(attn.Input, cache));
        x = x + Functional.Dropout(a, Dropout, Training, _generator);
        Tensor m = FeedForward(Ln2.Call(x));
        return x + Functional.Dropout(m, Dropout, Training, _generator);
    }

    /// <summary>
    /// Fc2(GELU(Fc1(h))): one fused op (GELU and its gradient inside the GEMMs, same values) unless a hook
    /// on Fc1 or Fc2 has to see their own calls.
    /// </summary>
    private Tensor FeedForward(Tensor h)
        => Fc1.HasHooks || Fc2.HasHooks
            ? Fc2.Call(Fc1.Call(h).Gelu())
            : FeedForwardNode.Forward(h, Fc1.Weight, Fc1.Bias, Fc2.Weight, Fc2.Bias);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"TransformerBlock(d={DModel}{(Dropout > 0 ? $", dropout={Dropout}" : "")})";
}
