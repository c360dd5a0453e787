using System.Diagnostics;
using Backprop.Autograd;
using Backprop.Data;
using Backprop.Memory;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Threading;
using Backprop.Cli.Recipes;

namespace Backprop.Cli.Bench;

/// <summary>
/// The peer-benchmark workloads exactly as ../shared/peers/WORKLOADS.md defines them: same data,
/// batch order (file order, batch s mod ⌊N/B⌋), phases, warm-up counts and metric names.
/// </summary>
internal static class Workloads
{
    private static double Seconds(long start) => Stopwatch.GetElapsedTime(start).TotalSeconds;

    public static void Gemm(BenchRecorder r, int[] threadCounts)
    {
        (int N, int Reps)[] sizes = [(256, 100), (512, 40), (1024, 10), (2048, 5)];
        var g = new Generator(0);
        foreach (int threads in threadCounts)
        {
            Parallelism.ThreadCount = threads;
            foreach (var (n, reps) in sizes)
            {
                Tensor a = Tensor.Uniform([n, n], -1, 1, generator: g), b = Tensor.Uniform([n, n], -1, 1, generator: g);
                using var noGrad = GradMode.Disable();
                for (int i = 0; i < 3; i++)
                    using (TensorScope.Begin()) a.MatMul(b);
                var times = new double[reps];
                for (int i = 0; i < reps; i++)
                {
                    // A fresh C each call, allocation included; the scope frees it outside the timed region, as the peers' `del C`.
                    using var scope = TensorScope.Begin();
                    long t0 = Stopwatch.GetTimestamp();
                    a.MatMul(b);
                    times[i] = Seconds(t0);
                }
                Array.Sort(times);
                double median = reps % 2 == 1 ? times[reps / 2] : 0.5 * (times[reps / 2 - 1] + times[reps / 2]);
                double flop = 2.0 * n * n * n;
                r.Emit("gemm", "gflops", flop / median / 1e9, "GFLOP/s", threads,
                    ("n", n), ("reps", reps), ("median_s", median), ("min_s", times[0]), ("max_s", times[^1]), ("best_gflops", flop / times[0] / 1e9));
            }
        }
    }

    private static (Tensor X, Tensor Y, Tensor TestX, Tensor TestY, double LoadSeconds) LoadFashionMnist(string dataDir)
    {
        long t0 = Stopwatch.GetTimestamp();
        var (x, y) = FashionMnist.Load(dataDir, train: true);   // pixel / 255, no normalisation
        var (tx, ty) = FashionMnist.Load(dataDir, train: false);
        return (x, y, tx, ty, Seconds(t0));
    }

    private static (Tensor, Tensor) Batch(Tensor x, Tensor y, int step, int batch)
    {
        int k = step % (x.Shape[0] / batch);
        return (x.Narrow(0, k * batch, batch), y.Narrow(0, k * batch, batch));
    }

    /// <summary>No-grad forward + loss (the `fwd` phase).</summary>
    private static Tensor ForwardLoss(Module model, (Tensor X, Tensor Y) batch)
    {
        using var noGrad = GradMode.Disable();
        return Functional.CrossEntropy(model.Call(batch.X), batch.Y);
    }

    /// <summary>Zero grads (set to none), forward, loss, backward, optimizer step (the `train` phase).</summary>
    private static Tensor TrainStep(Module model, Optimizer opt, (Tensor X, Tensor Y) batch)
    {
        opt.ZeroGrad();
        Tensor loss = Functional.CrossEntropy(model.Call(batch.X), batch.Y);
        loss.Backward();
        opt.Step();
        return loss;
    }

    /// <summary>Managed allocation and garbage collections over one timed phase.</summary>
    internal readonly record struct Memory(double BytesPerStep, int Gen0, int Gen1, int Gen2, double CpuSeconds)
    {
        public (string, object)[] Details(string prefix) =>
            [($"{prefix}alloc_bytes_per_step", BytesPerStep), ($"{prefix}gen0", Gen0), ($"{prefix}gen1", Gen1), ($"{prefix}gen2", Gen2),
             ($"{prefix}cpu_seconds", CpuSeconds)];
    }

    /// <summary>Runs steps [from, to); returns the wall time, the last step's loss (read after the clock stops) and the phase's allocations.</summary>
    internal static (double Seconds, double LastLoss, Memory Memory) Timed(Func<int, Tensor> step, int from, int to)
    {
        Tensor? last = null;
        int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
        long bytes = GC.GetAllocatedBytesForCurrentThread();
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        long t0 = Stopwatch.GetTimestamp();
        for (int s = from; s < to; s++)
        {
            using var scope = TensorScope.Begin(); // the step's tensors are recycled when it ends
            last = scope.Keep(step(s));
        }
        double seconds = Seconds(t0);
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        bytes = GC.GetAllocatedBytesForCurrentThread() - bytes;
        var memory = new Memory(to > from ? (double)bytes / (to - from) : 0,
            GC.CollectionCount(0) - g0, GC.CollectionCount(1) - g1, GC.CollectionCount(2) - g2, cpuSeconds);
        return (seconds, last?.Item() ?? double.NaN, memory);
    }

