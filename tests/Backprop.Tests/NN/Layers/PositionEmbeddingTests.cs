using Backprop.Autograd;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Tests.Ops.Attention;
using Backprop.Tests.Support;

namespace Backprop.Tests.NN.Layers;

/// <summary>Sinusoidal (fixed) and learned (Embedding) position embeddings.</summary>
public class PositionEmbeddingTests
{
    [Fact]
    public void SinusoidalTable_MatchesPyTorchTutorialFormula()
    {
        var pe = new SinusoidalPositionEmbedding(6, 5, DType.Float64);
        T.Close(AttentionFixtures.Sinusoidal6x5, pe.Table, 1e-15);
        Assert.Empty(pe.NamedParameters());
        Assert.Empty(pe.StateDict());
        Assert.Equal(Math.Sin(3.0), new SinusoidalPositionEmbedding(8, 4).Table[3, 0], 6);
        Assert.Equal(Math.Cos(3.0 / 100), new SinusoidalPositionEmbedding(8, 4).Table[3, 3], 6);
    }

    [Fact]
    public void Forward_AddsRowsFromAStartPosition_AndPassesGradients()
    {
        var pe = new SinusoidalPositionEmbedding(10, 4, DType.Float64);
        Tensor x = T.Param(1, 2, 3, 4);
        Tensor y = pe.Forward(x, start: 5);
        T.Close((x.Detach() + pe.Table.Narrow(0, 5, 3)).ToDoubleArray(), y, 0);
        GradCheck.Verify(t => pe.Forward(t[0]), [x]);
        var e = Assert.Throws<ArgumentException>(() => pe.Forward(x, start: 8));
        Assert.Contains("8..10", e.Message);
    }

    [Fact]
    public void LearnedPositions_AreAnEmbeddingOverArange()
    {
        var positions = new Embedding(16, 4, generator: new Generator(2), dtype: DType.Float64);
        Tensor tokens = T.Param(3, 2, 5, 4);
        Tensor y = tokens + positions.Forward(Tensor.Arange(5, DType.Int64));    // [2, 5, 4] + [5, 4]
        T.Close((tokens.Detach() + positions.Weight.Data.Narrow(0, 0, 5)).ToDoubleArray(), y, 0);
        y.Sum().Backward();
        double[] g = positions.Weight.Grad!.ToDoubleArray();
        Assert.All(g.Take(20), v => Assert.Equal(2.0, v));   // each used row gets one gradient per batch element
        Assert.All(g.Skip(20), v => Assert.Equal(0.0, v));
    }
}
