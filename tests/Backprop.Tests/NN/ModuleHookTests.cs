using Backprop.Autograd;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.NN;

/// <summary>
/// Module hooks against PyTorch (torch 2.x, Debian's /usr/bin/python3; the script is in the comment of
/// <see cref="PyTorchScript"/>): Sequential(Linear(3, 4), ReLU, Linear(4, 2)) in float64, parameters
/// SineFill 10.. in registration order, x = SineFill(1, [2, 3]), loss = sum(y²), with a forward hook adding
/// 0.3 to Linear 0's output, a pre-hook doubling Linear 2's input, a backward hook halving the ReLU's
/// gradInput, and recording hooks of each kind on every module.
/// </summary>
public class ModuleHookTests
{
    /// <summary>
    /// m = Sequential(Linear(3,4), ReLU(), Linear(4,2)).double(); params = sine(10 + i); for every module a
    /// pre-hook and a forward hook appending "pre name"/"fwd name"; m[0].register_forward_hook(o + 0.3);
    /// m[0] forward hook recording o; m[2].register_forward_pre_hook((a[0] * 2,)); m[1].register_full_backward_hook((gi[0] * 0.5,));
    /// then for m, m[0], m[1], m[2] a full backward hook appending "bwd name" and recording gi[0], go[0];
    /// y = m(x); (y * y).sum().backward().
    /// </summary>
    private const string PyTorchScript = "see the summary";

