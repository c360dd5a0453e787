using Backprop.Data;
using Backprop.Diagnostics;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Threading;
using Backprop.Tests.Support;

namespace Backprop.Tests.Threading;

/// <summary>
/// Where threads cannot start (Blazor WebAssembly without threading), forced here on the test's thread through
/// <see cref="ThreadSupport.ForceUnavailable"/>: every loop runs on the calling thread, <c>ThreadCount = 2</c> is
/// accepted with one warning, the DataLoader assembles batches inline, and training gives the same losses as with threads.
/// </summary>
[Collection(ThreadsCollection.Name)]
public class ThreadSupportTests
{
    private struct ThreadRecorder(HashSet<int> threads, int[] hits) : IRangeBody
    {
        public readonly void Invoke(int start, int end)
        {
            lock (threads) threads.Add(Environment.CurrentManagedThreadId);
            for (int i = start; i < end; i++) Interlocked.Increment(ref hits[i]);
        }
    }

    private static HashSet<int> ThreadsUsed(int length, out int[] hits)
    {
        var threads = new HashSet<int>();
        hits = new int[length];
        var body = new ThreadRecorder(threads, hits);
        Parallelism.ParallelFor(length, 1, ref body, Parallelism.BalancedChunks);
        return threads;
    }

    [Fact]
    public void WithoutThreads_ParallelFor_RunsEveryIndexOnce_OnTheCallingThread()
    {
        ThreadsCollection.With(2, () =>
        {
            using (ThreadSupport.ForceUnavailable())
            {
                Assert.False(ThreadSupport.Available);
                HashSet<int> threads = ThreadsUsed(1000, out int[] hits);
                Assert.Equal([Environment.CurrentManagedThreadId], threads);
                Assert.All(hits, h => Assert.Equal(1, h));
            }
            Assert.True(ThreadSupport.Available);
        });
    }

    [Fact]
    public void WithoutThreads_ThreadCountAboveOne_IsAccepted_AndWarnsOnce()
    {
        var warnings = new List<LibraryWarning>();
        Warnings.Capture(warnings.Add);
        try
        {
            ThreadsCollection.With(1, () =>
            {
                Parallelism.ThreadCount = 2; // threads available: no warning
                Assert.Empty(warnings);
                using (ThreadSupport.ForceUnavailable())
                {
                    Parallelism.ThreadCount = 2;
                    Assert.Equal(2, Parallelism.ThreadCount);
                    Parallelism.ThreadCount = 3;
                    Parallelism.ThreadCount = 1;
                }
            });
            LibraryWarning warning = Assert.Single(warnings);
            Assert.Equal("Parallelism", warning.Source);
            Assert.Contains("cannot start threads", warning.Message);
        }
        finally
        {
            Warnings.Capture(null);
        }
    }

    [Fact]
    public void WithoutThreads_DataLoaderWithPrefetch_ReadsTheSameBatchesInline()
    {
        var data = new TensorDataset(Tensor.Randn([50, 3], DType.Float32, new Generator(1)), Tensor.RandInt([50], 0, 4, new Generator(2)));
        List<(float[], long[])> Read(DataLoader loader) =>
            [.. loader.Epoch(0).Select(b => (b.Inputs.ToArray<float>(), b.Targets.ToArray<long>()))];

        var threaded = new DataLoader(data, 8, shuffle: true, seed: 5, prefetch: 2);
        var expected = Read(threaded);
        Assert.NotNull(threaded.PrefetchThread);

        var inline = new DataLoader(data, 8, shuffle: true, seed: 5, prefetch: 2);
        List<(float[], long[])> actual;
        using (ThreadSupport.ForceUnavailable())
            actual = Read(inline);
        Assert.Null(inline.PrefetchThread);
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Item1, actual[i].Item1);
            Assert.Equal(expected[i].Item2, actual[i].Item2);
        }
    }

    /// <summary>A 784-256-10 MLP trained from a prefetching DataLoader with ThreadCount = 2: the same losses and weights, bit for bit, with threads and without.</summary>
    [Fact]
    public void WithoutThreads_MlpTraining_MatchesTrainingWithThreads()
    {
        var data = new TensorDataset(Tensor.Randn([256, 784], DType.Float32, new Generator(3)), Tensor.RandInt([256], 0, 10, new Generator(4)));
        (double[] Losses, double[] Weights) Train()
        {
            var model = new Sequential(new Linear(784, 256, generator: new Generator(5)), new Relu(), new Linear(256, 10, generator: new Generator(6)));
            var opt = new Adam(model.Parameters(), new AdamOptions(LearningRate: 0.001));
            var losses = new List<double>();
            foreach (var (x, y) in new DataLoader(data, 64, shuffle: true, seed: 7, prefetch: 2).Epoch(0))
            {
                opt.ZeroGrad();
                Tensor loss = Functional.CrossEntropy(model.Forward(x), y);
                loss.Backward();
                opt.Step();
                losses.Add(loss.Item());
            }
            return ([.. losses], [.. model.Parameters().SelectMany(p => p.Data.ToDoubleArray())]);
        }
        ThreadsCollection.With(2, () =>
        {
            var threaded = Train();
            (double[] Losses, double[] Weights) single;
            using (ThreadSupport.ForceUnavailable())
                single = Train();
            Assert.Equal(4, threaded.Losses.Length);
            Assert.Equal(threaded.Losses, single.Losses);
            Assert.Equal(threaded.Weights, single.Weights);
        });
    }
}
