using Backprop.Autograd;
using Backprop.Memory;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;

namespace Backprop.Tests.Autograd;

/// <summary>
/// Gradient checkpointing (<see cref="GradientCheckpoint.Run"/>): values and gradients bit-identical to the
/// plain run (dropout masks replayed), parameters' gradients delivered as the surrounding backward delivers
/// leaves', nothing but the inputs kept for backward, and clear errors for what it cannot do.
/// </summary>
[Collection(CheckpointCollection.Name)]
public class GradientCheckpointTests
{
    internal static int[] Bits(Tensor t) => Array.ConvertAll(t.Contiguous().ToArray<float>(), BitConverter.SingleToInt32Bits);

    private static long[] Bits64(Tensor t) => Array.ConvertAll(t.Contiguous().ToArray<double>(), BitConverter.DoubleToInt64Bits);

    /// <summary>One backward of sum(y·w) inside a step scope; the output and every gradient as bits.</summary>
    internal static (int[] Y, int[]? Dx, int[][] Dp) Step(Module model, Tensor x, Func<Tensor, Tensor> forward)
    {
        model.ZeroGrad();
        if (x.RequiresGrad) x.Grad = null;
        using var scope = TensorScope.Begin();
        Tensor y = forward(x);
        Tensor w = Tensor.Uniform(y.Shape, -1, 1, generator: new Generator(99));
        (y * w).Sum().Backward();
        return (Bits(y), x.RequiresGrad ? Bits(x.Grad!) : null, [.. model.Parameters().Select(p => Bits(p.Grad!))]);
    }

    internal static void AssertSame((int[] Y, int[]? Dx, int[][] Dp) plain, (int[] Y, int[]? Dx, int[][] Dp) checkpointed)
    {
        Assert.Equal(plain.Y, checkpointed.Y);
        Assert.Equal(plain.Dx, checkpointed.Dx);
        Assert.Equal(plain.Dp.Length, checkpointed.Dp.Length);
        for (int i = 0; i < plain.Dp.Length; i++) Assert.Equal(plain.Dp[i], checkpointed.Dp[i]);
    }

    private static Sequential Mlp() => new(new Linear(64, 256, generator: new Generator(1)), new Gelu(), new Linear(256, 64, generator: new Generator(2)));

    [Fact]
    public void Mlp_ValuesAndGradients_AreBitIdentical()
    {
        Sequential mlp = Mlp();
        Tensor x = Tensor.Uniform([32, 64], -1, 1, generator: new Generator(3)).RequireGrad();
        var plain = Step(mlp, x, t => mlp.Forward(t));
        var checkpointed = Step(mlp, x, t => GradientCheckpoint.Run(a => mlp.Forward(a[0]), t));
        AssertSame(plain, checkpointed);
    }

    [Fact]
    public void TransformerBlock_WithDropout_ReplaysTheMasks_BitIdentical()
    {
        var gen = new Generator(5);
        var block = new TransformerBlock(32, 4, 64, dropout: 0.3, attentionDropout: 0.2, generator: gen);
        Tensor x = Tensor.Uniform([2, 16, 32], -1, 1, generator: new Generator(6)).RequireGrad();
        ulong[] start = gen.GetState();

        var plain = Step(block, x, t => block.Forward(t));
        ulong[] afterPlain = gen.GetState();
        var again = Step(block, x, t => block.Forward(t));
        Assert.NotEqual(plain.Y, again.Y); // the dropout is live: new masks give new values

        gen.SetState(start);
        var checkpointed = Step(block, x, t => GradientCheckpoint.Run(a => block.Forward(a[0]), t));
        AssertSame(plain, checkpointed);
        Assert.Equal(afterPlain, gen.GetState()); // the recompute drew nothing, as far as the stream goes
    }

