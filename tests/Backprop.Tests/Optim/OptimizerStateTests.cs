using Backprop.Autograd;
using Backprop.NN;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Optim;

/// <summary>
/// Optimizer.LoadStateDict checks the whole state before it changes anything: every corrupted entry is
/// refused with an ArgumentException naming it, and the optimizer keeps its previous state exactly.
/// </summary>
public class OptimizerStateTests
{
    private static readonly double[][] Grads = [[0.5, -0.25, 2.0, 1.0, -1.5, 0.75], [0.1, 0.2, -0.3, 0.4, 0.5, -0.6]];

    /// <summary>Two float64 parameters, [2, 3] and [3], with fixed values.</summary>
    private static Parameter[] Params() =>
        [new(T.F64([1, 2, 3, 4, 5, 6], 2, 3)), new(T.F64([-1, 0.5, 2], 3))];

    private static Optimizer Make(string kind, Parameter[] ps) => kind switch
    {
        "adam" => new Adam(ps, new AdamOptions(LearningRate: 0.01)),
        "adam-amsgrad" => new Adam(ps, new AdamOptions(LearningRate: 0.01, Amsgrad: true)),
        "adamw" => new AdamW(ps, new AdamOptions(LearningRate: 0.01, WeightDecay: 0.1)),
        "sgd" => new Sgd(ps, new SgdOptions(LearningRate: 0.1)),
        "sgd-momentum" => new Sgd(ps, new SgdOptions(LearningRate: 0.1, Momentum: 0.9)),
        "rmsprop" => new RmsProp(ps, new RmsPropOptions(LearningRate: 0.01)),
        "rmsprop-centered-momentum" => new RmsProp(ps, new RmsPropOptions(LearningRate: 0.01, Centered: true, Momentum: 0.5)),
        "adagrad" => new Adagrad(ps, new AdagradOptions(LearningRate: 0.1, InitialAccumulatorValue: 0.1)),
        _ => throw new ArgumentException(kind),
    };

    /// <summary>Applies <paramref name="steps"/> updates with gradients scaled by <paramref name="scale"/>.</summary>
    private static void Train(Optimizer o, Parameter[] ps, int steps, double scale = 1)
    {
        for (int s = 0; s < steps; s++)
        {
            ps[0].Grad = T.F64([.. Grads[s % 2].Select(g => g * scale)], 2, 3);
            ps[1].Grad = T.F64([.. Grads[(s + 1) % 2].Take(3).Select(g => g * scale)], 3);
            o.Step();
        }
    }

    /// <summary>A trained optimizer's state dict, for the kind of optimizer given.</summary>
    private static List<KeyValuePair<string, Tensor>> TrainedState(string kind)
    {
        Parameter[] ps = Params();
        Optimizer o = Make(kind, ps);
        Train(o, ps, 3);
        return o.StateDict();
    }

    /// <summary>An optimizer trained differently from <see cref="TrainedState"/>, so a partial load would show.</summary>
    private static Optimizer Target(string kind)
    {
        Parameter[] ps = Params();
        Optimizer o = Make(kind, ps);
        Train(o, ps, 2, scale: -3);
        o.ParamGroups[0].LearningRate = 0.123;
        return o;
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("adam-amsgrad")]
    [InlineData("adamw")]
    [InlineData("sgd")]
    [InlineData("sgd-momentum")]
    [InlineData("rmsprop")]
    [InlineData("rmsprop-centered-momentum")]
    [InlineData("adagrad")]
    public void StateDict_RoundTrip_ContinuesBitIdentically(string kind)
    {
        Parameter[] straight = Params();
        Optimizer o1 = Make(kind, straight);
        Train(o1, straight, 2);

        // The resumed optimizer has state of its own first: the load replaces all of it.
        Parameter[] resumed = Params();
        Optimizer o2 = Make(kind, resumed);
        Train(o2, resumed, 1, scale: -3);
        using (GradMode.Disable())
            for (int i = 0; i < resumed.Length; i++) resumed[i].Data.CopyFrom(straight[i].Data);
        o2.LoadStateDict(o1.StateDict());
        Assert.Equal(StateSnapshot.Of(o1.StateDict()), StateSnapshot.Of(o2.StateDict()));

        Train(o1, straight, 2);
        Train(o2, resumed, 2);
        for (int i = 0; i < straight.Length; i++)
            Assert.Equal(straight[i].Data.ToDoubleArray(), resumed[i].Data.ToDoubleArray());
    }

