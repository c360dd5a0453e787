using Backprop.Tests.Support;

namespace Backprop.Tests.Ops;

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
            int saved = Threading.ThreadCount;
            try
            {
                Threading.ThreadCount = threads;
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
                Threading.ThreadCount = saved;
            }
        }
        Assert.Equal(Run(1), Run(2));
    }

    private static (double[] Dx, double[] Dw, double[] Db) Grads(int threads, int rows, int inF, int outF, bool relu, DType dtype, bool transposedWeight)
    {
        int saved = Threading.ThreadCount;
        try
        {
            Threading.ThreadCount = threads;
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
            Threading.ThreadCount = saved;
        }
    }
}
