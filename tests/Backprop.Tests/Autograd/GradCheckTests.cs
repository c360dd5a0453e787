using Backprop.Autograd;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Autograd;

/// <summary>
/// GradCheck holds both engine paths to finite differences: Gradients.Grad (capture, shortcuts off)
/// and .Backward() into .Grad (shortcuts on), and repeats the .Backward() after each kind of ZeroGrad.
/// </summary>
public class GradCheckTests
{
    /// <summary>
    /// y = 2x, trusted like a library op (so the engine hands it gradients it owns), whose backward
    /// forgets the factor 2 only on that shortcut path: a bug Gradients.Grad alone never sees.
    /// </summary>
    private sealed class WrongWhenOwned : Node
    {
        public WrongWhenOwned(Tensor x) : base(x) { }

        internal override bool MayRetainGradients => false;

        public static Tensor Apply(Tensor x)
        {
            Tensor y;
            using (GradMode.Disable()) y = x * 2.0;
            y.SetGradFn(new WrongWhenOwned(x));
            return y;
        }

        protected internal override Tensor?[] Backward(Tensor dy) => [OwnsOutputGradient ? dy : dy * 2.0];
    }

    [Fact]
    public void ABugOnlyOnTheBackwardPath_IsCaught()
    {
        Tensor x = T.Param(1, 3, 4);
        // The capture path alone is right.
        T.Close(Array.ConvertAll(new double[12], _ => 2.0), global::Backprop.Autograd.Gradients.Grad(WrongWhenOwned.Apply(x).Sum(), x), 0);
        var e = Assert.Throws<GradCheckException>(() => GradCheck.Verify(xs => WrongWhenOwned.Apply(xs[0]), [x]));
        Assert.Contains(".Backward(): input 0", e.Message);
        Assert.DoesNotContain("\nGradients.Grad: input", e.Message);
        Assert.Contains(".Backward() vs Gradients.Grad: input 0", e.Message);
        Assert.True(GradCheck.MaxError(xs => WrongWhenOwned.Apply(xs[0]), [x]) > 0.1);
    }

    /// <summary>y = 3x whose backward goes wrong from its third call on, like a stale reused buffer.</summary>
    private sealed class WrongWhenRepeated : CustomFunction
    {
        public int Calls;
        protected override Tensor Forward(FunctionContext ctx, Tensor[] x) => x[0] * 3.0;
        protected override Tensor?[] Backward(FunctionContext ctx, Tensor dy) => [dy * (++Calls <= 2 ? 3.0 : 4.0)];
    }

    [Fact]
    public void ARepeatedBackwardThatDiffers_IsCaught()
    {
        var f = new WrongWhenRepeated();
        // Call 1 is Gradients.Grad, call 2 the first .Backward(), call 3 the one after ZeroGrad.
        var e = Assert.Throws<GradCheckException>(() => GradCheck.Verify(xs => f.Apply(xs[0]), [T.Param(2, 5)]));
        Assert.Contains("a second .Backward() after ZeroGrad(setToNone: true)", e.Message);
        Assert.DoesNotContain("numeric", e.Message);
        Assert.Equal(4, f.Calls);
    }

    [Fact]
    public void Verify_LeavesEveryGradAsItWas()
    {
        var layer = new Linear(3, 2, dtype: DType.Float64);
        Tensor x = T.Param(3, 4, 3);
        Tensor before = T.F64([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3);
        layer.Weight.Grad = before;
        GradCheck.Verify(xs => layer.Forward(xs[0]).Tanh(), [x]);
        Assert.Null(x.Grad);
        Assert.Same(before, layer.Weight.Grad);
        T.Close([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], before, 0);
        Assert.Null(layer.Bias!.Grad);
    }

    [Fact]
    public void Verify_RunsTheBackwardPathOnCopiesOfTheInputs()
    {
        var seen = new List<Tensor>();
        Tensor x = T.Param(4, 2, 2);
        GradCheck.Verify(xs => { seen.Add(xs[0]); return xs[0] * xs[0]; }, [x]);
        Tensor[] copies = seen.Where(t => !ReferenceEquals(t, x)).Distinct().ToArray();
        Assert.Single(copies); // one copy, reused for the three backward runs
        Assert.True(copies[0].RequiresGrad && copies[0].IsLeaf);
        Assert.NotSame(x.Storage, copies[0].Storage);
    }

    [Fact]
    public void PoolSizedTrainingStep_PassesOnBothPaths()
    {
        // Big enough (gradients of 1280 and 1600 elements) for the buffer pool to recycle them
        // between the repeated backward passes; the fused Linear+ReLU owns its output gradient.
        Tensor x = T.Param(1, 32, 40);
        Tensor w1 = T.Uniform(2, -0.3, 0.3, 40, 40), b1 = T.Param(3, 40), w2 = T.Uniform(4, -0.3, 0.3, 10, 40);
        Tensor target = Tensor.FromArray(Enumerable.Range(0, 32).Select(i => (long)(i * 7 % 10)).ToArray());
        GradCheck.Verify(v => Functional.CrossEntropy(Functional.Linear(Functional.LinearRelu(v[0], v[1], v[2]), v[3]), target), [x, w1, b1, w2]);
    }
}
