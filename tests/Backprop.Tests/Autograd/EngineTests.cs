using Backprop.Autograd;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Autograd;

public class EngineTests
{
    [Fact]
    public void Backward_ProductRule_GivesHandValues()
    {
        Tensor a = T.F64([2.0, 3.0]).RequireGrad();
        Tensor b = T.F64([5.0, -1.0]).RequireGrad();
        ((a * b).Sum() + a.Sum()).Backward();
        T.Close([6.0, 0.0], a.Grad!);   // b + 1
        T.Close([2.0, 3.0], b.Grad!);   // a
    }

    [Fact]
    public void Backward_TensorUsedTwice_AccumulatesBothPaths()
    {
        Tensor x = T.F64([3.0]).RequireGrad();
        (x * x * x).Sum().Backward(); // d/dx x^3 = 3x^2 = 27
        T.Close([27.0], x.Grad!);
    }

    [Fact]
    public void Backward_CalledTwiceWithRetainGraph_Accumulates()
    {
        Tensor x = T.F64([1.5]).RequireGrad();
        Tensor y = (x * x).Sum();
        y.Backward(retainGraph: true);
        y.Backward();
        T.Close([6.0], x.Grad!);
    }

    [Fact]
    public void Backward_SecondTimeThroughFreedGraph_SaysRetainGraph()
    {
        Tensor x = T.F64([1.5]).RequireGrad();
        Tensor y = (x * x).Sum();
        y.Backward();
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("retainGraph", e.Message);
    }

    [Fact]
    public void Backward_NonScalarWithoutGradient_SaysHowToFix()
    {
        Tensor x = T.Param(1, 2, 3);
        var e = Assert.Throws<InvalidOperationException>(() => (x * 2).Backward());
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("Sum()", e.Message);
    }

    [Fact]
    public void Backward_WithExplicitGradient_WeightsOutputs()
    {
        Tensor x = T.F64([1.0, 2.0]).RequireGrad();
        (x * 3).Backward(T.F64([10.0, 100.0]));
        T.Close([30.0, 300.0], x.Grad!);
    }

    [Fact]
    public void Backward_WithoutAnyGradInput_Throws()
    {
        Tensor x = T.F64([1.0]);
        Assert.Throws<InvalidOperationException>(() => (x * 2).Sum().Backward());
    }

    [Fact]
    public void GradMode_Disabled_RecordsNoGraph()
    {
        Tensor x = T.Param(1, 3);
        Tensor y;
        using (GradMode.Disable()) y = (x * x).Sum();
        Assert.Null(y.GradFn);
        Assert.False(y.RequiresGrad);
        Assert.True(GradMode.IsEnabled);
    }

    [Fact]
    public void Detach_CutsTheGraph_ButSharesStorage()
    {
        Tensor x = T.Param(1, 3);
        Tensor y = x * 2;
        Tensor d = y.Detach();
        Assert.False(d.RequiresGrad);
        Assert.Same(y.Storage, d.Storage);
    }

    [Fact]
    public void RetainGrad_KeepsIntermediateGradient()
    {
        Tensor x = T.F64([2.0]).RequireGrad();
        Tensor h = x * 3;
        h.RetainGrad();
        (h * h).Sum().Backward(); // d/dh h^2 = 2h = 12
        T.Close([12.0], h.Grad!);
        T.Close([36.0], x.Grad!);
    }

    [Fact]
    public void Hook_CanReplaceGradient_AndBeRemoved()
    {
        Tensor x = T.F64([1.0, 2.0]).RequireGrad();
        Tensor h = x * 1.0;
        IDisposable handle = h.RegisterHook(g => g * 10);
        h.Sum().Backward();
        T.Close([10.0, 10.0], x.Grad!);
        handle.Dispose();
        x.Grad = null;
        (x * 1.0).Sum().Backward();
        T.Close([1.0, 1.0], x.Grad!);
    }

    [Fact]
    public void LeafHook_SeesGradient()
    {
        Tensor x = T.F64([1.0, 2.0]).RequireGrad();
        Tensor? seen = null;
        x.RegisterHook(g => { seen = g; return null; });
        (x * 4).Sum().Backward();
        T.Close([4.0, 4.0], seen!);
    }

    [Fact]
    public void LeafHook_ReturningWrongShape_ThrowsAtOnceNamingBothShapes()
    {
        Tensor x = T.F64([1.0, 2.0, 3.0]).RequireGrad();
        x.RegisterHook(_ => Tensor.Zeros([2], DType.Float64));
        var e = Assert.Throws<InvalidOperationException>(() => (x * 2).Sum().Backward());
        Assert.Contains("hook", e.Message);
        Assert.Contains("[3]", e.Message);
        Assert.Contains("[2]", e.Message);
        Assert.Null(x.Grad); // never stored for the optimizer to find
    }

    [Fact]
    public void LeafHook_ReturningWrongDType_ThrowsNamingBothDTypes()
    {
        Tensor x = T.F64([1.0, 2.0]).RequireGrad();
        x.RegisterHook(g => g.To(DType.Float32));
        var e = Assert.Throws<InvalidOperationException>(() => (x * 2).Sum().Backward());
        Assert.Contains("float64", e.Message);
        Assert.Contains("float32", e.Message);
        Assert.Null(x.Grad);
    }

    [Fact]
    public void NodeHook_ReturningWrongShape_ThrowsBeforeTheNodeRuns()
    {
        Tensor x = T.F64([1.0, 2.0, 3.0, 4.0]).RequireGrad();
        Tensor h = (x * 1.0).Reshape(2, 2);
        h.RegisterHook(_ => Tensor.Ones([4], DType.Float64)); // same element count, wrong shape
        var e = Assert.Throws<InvalidOperationException>(() => h.Sum().Backward());
        Assert.Contains("[2, 2]", e.Message);
        Assert.Contains("[4]", e.Message);
        Assert.Null(x.Grad);
    }