    [Fact]
    public void CategoricalSampling_InsideTheFunction_IsReplayed()
    {
        var gen = new Generator(31);
        var lin = new Linear(16, 12, generator: new Generator(32));
        Tensor x = Tensor.Uniform([6, 16], -1, 1, generator: new Generator(33)).RequireGrad();
        // The drawn classes pick which logits reach the output: a different draw in the recompute would change the gradients.
        Tensor F(Tensor t)
        {
            Tensor logits = lin.Forward(t);
            Tensor k = new Backprop.Distributions.Categorical(logits.Detach()).Sample(gen).Unsqueeze(1);
            return logits.Gather(1, k);
        }
        ulong[] start = gen.GetState();
        var plain = Step(lin, x, F);
        var again = Step(lin, x, F);
        Assert.NotEqual(plain.Dx, again.Dx); // new draws, other classes
        gen.SetState(start);
        AssertSame(plain, Step(lin, x, t => GradientCheckpoint.Run(a => F(a[0]), t)));
    }

    [Fact]
    public void DefaultGenerator_IsReplayedToo()
    {
        Tensor x = Tensor.Uniform([8, 200], -1, 1, generator: new Generator(7)).RequireGrad();
        static Tensor F(Tensor t) => Functional.Dropout(t.Tanh(), 0.5) * t; // draws from Generator.Default
        ulong[] start = Generator.Default.GetState();
        Tensor plain = F(x);
        plain.Sum().Backward();
        int[] dxPlain = Bits(x.Grad!);
        ulong[] afterPlain = Generator.Default.GetState();

        x.Grad = null;
        Generator.Default.SetState(start);
        Tensor checkpointed = GradientCheckpoint.Run(a => F(a[0]), x);
        checkpointed.Sum().Backward();
        Assert.Equal(Bits(plain), Bits(checkpointed));
        Assert.Equal(dxPlain, Bits(x.Grad!));
        Assert.Equal(afterPlain, Generator.Default.GetState());
    }

    [Fact]
    public void InputsThatDoNotRequireGrad_AreUsedAsTheyAre()
    {
        var lin = new Linear(16, 16, generator: new Generator(8));
        Tensor a = Tensor.Uniform([4, 16], -1, 1, generator: new Generator(9)).RequireGrad();
        Tensor b = Tensor.Uniform([4, 16], -1, 1, generator: new Generator(10));        // data: no gradient
        Tensor idx = Tensor.FromArray(new long[] { 3, 0, 1, 2 }, [4]);                   // int64: never a gradient
        Tensor F(Tensor[] t) => (lin.Forward(t[0]) * t[1]).IndexSelect(0, t[2]).Relu();

        lin.ZeroGrad();
        (F([a, b, idx]) * 3.0).Sum().Backward();
        int[] da = Bits(a.Grad!), dw = Bits(lin.Weight.Grad!), db = Bits(lin.Bias!.Grad!);

        lin.ZeroGrad();
        a.Grad = null;
        Tensor[]? seen = null;
        Tensor y = GradientCheckpoint.Run(t => { seen = t; return F(t); }, a, b, idx);
        (y * 3.0).Sum().Backward();
        Assert.Equal(da, Bits(a.Grad!));
        Assert.Equal(dw, Bits(lin.Weight.Grad!));
        Assert.Equal(db, Bits(lin.Bias.Grad!));
        Assert.Null(b.Grad);
        Assert.Same(b, seen![1]);   // the recompute got b and idx themselves, and a detached copy of a
        Assert.Same(idx, seen[2]);
        Assert.NotSame(a, seen[0]);
    }

    [Fact]
    public void NoInputRequiresGrad_ParametersStillGetTheirGradients()
    {
        Sequential mlp = Mlp();
        Tensor x = Tensor.Uniform([8, 64], -1, 1, generator: new Generator(11)); // a batch of data
        var plain = Step(mlp, x, t => mlp.Forward(t));
        var checkpointed = Step(mlp, x, t => GradientCheckpoint.Run(a => mlp.Forward(a[0]), t));
        AssertSame(plain, checkpointed);
    }

