using BenchmarkDotNet.Attributes;
using Backprop.NN;
using Backprop.Optim;
using Backprop.Tensors;

namespace Backprop.Benchmarks.Optim;

/// <summary>One optimizer step over 500k float32 parameters (the MLP's layer sizes, rounded), gradients fixed.</summary>
[MemoryDiagnoser]
public class OptimizerBenchmarks
{
    private Sgd _sgd = null!;
    private Adam _adam = null!;

    [GlobalSetup]
    public void Setup()
    {
        _sgd = new Sgd(MakeParameters(1), new SgdOptions(LearningRate: 1e-3, Momentum: 0.9));
        _adam = new Adam(MakeParameters(2), new AdamOptions(LearningRate: 1e-6));
    }

    private static List<Parameter> MakeParameters(int seed)
    {
        var g = new Generator((ulong)seed);
        // 401,920 + 98,304 = 500,224 values in four tensors
        int[][] shapes = [[512, 785], [512], [256, 384], [256]];
        var list = new List<Parameter>();
        foreach (int[] s in shapes)
        {
            var p = new Parameter(Tensor.Uniform(s, -0.05, 0.05, generator: g));
            p.Data.Grad = Tensor.Uniform(s, -1e-3, 1e-3, generator: g);
            list.Add(p);
        }
        return list;
    }

    [Benchmark]
    public void SgdMomentum() => _sgd.Step();

    [Benchmark]
    public void Adam() => _adam.Step();
}
