using Backprop.NN;
using Backprop.Optim;
using Backprop.Optim.Schedulers;
using Backprop.Tensors;
using Backprop.Tests.Optim.Fixtures;

namespace Backprop.Tests.Optim;

/// <summary>
/// Learning-rate sequences against torch 1.13 (Fixtures/torch_schedules.py): an SGD with two parameter groups
/// starting at 0.1 and 0.05, the rates after construction and after every step.
/// </summary>
public class TorchScheduleTests
{
    /// <summary>Closed forms against PyTorch's recursion: equal to a few roundings.</summary>
    private const double Tolerance = 1e-13;

    private static Sgd TwoGroups() => new([new ParamGroup([new Parameter(Tensor.Zeros([1]))], learningRate: 0.1),
                                            new ParamGroup([new Parameter(Tensor.Zeros([1]))], learningRate: 0.05)],
                                           new SgdOptions(LearningRate: 0.1));

    /// <summary>Rates per group after construction and after each of <paramref name="steps"/> steps.</summary>
    private static double[][] Run(Func<Sgd, LearningRateScheduler> make, int steps)
    {
        Sgd opt = TwoGroups();
        LearningRateScheduler s = make(opt);
        double[][] lrs = [new double[steps + 1], new double[steps + 1]];
        for (int t = 0; ; t++)
        {
            for (int g = 0; g < 2; g++) lrs[g][t] = opt.ParamGroups[g].LearningRate;
            if (t == steps) return lrs;
            s.Step();
        }
    }

