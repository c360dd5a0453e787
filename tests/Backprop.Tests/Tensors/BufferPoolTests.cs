using Backprop.Cli.Recipes;
using Backprop.NN;
using Backprop.Optim;

namespace Backprop.Tests.Tensors;

/// <summary>
/// The storage buffer pool: arrays are reused in a training loop, anything a user can still read is
/// never recycled, and pooling changes no result. Allocation bounds are behaviour, not timing.
/// </summary>
public class BufferPoolTests
{
    private sealed record Run(Sequential Model, Optimizer Opt, Tensor X, Tensor Y, int Batch);

    private static Run Make(string name, int batch, int batches = 4)
    {
        var g = new Generator(7);
        Tensor x = Tensor.Uniform(Models.InputShape(name, batch * batches), 0, 1, generator: g);
        Tensor y = Tensor.RandInt([batch * batches], 0, 10, g);
        Sequential model = Models.Create(name, new Generator(0));
        Optimizer opt = name == "cnn"
            ? new Adam(model.Parameters(), new AdamOptions(LearningRate: 1e-3))
            : new Sgd(model.Parameters(), new SgdOptions(LearningRate: 0.1, Momentum: 0.9));
        return new Run(model, opt, x, y, batch);
    }

    private static Tensor Step(Run r, int s)
    {
        int k = s % (r.X.Shape[0] / r.Batch);
        r.Opt.ZeroGrad();
        Tensor loss = Functional.CrossEntropy(r.Model.Forward(r.X.Narrow(0, k * r.Batch, r.Batch)), r.Y.Narrow(0, k * r.Batch, r.Batch));
        loss.Backward();
        r.Opt.Step();
        return loss;
    }

    /// <summary>Runs <paramref name="body"/> on a new thread, with the pool on or off there.</summary>
    private static T OnThread<T>(bool pooled, Func<T> body)
    {
        T result = default!;
        Exception? error = null;
        var t = new Thread(() =>
        {
            BufferPool.DisabledOnThisThread = !pooled;
            try { result = body(); }
            catch (Exception e) { error = e; }
        }, 64 << 20);
        t.Start();
        t.Join();
        if (error is not null) throw new InvalidOperationException("thread failed", error);
        return result;
    }