    private static readonly double[] Y = [1.26562778475645, 1.38846638638474, 0.7657828239272002, 0.8539878228130936];
    private static readonly double[] Out0 = [-0.8154957589191496, -0.5191774949845862, 0.32831527896893437, 0.9294479734658061, -0.3399473469501714, -0.2442055426125152, 0.09730575780634249, 0.4490339329698686];
    private static readonly double[] GradIn0 = [0.9041546884059404, 1.3359740740705255, 1.5869756361473633, 0.5514930949811706, 0.8154497884200852, 0.9690391784442292];
    private static readonly double[] GradIn1 = [0.0, 0.0, 1.9031648807262902, 1.946391869611259, 0.0, 0.0, 1.164013182448972, 1.1871275493555535];
    private static readonly double[] GradIn2 = [1.0846710031080495, 1.6023534533850765, 1.9031648807262902, 1.946391869611259, 0.6696045028467181, 0.9833550919306123, 1.164013182448972, 1.1871275493555535];
    private static readonly double[] GradOut1 = [2.169342006216099, 3.204706906770153, 3.8063297614525804, 3.892783739222518, 1.3392090056934363, 1.9667101838612246, 2.328026364897944, 2.374255098711107];
    private static readonly double[] GradOut2 = [2.5312555695129, 2.77693277276948, 1.5315656478544004, 1.7079756456261872];
    private static readonly double[] GradW0 = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.2900331719187879, 1.1053071597245665, 0.7709830086919127, 1.3183128453644124, 1.129934431845609, 0.7886246937385466];
    private static readonly double[] GradB0 = [0.0, 0.0, 3.067178063175262, 3.1335194189668125];
    private static readonly double[] GradW2 = [0.0, 0.0, 1.960160068881862, 6.080790611730812, 0.0, 0.0, 2.155810644964443, 6.6959071193473045];
    private static readonly double[] GradB2 = [4.062821217367301, 4.484908418395667];

    private static Sequential Model() => SineFill.Parameters(new Sequential(
        new Linear(3, 4, dtype: DType.Float64), new Relu(), new Linear(4, 2, dtype: DType.Float64)));

    private sealed class Recorder
    {
        public readonly List<string> Events = [];
        public readonly Dictionary<string, Tensor?> Grads = [];
        public Tensor? Out0;
    }

    private static Recorder Hook(Sequential m)
    {
        var r = new Recorder();
        var names = new Dictionary<Module, string> { [m] = "seq", [m[0]] = "0", [m[1]] = "1", [m[2]] = "2" };
        foreach (Module mod in (Module[])[m, m[0], m[1], m[2]])
        {
            mod.RegisterForwardPreHook((self, _) => { r.Events.Add("pre " + names[self]); return null; });
            mod.RegisterForwardHook((self, _, _) => { r.Events.Add("fwd " + names[self]); return null; });
        }
        m[0].RegisterForwardHook((_, _, o) => o + 0.3);
        m[0].RegisterForwardHook((_, _, o) => { r.Out0 = o.Detach().Clone(); return null; });
        m[2].RegisterForwardPreHook((_, x) => x * 2);
        m[1].RegisterFullBackwardHook((_, gi, _) => gi! * 0.5);
        foreach (Module mod in (Module[])[m, m[0], m[1], m[2]])
            mod.RegisterFullBackwardHook((self, gi, go) =>
            {
                r.Events.Add("bwd " + names[self]);
                r.Grads["gi " + names[self]] = gi?.Detach().Clone();
                r.Grads["go " + names[self]] = go?.Detach().Clone();
                return null;
            });
        return r;
    }

    [Fact]
    public void Hooks_MatchPyTorch_OrderValuesAndGradients()
    {
        Sequential m = Model();
        Recorder r = Hook(m);
        Tensor x = SineFill.Tensor(1, 2, 3).RequireGrad();
        Tensor y = m.Call(x);
        (y * y).Sum().Backward();

        Assert.Equal(["pre seq", "pre 0", "fwd 0", "pre 1", "fwd 1", "pre 2", "fwd 2", "fwd seq", "bwd 2", "bwd 1", "bwd 0", "bwd seq"], r.Events);
        T.Close(Y, y, 1e-12);
        T.Close(Out0, r.Out0!, 1e-12);                       // the second forward hook sees the first one's output
        T.Close(GradIn0, r.Grads["gi 0"]!, 1e-12);
        T.Close(GradIn1, r.Grads["gi 1"]!, 1e-12);           // the recording hook sees the halved gradInput
        T.Close(GradIn2, r.Grads["gi 2"]!, 1e-12);
        T.Close(GradIn0, r.Grads["gi seq"]!, 1e-12);
        T.Close(GradIn1, r.Grads["go 0"]!, 1e-12);
        T.Close(GradOut1, r.Grads["go 1"]!, 1e-12);          // twice gradInput of Linear 2: its pre-hook doubled the input
        T.Close(GradOut2, r.Grads["go 2"]!, 1e-12);
        T.Close(GradOut2, r.Grads["go seq"]!, 1e-12);
        T.Close(GradIn0, x.Grad!, 1e-12);
        T.Close(GradW0, ((Linear)m[0]).Weight.Grad!, 1e-12);
        T.Close(GradB0, ((Linear)m[0]).Bias!.Grad!, 1e-12);
        T.Close(GradW2, ((Linear)m[2]).Weight.Grad!, 1e-12);
        T.Close(GradB2, ((Linear)m[2]).Bias!.Grad!, 1e-12);
    }

    [Fact]
    public void BackwardHook_InputWithoutGrad_GetsNullGradInputAsSoonAsGradOutputIsKnown()
    {
        Sequential m = Model();
        Recorder r = Hook(m);
        Tensor y = m.Call(SineFill.Tensor(1, 2, 3));
        (y * y).Sum().Backward();

        // As PyTorch: the Sequential and Linear 0 see gradInput None; the Sequential's hook runs first.
        Assert.Equal(["bwd seq", "bwd 2", "bwd 1", "bwd 0"], r.Events.Where(e => e.StartsWith("bwd", StringComparison.Ordinal)));
        Assert.Null(r.Grads["gi seq"]);
        Assert.Null(r.Grads["gi 0"]);
        T.Close(GradOut2, r.Grads["go seq"]!, 1e-12);
        T.Close(GradIn1, r.Grads["go 0"]!, 1e-12);
        T.Close(GradIn2, r.Grads["gi 2"]!, 1e-12);
        T.Close(GradW0, ((Linear)m[0]).Weight.Grad!, 1e-12);
    }

    [Fact]
    public void BackwardHook_ReturningAGradientForAnInputWithoutGrad_Throws()
    {
        var layer = new Linear(3, 2, dtype: DType.Float64);
        layer.RegisterFullBackwardHook((_, _, go) => go);
        var e = Assert.Throws<InvalidOperationException>(() => layer.Call(SineFill.Tensor(1, 2, 3)).Sum().Backward());
        Assert.Contains("Linear", e.Message);
        Assert.Contains("must return null", e.Message);
    }

    [Fact]
    public void BackwardHook_ReplacementOfTheWrongShape_IsRefusedNamingBothShapes()
    {
        var layer = new Linear(3, 2, dtype: DType.Float64);
        layer.RegisterFullBackwardHook((_, gi, _) => gi!.Sum());
        Tensor x = SineFill.Tensor(1, 2, 3).RequireGrad();
        var e = Assert.Throws<InvalidOperationException>(() => layer.Call(x).Sum().Backward());
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("Linear", e.Message);
    }

    [Fact]
    public void DisposedHandles_RemoveTheirHooks_AndCallEqualsForward()
    {
        Sequential m = Model();
        var fired = new List<string>();
        IDisposable a = m[0].RegisterForwardHook((_, _, o) => { fired.Add("a"); return o + 1; });
        IDisposable b = m[0].RegisterForwardHook((_, _, _) => { fired.Add("b"); return null; });
        IDisposable c = m[2].RegisterForwardPreHook((_, x) => { fired.Add("c"); return x * 0; });
        IDisposable d = m[1].RegisterFullBackwardHook((_, gi, _) => { fired.Add("d"); return gi! * 0; });
        Tensor x = SineFill.Tensor(1, 2, 3);
        m.Call(x).Sum().Backward();
        Assert.Equal(["a", "b", "c", "d"], fired);

        foreach (IDisposable h in (IDisposable[])[a, b, c, d]) h.Dispose();
        a.Dispose(); // twice is harmless
        Assert.False(m[0].HasHooks || m[1].HasHooks || m[2].HasHooks);
        fired.Clear();
        m.ZeroGrad();
        Tensor viaCall = m.Call(x);
        viaCall.Sum().Backward();
        double[] gradCall = ((Linear)m[0]).Weight.Grad!.ToDoubleArray();
        m.ZeroGrad();
        Tensor viaForward = m.Forward(x);
        viaForward.Sum().Backward();
        Assert.Empty(fired);
        Assert.Equal(viaForward.ToDoubleArray(), viaCall.ToDoubleArray());
        Assert.Equal(((Linear)m[0]).Weight.Grad!.ToDoubleArray(), gradCall);
    }

    [Fact]
    public void OneDelegateRegisteredTwice_RunsTwice_AndEachHandleRemovesOne()
    {
        var layer = new Linear(2, 2, dtype: DType.Float64);
        int calls = 0;
        Func<Module, Tensor, Tensor?> hook = (_, _) => { calls++; return null; };
        IDisposable first = layer.RegisterForwardPreHook(hook);
        IDisposable second = layer.RegisterForwardPreHook(hook);
        layer.Call(SineFill.Tensor(1, 1, 2));
        Assert.Equal(2, calls);
        first.Dispose();
        layer.Call(SineFill.Tensor(1, 1, 2));
        Assert.Equal(3, calls);
        second.Dispose();
        layer.Call(SineFill.Tensor(1, 1, 2));
        Assert.Equal(3, calls);
    }

    [Fact]
    public void Forward_BypassesHooks()
    {
        var layer = new Linear(2, 2, dtype: DType.Float64);
        layer.RegisterForwardHook((_, _, o) => o * 0);
        Tensor x = SineFill.Tensor(1, 1, 2);
        Assert.NotEqual(0, Math.Abs(layer.Forward(x).ToDoubleArray()[0]));
        Assert.Equal([0.0, 0.0], layer.Call(x).ToDoubleArray());
    }

    [Fact]
    public void Hooks_FireInsideLibraryContainers_TransformerBlockAndAttention()
    {
        var block = new TransformerBlock(8, 2, 16, generator: new Generator(3));
        var seen = new List<string>();
        foreach (var (name, mod) in (KeyValuePair<string, Module>[])[new("ln1", block.Ln1), new("attn", block.Attn), new("out_proj", block.Attn.OutProj),
                                                                    new("ln2", block.Ln2), new("fc1", block.Fc1), new("fc2", block.Fc2)])
        {
            string n = name;
            mod.RegisterForwardHook((_, i, o) => { seen.Add($"{n} {i.Shape}->{o.Shape}"); return null; });
            mod.RegisterFullBackwardHook((_, gi, go) => { seen.Add($"bwd {n} {gi?.Shape}"); return null; });
        }
        Tensor x = Tensor.Randn([2, 5, 8], generator: new Generator(4)).RequireGrad();
        block.Call(x).Sum().Backward();
        Assert.Equal(
        [
            "ln1 [2, 5, 8]->[2, 5, 8]", "out_proj [2, 5, 8]->[2, 5, 8]", "attn [2, 5, 8]->[2, 5, 8]", "ln2 [2, 5, 8]->[2, 5, 8]",
            "fc1 [2, 5, 8]->[2, 5, 16]", "fc2 [2, 5, 16]->[2, 5, 8]",
            "bwd fc2 [2, 5, 16]", "bwd fc1 [2, 5, 8]", "bwd ln2 [2, 5, 8]", "bwd out_proj [2, 5, 8]", "bwd attn [2, 5, 8]", "bwd ln1 [2, 5, 8]",
        ], seen);
    }

    [Fact]
    public void BackwardHook_ThroughAFullBackwardHook_KeepsGradientsExact()
    {
        // The identity nodes change nothing: the gradients with a hook that returns null equal those without.
        Sequential m = Model();
        Tensor x = SineFill.Tensor(1, 2, 3).RequireGrad();
        m.Call(x).Pow(2).Sum().Backward();
        double[] plain = x.Grad!.ToDoubleArray();
        x.Grad = null;
        m.ZeroGrad();
        foreach (Module mod in m.Modules()) mod.RegisterFullBackwardHook((_, _, _) => null);
        m.Call(x).Pow(2).Sum().Backward();
        Assert.Equal(plain, x.Grad!.ToDoubleArray());
        Assert.Equal("BackwardHookFunctionBackward", m.Call(x).GradFn!.Name);
    }
}
