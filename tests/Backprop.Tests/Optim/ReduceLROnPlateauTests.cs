using Backprop.NN;
using Backprop.Optim;
using Backprop.Optim.Schedulers;
using Backprop.Tensors;
using Backprop.Tests.Optim.Fixtures;

namespace Backprop.Tests.Optim;

/// <summary>ReduceLROnPlateau against torch 1.13 (Fixtures/torch_schedules.py): rates and counters after every step.</summary>
public class ReduceLROnPlateauTests
{
    private static Sgd TwoGroups() => new([new ParamGroup([new Parameter(Tensor.Zeros([1]))], learningRate: 0.1),
                                            new ParamGroup([new Parameter(Tensor.Zeros([1]))], learningRate: 0.05)]);

    /// <summary>Steps through the metrics and checks rates and counters after each step exactly (the rule multiplies once per reduction, as PyTorch).</summary>
    private static void Check(Func<Sgd, ReduceLROnPlateau> make, double[][] metrics, double[][] lrs, double[][] state)
    {
        Sgd opt = TwoGroups();
        ReduceLROnPlateau s = make(opt);
        for (int t = 0; t < metrics[0].Length; t++)
        {
            s.Step(metrics[0][t]);
            for (int g = 0; g < 2; g++) Assert.True(lrs[g][t] == opt.ParamGroups[g].LearningRate, $"step {t}, group {g}: torch {lrs[g][t]:R}, got {opt.ParamGroups[g].LearningRate:R}");
            Assert.Equal(state[0][t], s.Best);
            Assert.Equal(state[1][t], s.NumBadEpochs);
            Assert.Equal(state[2][t], s.CooldownCounter);
            Assert.Equal(t + 1, s.LastEpoch);
        }
    }

    [Fact]
    public void Defaults_MatchTorch()
        => Check(o => new ReduceLROnPlateau(o), TorchScheduleValues.PlateauDefaultMetrics, TorchScheduleValues.PlateauDefault, TorchScheduleValues.PlateauDefaultState);

    [Fact]
    public void MinAbsoluteWithCooldownPerGroupBoundsAndNaN_MatchTorch()
        => Check(o => new ReduceLROnPlateau(o, PlateauMode.Min, factor: 0.5, patience: 1, threshold: 0.1, thresholdMode: ThresholdMode.Abs,
                                            cooldown: 2, minLrs: [0.02, 0.001]),
            TorchScheduleValues.PlateauMinAbsCooldownMetrics, TorchScheduleValues.PlateauMinAbsCooldown, TorchScheduleValues.PlateauMinAbsCooldownState);

    [Fact]
    public void MaxRelativeWithEps_MatchTorch()
        => Check(o => new ReduceLROnPlateau(o, PlateauMode.Max, factor: 0.3, patience: 2, threshold: 0.01, thresholdMode: ThresholdMode.Rel, eps: 0.004),
            TorchScheduleValues.PlateauMaxRelMetrics, TorchScheduleValues.PlateauMaxRel, TorchScheduleValues.PlateauMaxRelState);

    [Fact]
    public void NegativeMetricsRelative_MatchTorch()
        => Check(o => new ReduceLROnPlateau(o, patience: 1),
            TorchScheduleValues.PlateauNegativeRelMetrics, TorchScheduleValues.PlateauNegativeRel, TorchScheduleValues.PlateauNegativeRelState);

    [Fact]
    public void StateDict_RoundTrip_ContinuesIdentically()
    {
        double[] metrics = TorchScheduleValues.PlateauMinAbsCooldownMetrics[0];
        ReduceLROnPlateau Make(Sgd o) => new(o, factor: 0.5, patience: 1, threshold: 0.1, thresholdMode: ThresholdMode.Abs, cooldown: 2);
        Sgd a = TwoGroups();
        ReduceLROnPlateau sa = Make(a);
        for (int t = 0; t < 9; t++) sa.Step(metrics[t]);
        Dictionary<string, string> saved = sa.StateDict("plateau.");
        var metadata = new Dictionary<string, string>(saved) { ["epoch"] = "9" }; // other checkpoint metadata is ignored
        Sgd b = TwoGroups();
        b.LoadStateDict(a.StateDict());
        ReduceLROnPlateau sb = Make(b);
        sb.LoadStateDict(metadata, "plateau.");
        for (int t = 9; t < metrics.Length; t++)
        {
            sa.Step(metrics[t]);
            sb.Step(metrics[t]);
            Assert.Equal(a.ParamGroups[0].LearningRate, b.ParamGroups[0].LearningRate);
            Assert.Equal(sa.Best, sb.Best);
            Assert.Equal(sa.NumBadEpochs, sb.NumBadEpochs);
            Assert.Equal(sa.CooldownCounter, sb.CooldownCounter);
        }
        Assert.Equal("Infinity", new ReduceLROnPlateau(TwoGroups()).StateDict()["best"]);
    }

    [Fact]
    public void LoadStateDict_Refused_ChangesNothing()
    {
        var s = new ReduceLROnPlateau(TwoGroups(), cooldown: 2);
        s.Step(1.0);
        Dictionary<string, string> good = s.StateDict();
        foreach (var (key, value, expected) in new[] { ("best", "NaN", "not a number"), ("num_bad_epochs", "-1", "whole number"),
                                                        ("cooldown_counter", "3", "[0, 2]"), ("last_epoch", "x", "whole number") })
        {
            var bad = new Dictionary<string, string>(good) { [key] = value };
            var e = Assert.Throws<ArgumentException>(() => s.LoadStateDict(bad));
            Assert.Contains(key, e.Message);
            Assert.Contains(expected, e.Message);
            Assert.Equal(1.0, s.Best);
            Assert.Equal(1, s.LastEpoch);
        }
        var missing = new Dictionary<string, string>(good);
        missing.Remove("last_epoch");
        Assert.Contains("missing 'last_epoch'", Assert.Throws<ArgumentException>(() => s.LoadStateDict(missing)).Message);
    }

    [Fact]
    public void BadArguments_AreRefused()
    {
        Sgd o = TwoGroups();
        Assert.Contains("factor", Assert.Throws<ArgumentException>(() => new ReduceLROnPlateau(o, factor: 1.0)).Message);
        Assert.Contains("2 minimum rates", Assert.Throws<ArgumentException>(() => new ReduceLROnPlateau(o, minLrs: [0.1])).Message);
        Assert.Contains("not both", Assert.Throws<ArgumentException>(() => new ReduceLROnPlateau(o, minLr: 0.1, minLrs: [0.1, 0.2])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(o, patience: -1));
        Assert.Throws<ArgumentException>(() => new ReduceLROnPlateau(o, minLr: -1));
    }

    [Fact]
    public void StepWithTensor_UsesItsValue()
    {
        var s = new ReduceLROnPlateau(TwoGroups());
        s.Step(Tensor.Scalar(0.25, DType.Float64));
        Assert.Equal(0.25, s.Best);
        Assert.True(s.IsBetter(0.2, 0.25));
        Assert.False(s.IsBetter(0.2499999, 0.25)); // within the 1e-4 relative threshold
    }
}
