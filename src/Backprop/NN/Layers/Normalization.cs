using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// Batch normalisation over the channel dim 1 of [N, C] or [N, C, L] (BatchNorm1d) and
/// [N, C, H, W] (BatchNorm2d): batch statistics in training (running mean and unbiased running
/// variance updated with <c>momentum</c>), running statistics in eval.
/// </summary>
public class BatchNorm : Module
{
    private readonly int _expectedRank;

    /// <summary>Creates the layer: weight 1, bias 0, running mean 0, running variance 1 (PyTorch defaults).</summary>
    protected BatchNorm(int numFeatures, double eps, double momentum, bool affine, bool trackRunningStats, int expectedRank, DType dtype)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numFeatures);
        (NumFeatures, Eps, Momentum, _expectedRank) = (numFeatures, eps, momentum, expectedRank);
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones([numFeatures], dtype));
            Bias = RegisterParameter("bias", Tensor.Zeros([numFeatures], dtype));
        }
        if (trackRunningStats)
        {
            RunningMean = RegisterBuffer("running_mean", Tensor.Zeros([numFeatures], dtype));
            RunningVar = RegisterBuffer("running_var", Tensor.Ones([numFeatures], dtype));
            NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros(Shape.Scalar, DType.Int64));
        }
    }

    /// <summary>Channels.</summary>
    public int NumFeatures { get; }

    /// <summary>Added to the variance for stability.</summary>
    public double Eps { get; }

    /// <summary>Weight of the new batch in the running statistics.</summary>
    public double Momentum { get; }

    /// <summary>Scale γ [C], or null without affine.</summary>
    public Parameter? Weight { get; }

    /// <summary>Shift β [C], or null without affine.</summary>
    public Parameter? Bias { get; }

    /// <summary>Running mean [C], or null.</summary>
    public Tensor? RunningMean { get; }

    /// <summary>Running variance [C], or null.</summary>
    public Tensor? RunningVar { get; }

    /// <summary>Number of training batches seen.</summary>
    public Tensor? NumBatchesTracked { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        bool rankOk = _expectedRank == 4 ? input.Rank == 4 : input.Rank is 2 or 3;
        if (!rankOk || input.Shape[1] != NumFeatures)
            throw new ArgumentException($"{GetType().Name}: expected input [N, {NumFeatures}{(_expectedRank == 4 ? ", H, W" : "")}{(_expectedRank == 4 ? "" : "(, L)")}], got {input.Shape}");
        bool useBatchStats = Training || RunningMean is null;
        if (Training && NumBatchesTracked is not null)
            using (GradMode.Disable()) NumBatchesTracked.AddInPlace(Tensor.Scalar(1, DType.Int64));
        return Functional.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, useBatchStats, Momentum, Eps);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"{GetType().Name}({NumFeatures})";
}

/// <summary>Batch normalisation for [N, C] or [N, C, L].</summary>
public sealed class BatchNorm1d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true, bool trackRunningStats = true, DType dtype = DType.Float32)
    : BatchNorm(numFeatures, eps, momentum, affine, trackRunningStats, 2, dtype);

/// <summary>Batch normalisation for [N, C, H, W].</summary>
public sealed class BatchNorm2d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true, bool trackRunningStats = true, DType dtype = DType.Float32)
    : BatchNorm(numFeatures, eps, momentum, affine, trackRunningStats, 4, dtype);

/// <summary>Layer normalisation over the trailing <c>normalizedShape</c> dims; weight 1, bias 0 by default.</summary>
public sealed class LayerNorm : Module
{
    private readonly int[] _normalizedShape;

    /// <summary>Creates the layer.</summary>
    public LayerNorm(int[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, DType dtype = DType.Float32)
    {
        _normalizedShape = (int[])normalizedShape.Clone();
        Eps = eps;
        if (elementwiseAffine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(_normalizedShape, dtype));
            Bias = RegisterParameter("bias", Tensor.Zeros(_normalizedShape, dtype));
        }
    }

    /// <summary>Normalises over the last dim of size <paramref name="features"/>.</summary>
    public LayerNorm(int features, double eps = 1e-5, bool elementwiseAffine = true, DType dtype = DType.Float32)
        : this([features], eps, elementwiseAffine, dtype) { }

    /// <summary>Added to the variance for stability.</summary>
    public double Eps { get; }

    /// <summary>The trailing dims normalised over (read by the ONNX exporter).</summary>
    internal ReadOnlySpan<int> NormalizedShape => _normalizedShape;

    /// <summary>Scale, or null.</summary>
    public Parameter? Weight { get; }

    /// <summary>Shift, or null.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.LayerNorm(input, _normalizedShape, Weight, Bias, Eps);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"LayerNorm([{string.Join(", ", _normalizedShape)}])";
}

/// <summary>Inverted dropout: zeroes each element with probability p in training and scales the rest by 1/(1−p).</summary>
public sealed class Dropout : Module
{
    private readonly Generator? _generator;

    /// <summary>Creates the layer.</summary>
    public Dropout(double p = 0.5, Generator? generator = null)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentException($"Dropout: probability must be in [0, 1], got {p}");
        P = p;
        _generator = generator;
    }

    /// <summary>Drop probability.</summary>
    public double P { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Dropout(input, P, Training, _generator);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"Dropout(p={P})";
}

/// <summary>A lookup table of [numEmbeddings, embeddingDim] vectors, initialised N(0, 1) (padding row zero).</summary>
public sealed class Embedding : Module
{
    /// <summary>Creates the table.</summary>
    public Embedding(int numEmbeddings, int embeddingDim, long? paddingIdx = null, Generator? generator = null, DType dtype = DType.Float32)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numEmbeddings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embeddingDim);
        if (paddingIdx is long pi && (pi < -numEmbeddings || pi >= numEmbeddings))
            throw new ArgumentException($"Embedding: paddingIdx {pi} is outside [-{numEmbeddings}, {numEmbeddings})");
        PaddingIdx = paddingIdx is long p && p < 0 ? p + numEmbeddings : paddingIdx;
        Tensor w = Init.Normal([numEmbeddings, embeddingDim], 0, 1, generator, dtype);
        if (PaddingIdx is long row)
            using (GradMode.Disable()) w.Select(0, (int)row).ZeroInPlace();
        Weight = RegisterParameter("weight", w);
    }

    /// <summary>Row that receives no gradient.</summary>
    public long? PaddingIdx { get; }

    /// <summary>[numEmbeddings, embeddingDim].</summary>
    public Parameter Weight { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Embedding(input, Weight, PaddingIdx);
}
