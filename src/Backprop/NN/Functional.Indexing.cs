using Backprop.Ops.Indexing;
using Backprop.Tensors;

namespace Backprop.NN;

public static partial class Functional
{
    /// <summary>
    /// Looks up rows of <paramref name="weight"/> [numEmbeddings, embeddingDim] for int64
    /// <paramref name="indices"/> of any shape: output [..indices.Shape, embeddingDim]. Rows at
    /// <paramref name="paddingIdx"/> (negative counts from the end) receive no gradient, as in PyTorch.
    /// </summary>
    /// <exception cref="ArgumentException">weight is not 2-D or indices are not int64.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index or paddingIdx is outside the embedding table.</exception>
    public static Tensor Embedding(Tensor indices, Tensor weight, long? paddingIdx = null)
        => EmbeddingNode.Forward(indices, weight, paddingIdx);
}