    private static Tensor F64Scalar(double v) => Tensor.Scalar(v, DType.Float64);

    private static void Set(List<KeyValuePair<string, Tensor>> state, string name, Tensor t)
    {
        int i = state.FindIndex(kv => kv.Key == name);
        if (i < 0) state.Add(new(name, t));
        else state[i] = new(name, t);
    }

    private static void Remove(List<KeyValuePair<string, Tensor>> state, string name)
        => Assert.Equal(1, state.RemoveAll(kv => kv.Key == name));

    /// <summary>Each case: optimizer kind, the corruption, and the entry the message must name.</summary>
    private static readonly Dictionary<string, (string Kind, Action<List<KeyValuePair<string, Tensor>>> Corrupt, string Names)> Cases = new()
    {
        ["missing exp_avg_sq"] = ("adam", s => Remove(s, "state.0.exp_avg_sq"), "state.0.exp_avg_sq"),
        ["missing step"] = ("adam", s => Remove(s, "state.1.step"), "state.1.step"),
        ["missing lr"] = ("adam", s => Remove(s, "param_groups.0.lr"), "param_groups.0.lr"),
        ["missing initial_lr"] = ("adam", s => Remove(s, "param_groups.0.initial_lr"), "param_groups.0.initial_lr"),
        ["missing weight_decay"] = ("adamw", s => Remove(s, "param_groups.0.weight_decay"), "param_groups.0.weight_decay"),
        ["missing max_exp_avg_sq with amsgrad"] = ("adam-amsgrad", s => Remove(s, "state.1.max_exp_avg_sq"), "state.1.max_exp_avg_sq"),
        ["max_exp_avg_sq without amsgrad"] = ("adam", s => Set(s, "state.0.max_exp_avg_sq", Tensor.Zeros([2, 3], DType.Float64)), "state.0.max_exp_avg_sq"),
        ["unknown state key"] = ("adam", s => Set(s, "state.0.foo", Tensor.Zeros([2, 3], DType.Float64)), "state.0.foo"),
        ["unknown group key"] = ("adam", s => Set(s, "param_groups.0.momentum", F64Scalar(0.9)), "param_groups.0.momentum"),
        ["unknown entry"] = ("adam", s => Set(s, "bogus", F64Scalar(1)), "bogus"),
        ["parameter out of range"] = ("adam", s => Set(s, "state.2.step", F64Scalar(1)), "state.2.step"),
        ["group out of range"] = ("adam", s => Set(s, "param_groups.1.lr", F64Scalar(0.1)), "param_groups.1.lr"),
        ["non-canonical index"] = ("adam", s => Set(s, "state.01.step", F64Scalar(1)), "state.01.step"),
        ["signed index"] = ("adam", s => Set(s, "state.+1.step", F64Scalar(1)), "state.+1.step"),
        ["duplicate entry"] = ("adam", s => s.Add(new("state.0.step", F64Scalar(3))), "state.0.step"),
        ["fractional step"] = ("adam", s => Set(s, "state.0.step", F64Scalar(1.5)), "state.0.step"),
        ["negative step"] = ("adam", s => Set(s, "state.0.step", F64Scalar(-1)), "state.0.step"),
        ["NaN step"] = ("adam", s => Set(s, "state.0.step", F64Scalar(double.NaN)), "state.0.step"),
        ["infinite step"] = ("rmsprop", s => Set(s, "state.1.step", F64Scalar(double.PositiveInfinity)), "state.1.step"),
        ["step beyond 2^53"] = ("adagrad", s => Set(s, "state.0.step", F64Scalar(1e300)), "state.0.step"),
        ["non-scalar step"] = ("adam", s => Set(s, "state.0.step", T.F64([3], 1)), "state.0.step"),
        ["float32 step"] = ("adam", s => Set(s, "state.0.step", Tensor.Scalar(3)), "state.0.step"),
        ["non-scalar lr"] = ("adam", s => Set(s, "param_groups.0.lr", T.F64([0.01, 0.01], 2)), "param_groups.0.lr"),
        ["NaN lr"] = ("adam", s => Set(s, "param_groups.0.lr", F64Scalar(double.NaN)), "param_groups.0.lr"),
        ["negative lr"] = ("sgd", s => Set(s, "param_groups.0.lr", F64Scalar(-0.1)), "param_groups.0.lr"),
        ["infinite lr"] = ("sgd-momentum", s => Set(s, "param_groups.0.lr", F64Scalar(double.PositiveInfinity)), "param_groups.0.lr"),
        ["int64 weight_decay"] = ("adamw", s => Set(s, "param_groups.0.weight_decay", Tensor.FromArray(new long[] { 0 }, Shape.Scalar)), "param_groups.0.weight_decay"),
        ["NaN initial_lr"] = ("adam", s => Set(s, "param_groups.0.initial_lr", F64Scalar(double.NaN)), "param_groups.0.initial_lr"),
        ["exp_avg of the wrong shape"] = ("adam", s => Set(s, "state.0.exp_avg", Tensor.Zeros([3, 2], DType.Float64)), "state.0.exp_avg"),
        ["exp_avg of the wrong dtype"] = ("adam", s => Set(s, "state.1.exp_avg", Tensor.Zeros([3], DType.Float32)), "state.1.exp_avg"),
        ["NaN in exp_avg"] = ("adam", s => Set(s, "state.1.exp_avg", T.F64([0, double.NaN, 0], 3)), "state.1.exp_avg"),
        ["negative exp_avg_sq"] = ("adam", s => Set(s, "state.1.exp_avg_sq", T.F64([0, -1e-3, 0], 3)), "state.1.exp_avg_sq"),
        ["momentum_buffer without momentum"] = ("sgd", s => Set(s, "state.0.momentum_buffer", Tensor.Zeros([2, 3], DType.Float64)), "state.0.momentum_buffer"),
        ["momentum_buffer of the wrong shape"] = ("sgd-momentum", s => Set(s, "state.1.momentum_buffer", Tensor.Zeros([2, 3], DType.Float64)), "state.1.momentum_buffer"),
        ["infinite momentum_buffer"] = ("sgd-momentum", s => Set(s, "state.1.momentum_buffer", T.F64([0, double.NegativeInfinity, 0], 3)), "state.1.momentum_buffer"),
        ["missing grad_avg when centered"] = ("rmsprop-centered-momentum", s => Remove(s, "state.0.grad_avg"), "state.0.grad_avg"),
        ["grad_avg when not centered"] = ("rmsprop", s => Set(s, "state.0.grad_avg", Tensor.Zeros([2, 3], DType.Float64)), "state.0.grad_avg"),
        ["negative square_avg"] = ("rmsprop", s => Set(s, "state.1.square_avg", T.F64([-1, 0, 0], 3)), "state.1.square_avg"),
        ["missing sum"] = ("adagrad", s => Remove(s, "state.1.sum"), "state.1.sum"),
        ["negative sum"] = ("adagrad", s => Set(s, "state.0.sum", Tensor.Full([2, 3], -0.5, DType.Float64)), "state.0.sum"),
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void LoadStateDict_CorruptedEntry_IsRefusedByName_AndChangesNothing(string name)
    {
        var (kind, corrupt, names) = Cases[name];
        List<KeyValuePair<string, Tensor>> state = TrainedState(kind);
        corrupt(state);
        Optimizer target = Target(kind);
        string before = StateSnapshot.Of(target.StateDict());

        var e = Assert.Throws<ArgumentException>(() => target.LoadStateDict(state));
        Assert.Contains($"'{names}'", e.Message);
        Assert.Equal(before, StateSnapshot.Of(target.StateDict()));
        Assert.Equal(0.123, target.ParamGroups[0].LearningRate);
    }

    [Fact]
    public void LoadStateDict_ListsEveryProblem_UpToALimit()
    {
        List<KeyValuePair<string, Tensor>> state = TrainedState("adam");
        state.RemoveAll(kv => kv.Key.EndsWith(".exp_avg_sq", StringComparison.Ordinal));
        Set(state, "state.0.step", F64Scalar(0.5));
        var e = Assert.Throws<ArgumentException>(() => Target("adam").LoadStateDict(state));
        Assert.Contains("'state.0.step'", e.Message);
        Assert.Contains("'state.0.exp_avg_sq'", e.Message);
        Assert.Contains("'state.1.exp_avg_sq'", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void LoadStateDict_ParameterWithoutState_IsANeverSteppedParameter()
    {
        List<KeyValuePair<string, Tensor>> state = TrainedState("adam");
        state.RemoveAll(kv => kv.Key.StartsWith("state.1.", StringComparison.Ordinal));
        Optimizer target = Target("adam");
        target.LoadStateDict(state);
        Assert.Equal(StateSnapshot.Of(state), StateSnapshot.Of(target.StateDict()));
    }
}