    public static void Mlp(BenchRecorder r, string dataDir)
    {
        var (xtr, ytr, xte, yte, loadSeconds) = LoadFashionMnist(dataDir);
        const int B = 128, Warm = 20, Steps = 200;
        Sequential model = Models.Mlp(new Generator(0)).Fuse();
        var opt = new Sgd(model.Parameters(), new SgdOptions(LearningRate: 0.1, Momentum: 0.9));

        Tensor Fwd(int s) => ForwardLoss(model, Batch(xtr, ytr, s, B));
        Tensor FwdBwd(int s)
        {
            var (x, y) = Batch(xtr, ytr, s, B);
            model.ZeroGrad();
            Tensor loss = Functional.CrossEntropy(model.Call(x), y);
            loss.Backward();
            return loss;
        }
        Tensor Train(int s) => TrainStep(model, opt, Batch(xtr, ytr, s, B));
        (double, double, Memory) Phase(Func<int, Tensor> fn)
        {
            Timed(fn, 0, Warm);
            return Timed(fn, Warm, Warm + Steps);
        }

        var (tF, _, mF) = Phase(Fwd);
        var (tFB, _, mFB) = Phase(FwdBwd);
        var (tTr, loss, mTr) = Phase(Train);
        (string, object)[] d = [("batch", B), ("warmup", Warm), ("steps", Steps), ("load_seconds", loadSeconds)];
        r.Emit("mlp", "train_samples_per_s", Steps * B / tTr, "samples/s", null, [.. d, ("seconds", tTr), ("last_loss", loss), .. mTr.Details("")]);
        r.Emit("mlp", "train_steps_per_s", Steps / tTr, "steps/s", null, d);
        r.Emit("mlp", "fwd_samples_per_s", Steps * B / tF, "samples/s", null, [.. d, ("seconds", tF), .. mF.Details("")]);
        r.Emit("mlp", "fwdbwd_samples_per_s", Steps * B / tFB, "samples/s", null, [.. d, ("seconds", tFB), .. mFB.Details("")]);
        r.Emit("mlp", "bwd_over_fwd", (tFB - tF) / tF, "ratio", null, d);
        r.Emit("mlp", "step_over_fwd", tTr / tF, "ratio", null, d);

        // 2-epoch accuracy run with a fresh model
        model = Models.Mlp(new Generator(0)).Fuse();
        opt = new Sgd(model.Parameters(), new SgdOptions(LearningRate: 0.1, Momentum: 0.9));
        int nsteps = 2 * (xtr.Shape[0] / B);
        var (tTrain, finalLoss, _) = Timed(Train, 0, nsteps);
        long t0 = Stopwatch.GetTimestamp();
        long correct = 0;
        using (GradMode.Disable())
            for (int i = 0; i < xte.Shape[0]; i += 1000)
            {
                using var scope = TensorScope.Begin();
                long[] pred = model.Call(xte.Narrow(0, i, 1000)).ArgMax(1).ToArray<long>();
                long[] truth = yte.Narrow(0, i, 1000).ToArray<long>();
                for (int k = 0; k < pred.Length; k++) if (pred[k] == truth[k]) correct++;
            }
        double tEval = Seconds(t0);
        double acc = (double)correct / xte.Shape[0];
        r.Emit("mlp_2epoch", "test_accuracy", acc, "fraction", null, ("epochs", 2), ("steps", nsteps), ("batch", B), ("train_seconds", tTrain));
        r.Emit("mlp_2epoch", "train_seconds", tTrain, "s", null, ("epochs", 2), ("steps", nsteps), ("batch", B),
            ("test_accuracy", acc), ("final_train_loss", finalLoss), ("eval_seconds", tEval));
    }

    public static void Cnn(BenchRecorder r, string dataDir)
    {
        var (xtr, ytr, _, _, loadSeconds) = LoadFashionMnist(dataDir);
        xtr = xtr.View(-1, 1, 28, 28);
        const int B = 64, Warm = 5, FSteps = 50, TSteps = 40;
        Sequential model = Models.Cnn(new Generator(0)).Fuse();
        var opt = new Adam(model.Parameters(), new AdamOptions(LearningRate: 1e-3));
        Tensor Fwd(int s) => ForwardLoss(model, Batch(xtr, ytr, s, B));
        Tensor Train(int s) => TrainStep(model, opt, Batch(xtr, ytr, s, B));
        Timed(Fwd, 0, Warm);
        var (tF, _, mF) = Timed(Fwd, Warm, Warm + FSteps);
        Timed(Train, 0, Warm);
        var (tTr, loss, mTr) = Timed(Train, Warm, Warm + TSteps);
        (string, object)[] d = [("batch", B), ("warmup", Warm), ("load_seconds", loadSeconds)];
        r.Emit("cnn", "train_samples_per_s", TSteps * B / tTr, "samples/s", null, [.. d, ("steps", TSteps), ("seconds", tTr), ("last_loss", loss), .. mTr.Details("")]);
        r.Emit("cnn", "fwd_samples_per_s", FSteps * B / tF, "samples/s", null, [.. d, ("steps", FSteps), ("seconds", tF), .. mF.Details("")]);
        r.Emit("cnn", "step_over_fwd", (tTr / TSteps) / (tF / FSteps), "ratio", null, d);
    }
}