    /// <summary>Managed bytes allocated per step by steps [warm, warm + steps) of a fresh run.</summary>
    private static double BytesPerStep(string name, int batch, int warm, int steps)
    {
        Run r = Make(name, batch);
        // Steady state: the collection below puts the dead buffers of all warm-up steps back in the free
        // lists, so as long as steps <= warm every measured step can be served from them, whether or
        // not another collection happens to run meanwhile (tests on other threads trigger them).
        for (int s = 0; s < warm; s++) Step(r, s);
        GC.Collect();
        BufferPool.SafePoint();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int s = warm; s < warm + steps; s++) Step(r, s);
        return (double)(GC.GetAllocatedBytesForCurrentThread() - before) / steps;
    }

    [Theory]
    [InlineData("mlp", 64, 40, 30)]
    [InlineData("cnn", 8, 10, 8)]
    public void TrainingLoop_ReusesBuffers(string name, int batch, int warm, int steps)
    {
        Assert.True(steps <= warm, "the free lists hold one set of buffers per warm-up step");
        if (!BufferPool.Enabled) return; // BACKPROP_POOL=0
        double unpooled = OnThread(false, () => BytesPerStep(name, batch, warm, steps));
        (double pooled, long hits, long misses) = OnThread(true, () =>
        {
            double b = BytesPerStep(name, batch, warm, steps);
            return (b, BufferPool.Current!.Hits, BufferPool.Current!.Misses);
        });
        Assert.True(hits > 0, "the pool served no array");
        // mlp, batch 64: ~2.6 MB/step unpooled (weights' fresh .Grad alone 2.1 MB), tens of kB pooled.
        Assert.True(pooled < 0.2 * unpooled, $"{name}: {pooled:F0} bytes/step pooled vs {unpooled:F0} unpooled");
        if (name == "mlp") Assert.True(pooled < 200_000, $"mlp: {pooled:F0} bytes/step, {hits} hits, {misses} misses");
    }

    [Theory]
    [InlineData("mlp", 32, 12)]
    [InlineData("cnn", 4, 4)]
    public void Training_IsBitIdenticalWithAndWithoutPool(string name, int batch, int steps)
    {
        float[][] Train()
        {
            Run r = Make(name, batch);
            for (int s = 0; s < steps; s++)
            {
                Step(r, s);
                if (s % 3 == 2) { GC.Collect(); BufferPool.SafePoint(); } // recycle as much as possible
            }
            return [.. r.Model.Parameters().Select(p => p.Data.ToArray<float>())];
        }
        float[][] reference = OnThread(false, Train);
        float[][] pooled = OnThread(true, Train);
        for (int i = 0; i < reference.Length; i++)
            Assert.Equal(reference[i], pooled[i]);
    }

    [Fact]
    public void HeldTensors_GradsAndExposedArrays_AreNeverOverwritten()
    {
        OnThread(true, () =>
        {
            var g = new Generator(3);
            var l1 = new Linear(784, 256, generator: g);
            var l2 = new Linear(256, 10, generator: g);
            var opt = new Sgd([.. l1.Parameters(), .. l2.Parameters()], new SgdOptions(LearningRate: 0.05, Momentum: 0.9));
            Tensor x = Tensor.Uniform([32, 784], 0, 1, generator: g);
            Tensor y = Tensor.RandInt([32], 0, 10, g);
            Tensor StepHeld(out Tensor hidden)
            {
                opt.ZeroGrad();
                hidden = l1.Forward(x).Relu();                  // [32, 256]: saved for backward, then only ours
                Tensor loss = Functional.CrossEntropy(l2.Forward(hidden), y);
                loss.Backward();
                opt.Step();
                return loss;
            }

            BufferPool.SafePoint();
            StepHeld(out Tensor held);
            float[] heldValues = held.ToArray<float>();
            Tensor grad = l1.Weight.Grad!;                      // read by the user: must never be recycled
            float[] gradValues = grad.ToArray<float>();
            StepHeld(out Tensor exposed);
            float[] exposedArray = ((Storage<float>)exposed.Storage).Data; // the array escapes the storage
            float[] exposedValues = (float[])exposedArray.Clone();
            StepHeld(out Tensor spanned);
            Span<float> span = spanned.AsSpan<float>();        // a span can outlive the tensor
            float[] spanValues = span.ToArray();
            exposed = null!;
            spanned = null!;

            for (int s = 0; s < 12; s++)
            {
                StepHeld(out _);
                GC.Collect();
                BufferPool.SafePoint();                         // reclaims every dead storage now
            }
            Assert.Equal(heldValues, held.ToArray<float>());
            Assert.Equal(gradValues, grad.ToArray<float>());
            Assert.Equal(exposedValues, exposedArray);
            Assert.Equal(spanValues, span.ToArray());
            Assert.True(BufferPool.Current!.Hits > 0);
            return 0;
        });
    }

    [Fact]
    public void Reclaim_GivesADroppedTensorsBufferToTheNextOfItsSize_AndLeavesHeldOnesAlone()
    {
        OnThread(true, () =>
        {
            Tensor a = Tensor.Uniform([64, 64], -1, 1, generator: new Generator(1)), b = Tensor.Uniform([64, 64], -1, 1, generator: new Generator(2));
            TensorMemory.Reclaim();
            Tensor held = a.MatMul(b);
            float[] heldValues = held.ToArray<float>();
            float[] dropped = DropProduct(a, b);
            TensorMemory.Reclaim();
            Tensor next = a.MatMul(b);
            Assert.Same(dropped, ((Storage<float>)next.Storage).Items); // reused, not fresh
            Assert.NotSame(((Storage<float>)held.Storage).Items, ((Storage<float>)next.Storage).Items);
            Assert.Equal(heldValues, held.ToArray<float>());
            Assert.Equal(heldValues, next.ToArray<float>());
            return 0;
        });

        // In its own frame, so that nothing on the caller's stack keeps the product alive.
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        static float[] DropProduct(Tensor a, Tensor b) => ((Storage<float>)a.MatMul(b).Storage).Items;
    }

    [Fact]
    public void ZeroGrad_RecyclesAnUnreadGradientIntoTheNextBackward()
    {
        OnThread(true, () =>
        {
            Run r = Make("mlp", 16);
            Parameter w = r.Model.Parameters().First(p => p.Numel >= BufferPool.MinLength);
            Step(r, 0);
            Tensor old = w.PrivateGrad!;
            float[] oldArray = ((Storage<float>)old.Storage).Items;
            Step(r, 1); // ZeroGrad gives the buffer back; this backward's gradient reuses it
            Assert.Throws<ArgumentOutOfRangeException>(() => old.ToArray<float>()); // the dropped tensor was emptied
            Assert.Same(oldArray, ((Storage<float>)w.PrivateGrad!.Storage).Items);

            Tensor read = w.Grad!; // now the user holds it: ZeroGrad must leave it alone
            float[] readValues = read.ToArray<float>();
            Step(r, 2);
            Step(r, 3);
            Assert.Equal(readValues, read.ToArray<float>());
            Assert.NotSame(read, w.PrivateGrad);
            return 0;
        });
    }
}