    [Fact]
    public void Hooks_ReturningTheRightShape_StillReplaceTheGradient()
    {
        Tensor x = T.F64([1.0, 2.0]).RequireGrad();
        x.RegisterHook(g => g * 3);
        Tensor h = x * 1.0;
        h.RegisterHook(g => Tensor.Full(g.Shape, 2.0, DType.Float64));
        T.Close([6.0, 6.0], Gradients.Grad([h.Sum()], [x])[0]!); // the functional API runs the same hooks and checks
        h = x * 1.0;
        h.RegisterHook(_ => Tensor.Zeros([3], DType.Float64));
        Assert.Throws<InvalidOperationException>(() => Gradients.Grad([h.Sum()], [x]));
        (x * 5).Sum().Backward();
        T.Close([15.0, 15.0], x.Grad!);
    }

    [Fact]
    public void InPlaceWriteToSavedTensor_IsDetectedAtBackward()
    {
        Tensor w = T.F64([1.0, 2.0]).RequireGrad();
        Tensor a = T.F64([3.0, 4.0]);
        Tensor y = (w * a).Sum();  // Mul saved a for dy/dw
        a.AddInPlace(T.F64([1.0, 1.0]));
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("in-place", e.Message);
        Assert.Contains("version", e.Message);
    }

    [Fact]
    public void InPlaceOnLeafThatRequiresGrad_IsRefusedUnderGradMode()
    {
        Tensor w = T.Param(1, 2);
        Assert.Throws<InvalidOperationException>(() => w.AddInPlace(T.F64([1.0, 1.0])));
        using (GradMode.Disable()) w.AddInPlace(T.F64([1.0, 1.0]));
    }

    [Fact]
    public void FunctionalGrad_DoesNotTouchDotGrad()
    {
        Tensor x = T.F64([3.0]).RequireGrad();
        Tensor g = Gradients.Grad((x * x).Sum(), x);
        T.Close([6.0], g);
        Assert.Null(x.Grad);
    }

    [Fact]
    public void FunctionalGrad_UnusedInput_ThrowsOrReturnsNull()
    {
        Tensor x = T.F64([3.0]).RequireGrad();
        Tensor z = T.F64([1.0]).RequireGrad();
        Assert.Throws<InvalidOperationException>(() => Gradients.Grad([(x * x).Sum()], [x, z]));
        Tensor?[] r = Gradients.Grad([(x * x).Sum()], [x, z], allowUnused: true);
        Assert.Null(r[1]);
    }

    [Fact]
    public void FunctionalGrad_WithRespectToIntermediate()
    {
        Tensor x = T.F64([2.0]).RequireGrad();
        Tensor h = x * x;
        Tensor y = (h * 5).Sum();
        T.Close([5.0], Gradients.Grad(y, h));
    }

    [Fact]
    public void HigherOrder_SecondDerivativeOfCube()
    {
        Tensor x = T.F64([2.0]).RequireGrad();
        Tensor y = (x * x * x).Sum();
        Tensor dx = Gradients.Grad(y, x, createGraph: true); // 3x^2 = 12
        T.Close([12.0], dx);
        Tensor d2 = Gradients.Grad(dx.Sum(), x);              // 6x = 12
        T.Close([12.0], d2);
    }

    [Fact]
    public void HessianVectorProduct_MatchesAnalyticHessian()
    {
        // f(x) = Σ x_i^2 x_j over i != j pairs is awkward; use f = (Σ x)^2 · x0: H computed by hand.
        Tensor x = T.F64([1.0, 2.0, 3.0]).RequireGrad();
        Tensor s = x.Sum();
        Tensor f = s * s;                        // f = s^2, H = 2·11ᵀ
        Tensor g = Gradients.Grad(f, x, createGraph: true);
        Tensor v = T.F64([1.0, -1.0, 2.0]);
        Tensor hv = Gradients.Grad((g * v).Sum(), x);
        T.Close([4.0, 4.0, 4.0], hv);            // 2·Σv = 4 in each entry
    }

    private sealed class RoundSte : CustomFunction
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] x)
        {
            double[] v = x[0].ToDoubleArray();
            for (int i = 0; i < v.Length; i++) v[i] = Math.Round(v[i]);
            return Tensor.FromArray(v, x[0].Shape);
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor dy) => [dy];
    }

    [Fact]
    public void CustomFunction_StraightThroughEstimator()
    {
        Tensor x = T.F64([0.4, 1.6]).RequireGrad();
        Tensor y = new RoundSte().Apply(x);
        T.Close([0.0, 2.0], y);
        (y * T.F64([3.0, 5.0])).Sum().Backward();
        T.Close([3.0, 5.0], x.Grad!);
        Assert.Equal("RoundSteBackward", y.GradFn!.Name);
    }

    private sealed class Square : CustomFunction
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] x)
        {
            ctx.SaveForBackward(x[0]);
            return x[0] * x[0];
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor dy) => [dy * 2 * ctx.SavedTensors[0]];
    }

    [Fact]
    public void CustomFunction_PassesGradCheck()
    {
        Tensor x = T.Param(3, 4);
        GradCheck.Verify(xs => new Square().Apply(xs[0]), [x]);
    }

    [Fact]
    public void GradCheck_CatchesAWrongBackward()
    {
        Tensor x = T.Param(3, 4);
        Assert.Throws<GradCheckException>(() => GradCheck.Verify(xs => new RoundSte().Apply(xs[0]) * xs[0], [x]));
    }
}