    private static void Same(double[][] expected, double[][] actual, double tol = Tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int g = 0; g < expected.Length; g++)
        {
            Assert.Equal(expected[g].Length, actual[g].Length);
            for (int t = 0; t < expected[g].Length; t++)
                Assert.True(Math.Abs(expected[g][t] - actual[g][t]) <= tol * Math.Abs(expected[g][t]),
                    $"group {g}, step {t}: torch {expected[g][t]:R}, got {actual[g][t]:R}");
        }
    }

    private static int Steps(double[][] expected) => expected[0].Length - 1;

    [Fact]
    public void MultiStepLR_RepeatedMilestoneDecaysTwice()
        => Same(TorchScheduleValues.MultiStep, Run(o => new MultiStepLR(o, [3, 6, 6, 9], gamma: 0.5), Steps(TorchScheduleValues.MultiStep)));

    [Fact]
    public void MultiStepLR_UnsortedMilestones_AreSorted()
        => Same(TorchScheduleValues.MultiStep, Run(o => new MultiStepLR(o, [9, 6, 3, 6], gamma: 0.5), Steps(TorchScheduleValues.MultiStep)));

    [Fact]
    public void ExponentialLR() => Same(TorchScheduleValues.Exponential, Run(o => new ExponentialLR(o, 0.9), Steps(TorchScheduleValues.Exponential)));

    [Fact]
    public void StepLR() => Same(TorchScheduleValues.Step, Run(o => new StepLR(o, 3, 0.5), Steps(TorchScheduleValues.Step)));

    [Fact]
    public void LambdaLR_OneFunction() => Same(TorchScheduleValues.Lambda, Run(o => new LambdaLR(o, e => 1.0 / (1 + e)), Steps(TorchScheduleValues.Lambda)));

    [Fact]
    public void LambdaLR_OneFunctionPerGroup()
        => Same(TorchScheduleValues.LambdaPerGroup,
            Run(o => new LambdaLR(o, [e => Math.Pow(0.95, e), e => 1 + e / 10.0]), Steps(TorchScheduleValues.LambdaPerGroup)));

    [Fact]
    public void LinearLR_Defaults() => Same(TorchScheduleValues.LinearDefault, Run(o => new LinearLR(o), Steps(TorchScheduleValues.LinearDefault)));

    [Fact]
    public void LinearLR() => Same(TorchScheduleValues.Linear, Run(o => new LinearLR(o, 0.1, 0.5, 4), Steps(TorchScheduleValues.Linear)));

    [Fact]
    public void ConstantLR() => Same(TorchScheduleValues.Constant, Run(o => new ConstantLR(o, 0.5, 3), Steps(TorchScheduleValues.Constant)));

    [Fact]
    public void CosineAnnealingLR_PastTMax() => Same(TorchScheduleValues.Cosine, Run(o => new CosineAnnealingLR(o, 10, 0.001), Steps(TorchScheduleValues.Cosine)));

    [Fact]
    public void SequentialLR_WarmupThenCosine()
        => Same(TorchScheduleValues.WarmupCosine,
            Run(o => new SequentialLR(o, [new LinearLR(o, 0.1, 1.0, 4), new CosineAnnealingLR(o, 20, 1e-4)], [4]), Steps(TorchScheduleValues.WarmupCosine)));

    [Fact]
    public void SequentialLR_ThreePhases()
        => Same(TorchScheduleValues.SequentialThree,
            Run(o => new SequentialLR(o, [new ConstantLR(o, 0.1, 2), new ExponentialLR(o, 0.9), new StepLR(o, 2, 0.5)], [2, 6]),
                Steps(TorchScheduleValues.SequentialThree)));

    [Fact]
    public void ChainedScheduler_ConstantTimesExponential()
        => Same(TorchScheduleValues.ChainedConstantExponential,
            Run(o => new ChainedScheduler([new ConstantLR(o, 0.1, 2), new ExponentialLR(o, 0.9)]), Steps(TorchScheduleValues.ChainedConstantExponential)));

    [Fact]
    public void ChainedScheduler_LinearAndAffineCosine()
        => Same(TorchScheduleValues.ChainedLinearCosine,
            Run(o => new ChainedScheduler([new LinearLR(o, 0.2, 1.0, 5), new CosineAnnealingLR(o, 10, 0.01)]), Steps(TorchScheduleValues.ChainedLinearCosine)));

    [Fact]
    public void ChainedScheduler_ThreeSchedules()
        => Same(TorchScheduleValues.ChainedThree,
            Run(o => new ChainedScheduler([new MultiStepLR(o, [2, 4], 0.5), new StepLR(o, 3, 0.8), new ExponentialLR(o, 0.95)]),
                Steps(TorchScheduleValues.ChainedThree)));

    [Fact]
    public void OneCycleLR_PerGroupMaxLr_MatchesTorch()
    {
        // PyTorch's OneCycleLR takes max_lr per group; here one schedule per max_lr, read for the group it belongs to.
        double[][] expected = TorchScheduleValues.OneCycle;
        double[] maxLr = [1.0, 0.5];
        for (int g = 0; g < 2; g++)
        {
            double[][] run = Run(o => new OneCycleLR(o, maxLr[g], 12), Steps(expected));
            Same([expected[g]], [run[g]]);
        }
    }

    /// <summary>A scheduler restored at step n (a resumed run) has bit for bit the rates of one stepped n times.</summary>
    [Theory]
    [InlineData("sequential")]
    [InlineData("chained")]
    [InlineData("chained-cosine")]
    [InlineData("multistep")]
    public void SetStepCount_GivesTheRatesOfAnUninterruptedRun(string kind)
    {
        LearningRateScheduler Make(Sgd o) => kind switch
        {
            "sequential" => new SequentialLR(o, [new LinearLR(o, 0.1, 1.0, 4), new CosineAnnealingLR(o, 20, 1e-4)], [4]),
            "chained" => new ChainedScheduler([new MultiStepLR(o, [2, 4], 0.5), new StepLR(o, 3, 0.8), new ExponentialLR(o, 0.95)]),
            "chained-cosine" => new ChainedScheduler([new LinearLR(o, 0.2, 1.0, 5), new CosineAnnealingLR(o, 10, 0.01)]),
            _ => new MultiStepLR(o, [3, 6, 6, 9], 0.5),
        };
        const int steps = 25;
        double[][] uninterrupted = Run(Make, steps);
        for (int n = 0; n <= steps; n += 4)
        {
            Sgd o = TwoGroups();
            LearningRateScheduler s = Make(o);
            s.SetStepCount(n);
            for (int t = n; t <= steps; t++)
            {
                for (int g = 0; g < 2; g++) Assert.Equal(uninterrupted[g][t], o.ParamGroups[g].LearningRate); // exact
                if (t < steps) s.Step();
            }
        }
    }

    [Fact]
    public void LearningRateAt_IsTheRateOfEachGroup()
    {
        Sgd o = TwoGroups();
        var s = new SequentialLR(o, [new LinearLR(o, 0.1, 1.0, 4), new CosineAnnealingLR(o, 20, 1e-4)], [4]);
        for (int t = 0; t < 30; t++)
            for (int g = 0; g < 2; g++)
                Assert.Equal(TorchScheduleValues.WarmupCosine[g][t], s.LearningRateAt(t, o.ParamGroups[g].InitialLearningRate, g), tolerance: 1e-15);
        var perGroup = new LambdaLR(o, [_ => 2.0, _ => 3.0]);
        Assert.Equal(0.3, perGroup.LearningRateAt(5, 0.1, 1), 15);
        var error = Assert.Throws<InvalidOperationException>(() => perGroup.LearningRateAt(5, 0.1));
        Assert.Contains("per parameter group", error.Message);
    }

    [Fact]
    public void SequentialLR_MaxStepCount_IsTheLastPhasesPlusItsMilestone()
    {
        Sgd o = TwoGroups();
        Assert.Null(new SequentialLR(o, [new LinearLR(o), new StepLR(o, 2)], [3]).MaxStepCount);
        var s = new SequentialLR(o, [new LinearLR(o), new OneCycleLR(o, 1.0, 10)], [3]);
        Assert.Equal(13, s.MaxStepCount);
        s.SetStepCount(13);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.SetStepCount(14));
        Assert.Equal(10, new ChainedScheduler([new OneCycleLR(o, 1.0, 10), new ExponentialLR(o, 0.9)]).MaxStepCount);
    }

    [Fact]
    public void BadArguments_NameTheProblem()
    {
        Sgd o = TwoGroups(), other = TwoGroups();
        Assert.Contains("one fewer", Assert.Throws<ArgumentException>(() => new SequentialLR(o, [new LinearLR(o), new StepLR(o, 2)], [])).Message);
        Assert.Contains("increase from 1", Assert.Throws<ArgumentException>(() => new SequentialLR(o, [new LinearLR(o), new StepLR(o, 2), new StepLR(o, 3)], [3, 3])).Message);
        Assert.Contains("increase from 1", Assert.Throws<ArgumentException>(() => new SequentialLR(o, [new LinearLR(o), new StepLR(o, 2)], [0])).Message);
        Assert.Contains("another optimizer", Assert.Throws<ArgumentException>(() => new SequentialLR(o, [new LinearLR(o), new StepLR(other, 2)], [3])).Message);
        Assert.Contains("another optimizer", Assert.Throws<ArgumentException>(() => new ChainedScheduler([new LinearLR(o), new StepLR(other, 2)])).Message);
        Assert.Contains("ChainedScheduler", Assert.Throws<ArgumentException>(() => new SequentialLR(o, [new LinearLR(o), new ChainedScheduler([new StepLR(o, 2)])], [3])).Message);
        Assert.Contains("defined for 5 steps", Assert.Throws<ArgumentException>(() => new SequentialLR(o, [new OneCycleLR(o, 1.0, 5), new StepLR(o, 2)], [8])).Message);
        Assert.Throws<ArgumentException>(() => new ChainedScheduler([]));
        Assert.Contains("2 functions", Assert.Throws<ArgumentException>(() => new LambdaLR(o, [e => 1.0])).Message);
        Assert.Throws<ArgumentException>(() => new MultiStepLR(o, [-1, 3]));
        Assert.Throws<ArgumentException>(() => new ConstantLR(o, factor: 1.5));
        Assert.Throws<ArgumentException>(() => new ExponentialLR(o, double.NaN));
    }
}
