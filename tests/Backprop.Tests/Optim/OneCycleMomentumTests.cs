using Backprop.NN;
using Backprop.Optim;
using Backprop.Optim.Schedulers;
using Backprop.Tensors;

namespace Backprop.Tests.Optim;

/// <summary>OneCycleLR cycles momentum (β₁ for Adam) as torch 1.13 does (Fixtures/torch_onecycle_momentum.py).</summary>
public class OneCycleMomentumTests
{
    private static Parameter P(params double[] v) => new(Tensor.FromArray(v));

    private static (double[] Lr, double[] Momentum) Run(Optimizer o, LearningRateScheduler s, int steps)
    {
        var lr = new double[steps];
        var m = new double[steps];
        for (int t = 0; t < steps; t++)
        {
            lr[t] = o.ParamGroups[0].LearningRate;
            m[t] = o.ParamGroups[0].Momentum!.Value;
            if (t + 1 < steps) s.Step();
        }
        return (lr, m);
    }

    private static void Close(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-13);
    }

    [Fact]
    public void Sgd_MomentumCyclesFrom095To085AndBack()
    {
        var o = new Sgd([P(0)], new SgdOptions(LearningRate: 0.1, Momentum: 0.9));
        var (lr, m) = Run(o, new OneCycleLR(o, 1.0, 12), 12);
        Close([0.040000000000000036, 0.3497896542195831, 0.8792851591221287, 0.9944154354509117, 0.9330129698414117, 0.811745653949763,
               0.6473789976951033, 0.46263710266697505, 0.28306099820869923, 0.1334775301888306, 0.03456698742539522, 4e-06], lr);
        Close([0.95, 0.9177302443521267, 0.8625744625914449, 0.8505584586887436, 0.856698729810778, 0.8688255099070633, 0.8852622412794547,
               0.9037365046793212, 0.9216941869558779, 0.9366525935914912, 0.9465436874322102, 0.95], m);
    }

    [Fact]
    public void Adam_Beta1Cycles_WithCustomBounds()
    {
        var o = new Adam([P(0)], new AdamOptions(LearningRate: 0.1));
        var s = new OneCycleLR(o, 0.5, 10, pctStart: 0.4, baseMomentum: 0.8, maxMomentum: 0.9);
        var (lr, m) = Run(o, s, 10);
        Close([0.020000000000000018, 0.14, 0.37999999999999995, 0.5, 0.4665064849207059, 0.3750005, 0.250001, 0.12500150000000004,
               0.03349551507929411, 2e-06], lr);
        Close([0.9, 0.875, 0.8250000000000001, 0.8, 0.8066987298107781, 0.8250000000000001, 0.8500000000000001, 0.875, 0.893301270189222, 0.9], m);
        Assert.Equal(m[4], s.MomentumAt(4));
        s.SetStepCount(2); // a resumed run gets the step's momentum back
        Assert.Equal(m[2], o.ParamGroups[0].Momentum);
    }

    private static double[] Train(Optimizer o, LearningRateScheduler s, Parameter p)
    {
        Tensor w = Tensor.FromArray([1.0, 2.0, 3.0]);
        for (int t = 0; t < 6; t++)
        {
            o.ZeroGrad();
            (p.Data * p.Data * w).Sum().Backward();
            o.Step();
            s.Step();
        }
        return p.Data.ToDoubleArray();
    }

    [Fact]
    public void Training_UsesTheCycledMomentum_AsTorch()
    {
        Parameter p = P(0.5, -0.3, 1.2);
        var adamw = new AdamW([p], new AdamOptions(LearningRate: 0.1));
        double[] got = Train(adamw, new OneCycleLR(adamw, 0.05, 6), p);
        double[] torch = [0.393320670429853, -0.1941481089308976, 1.0920611640926463];
        for (int i = 0; i < 3; i++) Assert.Equal(torch[i], got[i], 1e-14);

        // SGD built without momentum: PyTorch's OneCycleLR still sets 0.95 and cycles it.
        Parameter q = P(0.5, -0.3, 1.2);
        var sgd = new Sgd([q], new SgdOptions(LearningRate: 0.1));
        got = Train(sgd, new OneCycleLR(sgd, 0.05, 6), q);
        torch = [0.22257113200554718, 0.0014585381885745157, -0.4306918500284198];
        for (int i = 0; i < 3; i++) Assert.Equal(torch[i], got[i], 1e-14);
    }

    [Fact]
    public void NoMomentum_IsRefusedUnlessNotCycled_AsTorch()
    {
        var o = new Adagrad([P(0)]);
        Assert.Contains("cycleMomentum: false", Assert.Throws<ArgumentException>(() => new OneCycleLR(o, 1.0, 5)).Message);
        var s = new OneCycleLR(o, 1.0, 5, cycleMomentum: false);
        Assert.Equal(0.040000000000000036, o.ParamGroups[0].LearningRate, 1e-15);
        Assert.Null(o.ParamGroups[0].Momentum);

        var sgd = new Sgd([P(0)], new SgdOptions(Momentum: 0.5));
        _ = new OneCycleLR(sgd, 1.0, 5, cycleMomentum: false);
        Assert.Equal(0.5, sgd.ParamGroups[0].Momentum);
    }

    [Fact]
    public void InsideSequentialLR_ThePhaseSetsTheMomentum()
    {
        var o = new Sgd([P(0)], new SgdOptions(LearningRate: 0.1, Momentum: 0.9));
        var one = new OneCycleLR(o, 1.0, 12);
        var s = new SequentialLR(o, [new LinearLR(o, 0.5, 1.0, 2), one], [2]);
        Assert.Equal(0.95, o.ParamGroups[0].Momentum); // the OneCycleLR set it when built; LinearLR leaves it
        s.Step(); s.Step(); s.Step(); // step 3 = the OneCycleLR's step 1
        Assert.Equal(one.MomentumAt(1), o.ParamGroups[0].Momentum);
    }
}
