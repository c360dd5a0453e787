using Backprop.NN;
using Backprop.Tensors;
using Backprop.Threading;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.MatMul;

/// <summary>
/// Linear's dx and dW computed side by side on two threads (<c>LinearGrads</c>) against the
/// one-thread path, which runs them as two MatMul calls: the values must be bit-identical.
/// </summary>
[Collection(ThreadsCollection.Name)]
public class LinearGradsTests
{
    [Theory]
    [InlineData(128, 784, 512, false)]
    [InlineData(128, 256, 10, true)]
    [InlineData(1, 5, 3, false)]
    [InlineData(7, 1, 9, true)]
    [InlineData(33, 17, 1, false)]
    [InlineData(300, 70, 90, true)]
    [InlineData(0, 5, 3, false)]
    [InlineData(4, 0, 3, true)]
    [InlineData(4, 6, 0, false)]
    public void TwoThreads_BitIdenticalToOneThread(int rows, int inF, int outF, bool relu)
    {
        foreach (DType dtype in new[] { DType.Float32, DType.Float64 })
            foreach (bool transposedWeight in new[] { false, true })
            {
                var (x1, w1, b1) = Grads(1, rows, inF, outF, relu, dtype, transposedWeight);
                var (x2, w2, b2) = Grads(2, rows, inF, outF, relu, dtype, transposedWeight);
                string what = $"{dtype.Name()} rows={rows} in={inF} out={outF} relu={relu} transposedWeight={transposedWeight}";
                Assert.True(x1.SequenceEqual(x2), $"dx differs: {what}");
                Assert.True(w1.SequenceEqual(w2), $"dW differs: {what}");
                Assert.True(b1.SequenceEqual(b2), $"db differs: {what}");
            }
    }

    [Fact]
    public void BatchedInput_TwoThreads_MatchesOneThread()
    {
        double[] Run(int threads)
        {
            int saved = Parallelism.ThreadCount;
            try
            {
                Parallelism.ThreadCount = threads;
                var g = new Generator(5);
                Tensor x = Tensor.Randn([4, 30, 20], DType.Float64, g).RequireGrad();
                Tensor w = Tensor.Randn([25, 20], DType.Float64, g).RequireGrad();
                Tensor y = Functional.LinearRelu(x, w);
                y.Backward(Tensor.Randn([4, 30, 25], DType.Float64, g));
                Assert.Equal(x.Shape, x.Grad!.Shape);
                return [.. x.Grad.ToArray<double>(), .. w.Grad!.ToArray<double>()];
            }
            finally
            {
                Parallelism.ThreadCount = saved;
            }
        }
        Assert.Equal(Run(1), Run(2));
    }

    /// <summary>
    /// The bias gradient summed by the dW thread equals the sum over the batch rows of the output
    /// gradient, also for a batched input and an upstream gradient that is a transposed view (summed
    /// by the caller), and for empty and one-row batches.
    /// </summary>
    [Theory]
    [Trait("Category", "Kernels")]
    [InlineData(2, 3, 7, 5)]
    [InlineData(1, 1, 4, 1)]
    [InlineData(3, 0, 4, 6)]
    [InlineData(2, 65, 33, 17)]
    public void BiasGradient_TwoThreads_EqualsRowSum(int batch, int seq, int inF, int outF)
    {
        int saved = Parallelism.ThreadCount;
        try
        {
            Parallelism.ThreadCount = 2;
            foreach (bool transposedUpstream in new[] { false, true })
                foreach (bool relu in new[] { false, true })
                {
                    var g = new Generator((ulong)(batch * 31 + seq * 7 + inF + outF));
                    Tensor x = Tensor.Randn([batch, seq, inF], DType.Float64, g).RequireGrad();
                    Tensor w = Tensor.Randn([outF, inF], DType.Float64, g).RequireGrad();
                    Tensor b = Tensor.Randn([outF], DType.Float64, g).RequireGrad();
                    Tensor y = relu ? Functional.LinearRelu(x, w, b) : Functional.Linear(x, w, b);
                    Tensor dy = transposedUpstream
                        ? Tensor.Randn([outF, seq, batch], DType.Float64, g).Permute(2, 1, 0)
                        : Tensor.Randn([batch, seq, outF], DType.Float64, g);
                    y.Backward(dy);
                    double[] yv = y.Detach().Contiguous().ToArray<double>(), dyv = dy.Contiguous().ToArray<double>();
                    var expected = new double[outF];
                    for (int r = 0; r < batch * seq; r++)
                        for (int o = 0; o < outF; o++)
                            if (!relu || yv[r * outF + o] > 0) expected[o] += dyv[r * outF + o];
                    double[] actual = b.Grad!.ToArray<double>();
                    Assert.Equal(outF, actual.Length);
                    for (int o = 0; o < outF; o++)
                        Assert.True(Math.Abs(expected[o] - actual[o]) <= 1e-12 * (1 + Math.Abs(expected[o])),
                                    $"db[{o}] = {actual[o]}, expected {expected[o]} (batch={batch} seq={seq} in={inF} out={outF} relu={relu} transposed={transposedUpstream})");
                }
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    private static (double[] Dx, double[] Dw, double[] Db) Grads(int threads, int rows, int inF, int outF, bool relu, DType dtype, bool transposedWeight)
    {
        int saved = Parallelism.ThreadCount;
        try
        {
            Parallelism.ThreadCount = threads;
            var g = new Generator((ulong)(rows * 7 + inF + outF));
            Tensor x = Tensor.Randn([rows, inF], dtype, g).RequireGrad();
            // A weight that is the transpose of a stored [in, out] matrix reaches the GEMMs as a transposed operand.
            Tensor w = transposedWeight ? Tensor.Randn([inF, outF], dtype, g).RequireGrad() : Tensor.Randn([outF, inF], dtype, g).RequireGrad();
            Tensor b = Tensor.Randn([outF], dtype, g).RequireGrad();
            Tensor wv = transposedWeight ? w.T() : w;
            Tensor y = relu ? Functional.LinearRelu(x, wv, b) : Functional.Linear(x, wv, b);
            y.Backward(Tensor.Randn([rows, outF], dtype, g));
            return (x.Grad!.To(DType.Float64).ToArray<double>(), w.Grad!.To(DType.Float64).ToArray<double>(), b.Grad!.To(DType.Float64).ToArray<double>());
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }
}
