using Backprop.NN;
using Backprop.Optim;
using Backprop.Optim.Schedulers;
using Backprop.Tensors;

namespace Backprop.Tests.Optim;

public class SchedulerTests
{
    private static Sgd MakeOptimizer(double lr) => new([new Parameter(Tensor.Zeros([1]))], new SgdOptions(LearningRate: lr));

    private static double[] Run(LearningRateScheduler s, int steps)
    {
        var lrs = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            lrs[i] = s.Optimizer.ParamGroups[0].LearningRate;
            s.Step();
        }
        return lrs;
    }

    [Fact]
    public void StepLR_DecaysEveryStepSize()
    {
        double[] lrs = Run(new StepLR(MakeOptimizer(1.0), stepSize: 2, gamma: 0.5), 6);
        Assert.Equal([1.0, 1.0, 0.5, 0.5, 0.25, 0.25], lrs);
    }

    [Fact]
    public void CosineAnnealing_GoesFromInitialToEtaMin()
    {
        double[] lrs = Run(new CosineAnnealingLR(MakeOptimizer(1.0), tMax: 4, etaMin: 0.1), 5);
        Assert.Equal(1.0, lrs[0], 15);
        Assert.Equal(0.1 + 0.9 * (1 + Math.Cos(Math.PI / 4)) / 2, lrs[1], 15);
        Assert.Equal(0.55, lrs[2], 15);
        Assert.Equal(0.1, lrs[4], 15);
    }

    [Fact]
    public void LinearWarmup_RampsThenHolds()
    {
        double[] lrs = Run(new LinearLR(MakeOptimizer(0.1), startFactor: 0.25, endFactor: 1.0, totalIters: 3), 5);
        Assert.Equal(0.025, lrs[0], 15);
        Assert.Equal(0.05, lrs[1], 15);
        Assert.Equal(0.075, lrs[2], 15);
        Assert.Equal(0.1, lrs[3], 15);
        Assert.Equal(0.1, lrs[4], 15);
    }

    [Fact]
    public void OneCycle_RisesToMaxThenAnnealsToMin()
    {
        var s = new OneCycleLR(MakeOptimizer(1.0), maxLr: 1.0, totalSteps: 10, pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4);
        double[] lrs = Run(s, 10);
        Assert.Equal(1.0 / 25, lrs[0], 15);
        Assert.Equal(1.0, lrs[2], 12);               // peak at pct_start·total − 1 = 2
        Assert.Equal(1.0 / 25 / 1e4, lrs[9], 15);    // last step reaches the minimum
        for (int i = 3; i < 10; i++) Assert.True(lrs[i] < lrs[i - 1]);
    }

    [Fact]
    public void SetStepCount_RestoresSchedule()
    {
        var opt = MakeOptimizer(1.0);
        var s = new StepLR(opt, 1, 0.5);
        s.SetStepCount(3);
        Assert.Equal(0.125, opt.ParamGroups[0].LearningRate, 15);
    }

    [Fact]
    public void SetStepCount_BeyondOneCycle_IsRefusedAndChangesNothing()
    {
        var opt = MakeOptimizer(1.0);
        var s = new OneCycleLR(opt, maxLr: 1.0, totalSteps: 10);
        s.SetStepCount(4);
        double lr = opt.ParamGroups[0].LearningRate;
        Assert.Equal(10, s.MaxStepCount);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => s.SetStepCount(11));
        Assert.Contains("10 steps", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.SetStepCount(-1));
        Assert.Equal(4, s.StepCount);
        Assert.Equal(lr, opt.ParamGroups[0].LearningRate);
        s.SetStepCount(10);
        Assert.Null(new StepLR(opt, 1).MaxStepCount);
    }
}