    [Fact]
    public void GradientsGrad_ReturnsRequestedParameterGradients_AndLeavesGradAlone()
    {
        Sequential mlp = Mlp();
        var w1 = (Tensor)mlp.Parameters().First();
        Tensor x = Tensor.Uniform([8, 64], -1, 1, generator: new Generator(12)).RequireGrad();
        mlp.ZeroGrad();
        Tensor?[] plain = Gradients.Grad([mlp.Forward(x).Square().Sum()], [x, w1]);

        Tensor y = GradientCheckpoint.Run(a => mlp.Forward(a[0]), x);
        Tensor?[] checkpointed = Gradients.Grad([y.Square().Sum()], [x, w1]);
        Assert.Equal(Bits(plain[0]!), Bits(checkpointed[0]!));
        Assert.Equal(Bits(plain[1]!), Bits(checkpointed[1]!));

        // Only x requested: no parameter's .Grad is touched (as without checkpointing).
        Tensor?[] onlyX = Gradients.Grad([GradientCheckpoint.Run(a => mlp.Forward(a[0]), x).Square().Sum()], [x]);
        Assert.Equal(Bits(plain[0]!), Bits(onlyX[0]!));
        Assert.All(mlp.Parameters(), p => Assert.Null(p.Grad));
        Assert.Null(x.Grad);

        // A parameter the checkpointed function does not use: unused, as without checkpointing.
        var other = new Parameter(Tensor.Ones([3]));
        Assert.Throws<InvalidOperationException>(() => Gradients.Grad([GradientCheckpoint.Run(a => mlp.Forward(a[0]), x).Sum()], [x, other]));
    }

    [Fact]
    public void Nested_AndSequentialCheckpoints_AreBitIdentical()
    {
        var gen = new Generator(13);
        var b1 = new TransformerBlock(16, 2, 32, dropout: 0.25, generator: gen);
        var b2 = new TransformerBlock(16, 2, 32, dropout: 0.25, generator: gen);
        var both = new Sequential(b1, b2);
        Tensor x = Tensor.Uniform([2, 8, 16], -1, 1, generator: new Generator(14)).RequireGrad();
        ulong[] start = gen.GetState();
        var plain = Step(both, x, t => b2.Forward(b1.Forward(t)));

        gen.SetState(start);
        var nested = Step(both, x, t => GradientCheckpoint.Run(
            a => GradientCheckpoint.Run(h => b2.Forward(h[0]), b1.Forward(a[0])), t));
        AssertSame(plain, nested);

        gen.SetState(start);
        var chained = Step(both, x, t => GradientCheckpoint.Run(h => b2.Forward(h[0]), GradientCheckpoint.Run(a => b1.Forward(a[0]), t)));
        AssertSame(plain, chained);

        // The inner function capturing the outer copy directly (a leaf inside the outer recompute) works too.
        gen.SetState(start);
        var capturing = Step(both, x, t => GradientCheckpoint.Run(
            a => GradientCheckpoint.Run(h => b2.Forward(b1.Forward(a[0])) + h[0] * 0.0, a[0]), t));
        gen.SetState(start);
        var reference = Step(both, x, t => b2.Forward(b1.Forward(t)) + t * 0.0);
        AssertSame(reference, capturing);
    }

    [Fact]
    public void TensorUsedInsideAndOutside_GetsBothContributions()
    {
        Tensor x = Tensor.FromArray(new double[] { 0.5, -1.5, 2.0 }, [3]).RequireGrad();
        Tensor y = GradientCheckpoint.Run(a => a[0].Square(), x) + x * 3.0; // d/dx = 2x + 3
        y.Sum().Backward();
        Assert.Equal(Bits64(Tensor.FromArray(new double[] { 4.0, 0.0, 7.0 }, [3])), Bits64(x.Grad!));
    }

