using System.Runtime.CompilerServices;
using Backprop.Autograd;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Autograd;

/// <summary>
/// AnomalyMode: the first NaN or infinity in a recorded op's output (forward) or in a node's returned
/// gradients (backward) raises AnomalyException naming the op, shapes, dtypes and creation site; off, the
/// same code runs and the NaN/inf flows through silently.
/// </summary>
public class AnomalyModeTests
{
    private static int Line([CallerLineNumber] int line = 0) => line;

    [Fact]
    public void Forward_LogOfZero_NamesTheOpShapesAndTheTestMethod()
    {
        Tensor x = T.F64([1.0, 0.0, 2.0, 3.0], 2, 2).RequireGrad();
        AnomalyException e;
        int line;
        using (AnomalyMode.Enable())
        {
            line = Line(); e = Assert.Throws<AnomalyException>(() => x.Log());
        }
        Assert.False(e.InBackward);
        Assert.Equal("Log", e.Op);
        Assert.Equal("LogBackward", e.NodeName);
        Assert.StartsWith("Anomaly in forward: Log produced -inf (1 of 4 elements) from finite inputs. ", e.Message);
        Assert.Contains("with inputs [2, 2] float64, output [2, 2] float64", e.Message);
        string site = $"AnomalyModeTests.{nameof(Forward_LogOfZero_NamesTheOpShapesAndTheTestMethod)}() (lambda) in AnomalyModeTests.cs:line {line}";
        Assert.Equal(site, e.CreatedAt);
        Assert.Contains($"created at {site}", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("The op was created at:", e.ToString());
        Assert.Contains(Path.Combine("Autograd", "AnomalyModeTests.cs"), e.CreationTrace);
    }

    [Fact]
    public void Forward_NaNFromFiniteInputs_IsReported()
    {
        Tensor x = T.F64([4.0, -1.0]).RequireGrad();
        using (AnomalyMode.Enable())
        {
            var e = Assert.Throws<AnomalyException>(() => x.Sqrt());
            Assert.StartsWith("Anomaly in forward: Sqrt produced NaN (1 of 2 elements) from finite inputs.", e.Message);
            Tensor zero = T.F64([0.0, 1.0]).RequireGrad();
            e = Assert.Throws<AnomalyException>(() => zero / zero); // 0/0
            Assert.StartsWith("Anomaly in forward: Div produced NaN (1 of 2 elements) from finite inputs.", e.Message);
            Assert.Contains("with inputs [2] float64, [2] float64", e.Message);
        }
    }

    [Fact]
    public void Backward_SqrtAtZero_IsFiniteInForwardButInfiniteInBackward()
    {
        Tensor x = T.F64([0.0, 1.0, 4.0]).RequireGrad();
        using (AnomalyMode.Enable())
        {
            int line = Line(); Tensor y = x.Sqrt();
            Tensor loss = y.Sum();
            var e = Assert.Throws<AnomalyException>(() => loss.Backward());
            Assert.True(e.InBackward);
            Assert.Equal("SqrtBackward", e.NodeName);
            Assert.StartsWith("Anomaly in backward: SqrtBackward returned +inf (1 of 3 elements) in the gradient of input 0 ([3] float64) from a finite output gradient. " +
                              "Op Sqrt with inputs [3] float64; created at AnomalyModeTests.", e.Message);
            Assert.Equal($"AnomalyModeTests.{nameof(Backward_SqrtAtZero_IsFiniteInForwardButInfiniteInBackward)}() in AnomalyModeTests.cs:line {line}", e.CreatedAt);
        }
    }

    [Fact]
    public void Backward_ZeroTimesInfinity_GivesNaNOnlyInBackward()
    {
        // The classic: where() keeps sqrt only where x > 0, so the forward is finite everywhere, but the
        // masked position still sends 0 into SqrtBackward, which computes 0 · 1/(2·sqrt(0)) = NaN.
        Tensor x = T.F64([0.0, 4.0]).RequireGrad();
        using (AnomalyMode.Enable())
        {
            Tensor y = Tensor.Where(x.Gt(0), x.Sqrt(), Tensor.Scalar(0.0, DType.Float64));
            Tensor loss = y.Sum();
            var e = Assert.Throws<AnomalyException>(() => loss.Backward());
            Assert.StartsWith("Anomaly in backward: SqrtBackward returned NaN (1 of 2 elements) in the gradient of input 0 ([2] float64) from a finite output gradient.", e.Message);
            Assert.Equal("Sqrt", e.Op);
            Assert.Contains(nameof(Backward_ZeroTimesInfinity_GivesNaNOnlyInBackward), e.CreatedAt);
        }
    }

    [Fact]
    public void ModeOff_TheSameCodeRuns_AndTheNaNAndInfinityFlowThrough()
    {
        Assert.False(AnomalyMode.IsEnabled);
        Tensor x = T.F64([1.0, 0.0, 2.0, 3.0], 2, 2).RequireGrad();
        Assert.Equal(double.NegativeInfinity, x.Log().ToDoubleArray()[1]);
        Assert.Null(x.Log().GradFn!.Anomaly); // nothing recorded, no stack trace taken

        Tensor s = T.F64([0.0, 1.0, 4.0]).RequireGrad();
        s.Sqrt().Sum().Backward();
        Assert.Equal(double.PositiveInfinity, s.Grad!.ToDoubleArray()[0]);

        Tensor w = T.F64([0.0, 4.0]).RequireGrad();
        Tensor.Where(w.Gt(0), w.Sqrt(), Tensor.Scalar(0.0, DType.Float64)).Sum().Backward();
        Assert.True(double.IsNaN(w.Grad!.ToDoubleArray()[0]));
    }

    [Fact]
    public void Scopes_Nest_AndDisposalRestoresThePreviousState()
    {
        Assert.False(AnomalyMode.IsEnabled);
        IDisposable outer = AnomalyMode.Enable();
        Assert.True(AnomalyMode.IsEnabled);
        using (AnomalyMode.Enable())
            Assert.True(AnomalyMode.IsEnabled);
        Assert.True(AnomalyMode.IsEnabled); // the outer scope is still open
        Tensor x = T.F64([0.0]).RequireGrad();
        Assert.Throws<AnomalyException>(() => x.Log());
        outer.Dispose();
        Assert.False(AnomalyMode.IsEnabled);
        outer.Dispose(); // a second dispose changes nothing
        Assert.False(AnomalyMode.IsEnabled);
        Assert.Equal(double.NegativeInfinity, x.Log().Item());
    }

    [Fact]
    public async Task TheMode_FollowsTheFlowOfControl_NotOtherThreads()
    {
        using (AnomalyMode.Enable())
        {
            Assert.True(await Task.Run(() => AnomalyMode.IsEnabled)); // work started inside the scope inherits it
            Task<bool> unrelated;
            using (ExecutionContext.SuppressFlow())
                unrelated = Task.Run(() => AnomalyMode.IsEnabled);
            Assert.False(await unrelated);
            Assert.True(AnomalyMode.IsEnabled);
        }
        Assert.False(AnomalyMode.IsEnabled);
    }

    [Fact]
    public void AnInfinityAlreadyInAnInput_IsNotTheOpsFault_ButANaNIsAlwaysReported()
    {
        // A causal mask of −∞ added to scores: the add passes the −∞ along, softmax turns it into 0.
        Tensor scores = T.F64([1.0, 2.0, 3.0, 4.0], 2, 2).RequireGrad();
        Tensor mask = Tensor.Full(new Shape(2, 2), double.NegativeInfinity, DType.Float64).Triu(1);
        using (AnomalyMode.Enable())
        {
            Tensor p = (scores + mask).Softmax(-1);
            p.Select(1, 0).Sum().Backward();
            Assert.True(scores.Grad!.ToDoubleArray().All(double.IsFinite));

            // NaN in the data: the first recorded op that touches it is reported, saying where the NaN came from.
            Tensor w = T.F64([1.0, 2.0]).RequireGrad();
            Tensor data = T.F64([double.NaN, 1.0]);
            var e = Assert.Throws<AnomalyException>(() => w * data);
            Assert.StartsWith("Anomaly in forward: Mul produced NaN (1 of 2 elements); input 1 held NaN already (from data, a parameter, or an op recorded while anomaly mode was off).", e.Message);
        }
    }

    [Fact]
    public void GraphRecordedWithTheModeOff_StillReportsInBackward_WithoutASite()
    {
        Tensor x = T.F64([0.0, 1.0]).RequireGrad();
        Tensor loss = x.Sqrt().Sum();
        using (AnomalyMode.Enable())
        {
            var e = Assert.Throws<AnomalyException>(() => loss.Backward());
            Assert.Null(e.CreatedAt);
            Assert.Null(e.CreationTrace);
            Assert.Contains("SqrtBackward returned +inf", e.Message);
            Assert.Contains("recorded while anomaly mode was off", e.Message);
        }
    }

    [Fact]
    public void BadGradientFlowingIn_IsSaidToComeFromOutside()
    {
        Tensor x = T.F64([1.0, 2.0]).RequireGrad();
        using (AnomalyMode.Enable())
        {
            Tensor y = x * 3;
            var e = Assert.Throws<AnomalyException>(() => y.Backward(T.F64([double.NaN, 1.0])));
            Assert.Contains("returned NaN (1 of 2 elements) in the gradient of input 0 ([2] float64), but the gradient flowing into it already held NaN (1 of 2 elements)", e.Message);
        }
    }

    private sealed class NaNGradient : CustomFunction
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs) => inputs[0] * 2;
        protected override Tensor?[] Backward(FunctionContext ctx, Tensor dy) => [dy * double.NaN];
    }

    private sealed class ThrowingBackward : CustomFunction
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs) => inputs[0] * 2;
        protected override Tensor?[] Backward(FunctionContext ctx, Tensor dy) => throw new InvalidOperationException("the backward failed");
    }

    [Fact]
    public void AnErrorThrownInABackward_IsWrappedWithTheOpAndItsCreationSite_OnlyWhileOn()
    {
        Tensor x = T.F64([1.0, 2.0]).RequireGrad();
        using (AnomalyMode.Enable())
        {
            Tensor loss = new ThrowingBackward().Apply(x).Sum(); int line = Line();
            var e = Assert.Throws<AnomalyException>(() => loss.Backward());
            Assert.True(e.InBackward);
            Assert.Equal("ThrowingBackwardBackward", e.NodeName);
            Assert.IsType<InvalidOperationException>(e.InnerException);
            Assert.Contains("the backward failed", e.Message);
            Assert.Contains("[2] float64", e.Message);
            Assert.Contains(nameof(AnErrorThrownInABackward_IsWrappedWithTheOpAndItsCreationSite_OnlyWhileOn), e.CreatedAt);
            Assert.Contains($"line {line}", e.CreatedAt);
        }
        Tensor plain = new ThrowingBackward().Apply(x).Sum();
        Assert.Throws<InvalidOperationException>(() => plain.Backward()); // off: the error is left as it is
    }

    [Fact]
    public void CustomFunction_IsNamedByItsClass()
    {
        Tensor x = T.F64([1.0, 2.0, 3.0]).RequireGrad();
        using (AnomalyMode.Enable())
        {
            Tensor loss = new NaNGradient().Apply(x).Sum();
            var e = Assert.Throws<AnomalyException>(() => loss.Backward());
            Assert.Equal("NaNGradientBackward", e.NodeName);
            Assert.Equal("NaNGradient", e.Op);
            Assert.Contains("NaN (3 of 3 elements)", e.Message);
            Assert.Contains(nameof(CustomFunction_IsNamedByItsClass), e.CreatedAt);
        }
    }

    [Fact]
    public void Float32_NonContiguousOutputs_AreScannedToo()
    {
        Tensor x = Tensor.FromArray(new float[,] { { 1, float.NaN }, { 0, 4 } }).RequireGrad();
        using (AnomalyMode.Enable())
        {
            var e = Assert.Throws<AnomalyException>(() => x.T()); // a strided view of a parameter holding NaN
            Assert.Contains(" produced NaN (1 of 4 elements); input 0 held NaN already", e.Message);
            Assert.Contains("with inputs [2, 2] float32, output [2, 2] float32", e.Message);
        }
    }
}
