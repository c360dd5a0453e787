using Backprop.Autograd;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Ops.MatMul;
using Backprop.Tensors;
using Backprop.Tests.Support;
using Backprop.Threading;

namespace Backprop.Tests.Ops.MatMul;

/// <summary>
/// The fused feed-forward op, GELU(x·W1ᵀ + b1)·W2ᵀ + b2 with the GELU and its gradient in the GEMM epilogues,
/// against Linear, Gelu, Linear; and the transformer block that uses it.
/// </summary>
[Collection(ThreadsCollection.Name)]
public class FeedForwardTests
{
    private static Tensor Plain(Tensor x, Tensor w1, Tensor? b1, Tensor w2, Tensor? b2)
        => Functional.Linear(Functional.Linear(x, w1, b1).Gelu(), w2, b2);

    [Fact]
    public void GradCheck_AllInputs()
    {
        GradCheck.Verify(t => FeedForwardNode.Forward(t[0], t[1], t[2], t[3], t[4]),
            [T.Param(1, 2, 3, 4), T.Param(2, 6, 4), T.Param(3, 6), T.Param(4, 5, 6), T.Param(5, 5)]);
        GradCheck.Verify(t => FeedForwardNode.Forward(t[0], t[1], null, t[2], null), [T.Param(6, 7, 3), T.Param(7, 5, 3), T.Param(8, 2, 5)]);
        // A transposed (non-contiguous) input and a broadcast-shaped use of the output.
        GradCheck.Verify(t => FeedForwardNode.Forward(t[0].T(), t[1], t[2], t[3], t[4]) * t[5],
            [T.Param(9, 4, 3), T.Param(10, 6, 4), T.Param(11, 6), T.Param(12, 2, 6), T.Param(13, 2), T.Param(14, 2)]);
    }

    [Fact]
    public void SecondOrder_ThroughTheRecordedBackward()
        => GradCheck.VerifySecondOrder(t => FeedForwardNode.Forward(t[0], t[1], t[2], t[3], t[4]) * t[0].Sum(),
            [T.Param(1, 3, 2), T.Param(2, 4, 2), T.Param(3, 4), T.Param(4, 3, 4), T.Param(5, 3)]);

    [Theory]
    [InlineData(0, 7, 5, 3, 1)]
    [InlineData(1, 1, 1, 1, 2)]
    [InlineData(33, 17, 65, 9, 1)]
    [InlineData(2048, 128, 512, 128, 2)]  // the transformer benchmark's feed-forward
    [InlineData(130, 40, 600, 300, 2)]    // several depth blocks in both GEMMs
    public void Float32_MatchesLinearGeluLinear(int rows, int inF, int hidden, int outF, int threads)
    {
        int saved = Parallelism.ThreadCount;
        try
        {
            Parallelism.ThreadCount = threads;
            var g = new Generator(11);
            Tensor x = Tensor.Randn([rows, inF], DType.Float32, g).RequireGrad();
            Tensor w1 = (Tensor.Randn([hidden, inF], DType.Float32, g) * 0.2).RequireGrad(), b1 = Tensor.Randn([hidden], DType.Float32, g).RequireGrad();
            Tensor w2 = (Tensor.Randn([outF, hidden], DType.Float32, g) * 0.2).RequireGrad(), b2 = Tensor.Randn([outF], DType.Float32, g).RequireGrad();
            Tensor[] mine = [x, w1, b1, w2, b2];
            Tensor[] theirs = Array.ConvertAll(mine, t => t.Detach().Clone().RequireGrad());
            Tensor dy = Tensor.Randn([rows, outF], DType.Float32, g);
            Tensor fused = FeedForwardNode.Forward(x, w1, b1, w2, b2), plain = Plain(theirs[0], theirs[1], theirs[2], theirs[3], theirs[4]);
            // Same GEMMs and the same GELU kernel: the values agree to the last bit when the hidden rows are whole
            // vectors; otherwise a row's last few elements take the kernel's scalar path, which may differ in the last bit.
            if (hidden % 16 == 0) Assert.Equal(plain.ToArray<float>(), fused.ToArray<float>());
            else T.Close(plain.ToDoubleArray(), fused, 1e-5);
            fused.Backward(dy);
            plain.Backward(dy);
            for (int i = 0; i < mine.Length; i++)
                T.Close(theirs[i].Grad!.ToDoubleArray(), mine[i].Grad!, 2e-4 * Math.Sqrt(Math.Max(rows, 1)));
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    [Fact]
    public void MismatchedSecondWeight_NamesBothShapes()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            FeedForwardNode.Forward(Tensor.Zeros([2, 3]), Tensor.Zeros([4, 3]), null, Tensor.Zeros([2, 5]), null));
        Assert.Contains("[4, 3]", e.Message);
        Assert.Contains("[2, 5]", e.Message);
    }

    [Fact]
    public void TransformerBlock_FusesUnlessAHookWatchesFc1OrFc2()
    {
        var block = new TransformerBlock(16, 2, 32, generator: new Generator(5));
        Tensor x = Tensor.Randn([2, 5, 16], DType.Float32, new Generator(6));
        Tensor fused = block.Forward(x);
        Tensor? seen = null;
        using (block.Fc1.RegisterForwardHook((_, _, output) => { seen = output; return null; }))
        {
            Tensor hooked = block.Forward(x);
            Assert.NotNull(seen); // the hook saw Fc1's own call: the block ran the unfused path
            Assert.Equal(hooked.ToArray<float>(), fused.ToArray<float>());
        }
    }
}