    [Fact]
    public void FunctionReturningItsInput_GivesANewTensorAndTheGradient()
    {
        Tensor x = Tensor.FromArray(new double[] { 1, 2 }, [2]).RequireGrad();
        Tensor y = GradientCheckpoint.Run(a => a[0], x);
        Assert.NotSame(x, y);
        Assert.True(x.IsLeaf);
        (y * 2.0).Sum().Backward();
        Assert.Equal([2.0, 2.0], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void RetainGraph_AllowsASecondBackward_WithoutItTheSecondOneExplains()
    {
        Sequential mlp = Mlp();
        Tensor x = Tensor.Uniform([4, 64], -1, 1, generator: new Generator(15)).RequireGrad();
        Tensor plain = mlp.Forward(x).Sum();
        plain.Backward(retainGraph: true);
        plain.Backward();
        int[] twice = Bits(mlp.Parameters().First().Grad!);

        mlp.ZeroGrad();
        Tensor checkpointed = GradientCheckpoint.Run(a => mlp.Forward(a[0]), x).Sum();
        checkpointed.Backward(retainGraph: true);
        checkpointed.Backward();
        Assert.Equal(twice, Bits(mlp.Parameters().First().Grad!));
        var e = Assert.Throws<InvalidOperationException>(() => checkpointed.Backward());
        Assert.Contains("second time", e.Message);
    }

    [Fact]
    public void UnderNoGrad_TheFunctionSimplyRuns()
    {
        Sequential mlp = Mlp();
        Tensor x = Tensor.Uniform([4, 64], -1, 1, generator: new Generator(16));
        using (GradMode.Disable())
        {
            Tensor y = GradientCheckpoint.Run(a => mlp.Forward(a[0]), x);
            Assert.Null(y.GradFn);
            Assert.Equal(Bits(mlp.Forward(x)), Bits(y));
        }
    }

    [Fact]
    public void Output_HasOneNode_ThatKeepsOnlyTheInputs()
    {
        Sequential mlp = Mlp();
        Tensor x0 = Tensor.Uniform([4, 64], -1, 1, generator: new Generator(17)).RequireGrad();
        Tensor x = x0 * 2.0;
        Tensor plain = mlp.Forward(x);
        Tensor y = GradientCheckpoint.Run(a => mlp.Forward(a[0]), x);
        Assert.Equal("CheckpointBackward", y.GradFn!.Name);
        Assert.Equal([x.GradFn!], y.GradFn.NextNodes());           // straight to the input's node: nothing of the MLP
        Assert.Equal(4, NodesBehind(plain));                        // Linear, GELU, Linear, Mul
        Assert.Equal(2, NodesBehind(y));                            // CheckpointBackward → MulBackward
    }

    private static int NodesBehind(Tensor t)
    {
        var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Node>([t.GradFn!]);
        while (stack.Count > 0)
            if (stack.Pop() is var n && seen.Add(n))
                foreach (Node next in n.NextNodes()) stack.Push(next);
        return seen.Count;
    }

    [Fact]
    public void ActivationMemory_IsNotKeptAfterTheForward_AndFreedAfterTheBackward()
    {
        Sequential mlp = Mlp();
        Tensor x = Tensor.Uniform([32, 64], -1, 1, generator: new Generator(18)).RequireGrad();
        const long outputBytes = 32 * 64 * 4, hiddenBytes = 32 * 256 * 4;

        // (bytes held after the forward, peak during the backward, bytes left after it), all beyond the scope's start
        (long Held, long Peak, long Left) Measure(Func<Tensor, Tensor> forward)
        {
            x.Grad = null;
            using var scope = TensorScope.Begin();
            long start = MemoryStats.ScopedBytes;
            Tensor loss = forward(x).Square().Sum();
            long held = MemoryStats.ScopedBytes - start;
            MemoryStats.ResetPeak();
            loss.Backward();
            return (held, MemoryStats.PeakScopedBytes - start, MemoryStats.ScopedBytes - start);
        }
        var plain = Measure(t => mlp.Forward(t));
        var checkpointed = Measure(t => GradientCheckpoint.Run(a => mlp.Forward(a[0]), t));

        // Plain: both hidden activations (before and after GELU), the output and y². Checkpointed: the output and y² only.
        Assert.True(plain.Held >= 2 * hiddenBytes + 2 * outputBytes, $"plain holds {plain.Held}");
        Assert.Equal(plain.Held - 2 * hiddenBytes, checkpointed.Held);
        // The backward brings the hidden activations back for a while, and recycles them before it returns.
        Assert.True(checkpointed.Peak >= checkpointed.Held + 2 * hiddenBytes, $"peak {checkpointed.Peak}");
        // Left: what the plain run leaves but the hidden activations (no hook inside fn could have kept a gradient, so the
        // engine recycles the checkpoint's gradients as it does the plain run's).
        Assert.Equal(plain.Left - 2 * hiddenBytes, checkpointed.Left);
    }

    [Fact]
    public void HooksInsideTheFunction_SeeTheirGradients_WhichStayIntact()
    {
        Sequential mlp = Mlp();
        Tensor x = Tensor.Uniform([8, 64], -1, 1, generator: new Generator(20)).RequireGrad();
        Tensor? keptDy = null, keptDx = null;
        Tensor F(Tensor[] a, bool hook)
        {
            if (hook) a[0].RegisterHook(g => { keptDx = g; return null; });
            Tensor y = mlp.Forward(a[0]);
            if (hook) y.RegisterHook(g => { keptDy = g; return null; });
            return y;
        }
        mlp.ZeroGrad();
        using (TensorScope.Begin())
        {
            Tensor w = Tensor.Uniform([8, 64], -1, 1, generator: new Generator(21));
            (mlp.Forward(x) * w).Sum().Backward();
            int[] dx = Bits(x.Grad!);
            x.Grad = null;
            Tensor y = GradientCheckpoint.Run(a => F(a, GradMode.IsEnabled), x); // hooks only in the recompute
            (y * w).Sum().Backward();
            Assert.Equal(Bits(w), Bits(keptDy!));   // the hooks' tensors were neither overwritten nor recycled
            Assert.Equal(dx, Bits(keptDx!));
            Assert.Equal(dx, Bits(x.Grad!));
        }
    }

    [Fact]
    public void TensorsMadeInsideTheFunction_AreRecycledWhenItReturns()
    {
        Tensor? inside = null;
        Tensor x = Tensor.Uniform([64, 64], -1, 1, generator: new Generator(19)).RequireGrad();
        using (TensorScope.Begin())
        {
            Tensor y = GradientCheckpoint.Run(a => { inside = a[0].Tanh(); return inside * 2.0; }, x);
            Assert.Equal(64 * 64, y.Numel);
            Assert.Throws<InvalidOperationException>(() => inside!.Sum());
        }
    }

    [Fact]
    public void Errors_NameTheProblem()
    {
        Tensor x = Tensor.Ones([3]).RequireGrad();
        var e1 = Assert.Throws<InvalidOperationException>(() => GradientCheckpoint.Run(_ => null!, x));
        Assert.Contains("returned null", e1.Message);
        var e2 = Assert.Throws<ArgumentNullException>(() => GradientCheckpoint.Run(a => a[0], x, null!));
        Assert.Contains("input 1 of 2", e2.Message);
        Assert.Throws<ArgumentNullException>(() => GradientCheckpoint.Run(null!, x));

        // Double backward through a checkpoint.
        Tensor y = GradientCheckpoint.Run(a => a[0].Square(), x).Sum();
        var e3 = Assert.Throws<InvalidOperationException>(() => Gradients.Grad([y], [x], createGraph: true));
        Assert.Contains("double backward", e3.Message);

        // A captured non-leaf tensor that requires grad.
        Tensor h = x * 2.0;
        Tensor z = GradientCheckpoint.Run(a => a[0] * h, Tensor.Ones([3]).RequireGrad()).Sum();
        var e4 = Assert.Throws<InvalidOperationException>(() => z.Backward());
        Assert.Contains("pass that tensor to GradientCheckpoint.Run", e4.Message);
        Assert.Contains("MulBackward", e4.Message);

        // A function that computes something else the second time.
        int calls = 0;
        Tensor w = GradientCheckpoint.Run(a => ++calls == 1 ? a[0] * 2.0 : a[0].Reshape(1, 3) * 2.0, x).Sum();
        var e5 = Assert.Throws<InvalidOperationException>(() => w.Backward());
        Assert.Contains("[1, 3]", e5.Message);

        // Null from the recompute.
        calls = 0;
        Tensor v = GradientCheckpoint.Run(a => ++calls == 1 ? a[0] * 2.0 : null!, x).Sum();
        Assert.Contains("recompute", Assert.Throws<InvalidOperationException>(() => v.Backward()).Message);
    }

    [Fact]
    public void InputModifiedInPlace_BeforeBackward_IsDetected()
    {
        Tensor p = Tensor.Ones([3]).RequireGrad();
        Tensor x = Tensor.Ones([3]);
        Tensor y = GradientCheckpoint.Run(a => a[0] * p, x).Sum();
        x.AddInPlace(Tensor.Ones([3]));
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("in-place", e.Message);
    }
}

/// <summary>
/// Checkpoint tests compare two runs bit for bit, so they run alone: nothing may change the thread count or
/// draw from <see cref="Generator.Default"/> between them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CheckpointCollection
{
    public const string Name = "gradient checkpoint";
}
