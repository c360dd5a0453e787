using BenchmarkDotNet.Attributes;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Cli.Recipes;

namespace Backprop.Benchmarks.Training;

/// <summary>
/// One full step of the mlp workload (784-512-256-10, batch 128, SGD momentum 0.9): zero grads,
/// forward, cross-entropy, backward, optimizer step. Random inputs stand in for Fashion-MNIST.
/// </summary>
[MemoryDiagnoser]
public class MlpTrainStepBenchmark
{
    private Sequential _model = null!;
    private Sgd _opt = null!;
    private Tensor _x = null!, _y = null!;

    [GlobalSetup]
    public void Setup()
    {
        var g = new Generator(0);
        _model = Models.Mlp(g).Fuse();
        _opt = new Sgd(_model.Parameters(), new SgdOptions(LearningRate: 0.01, Momentum: 0.9));
        _x = Tensor.Uniform([128, 784], 0, 1, generator: g);
        var labels = new long[128];
        for (int i = 0; i < labels.Length; i++) labels[i] = i % 10;
        _y = Tensor.FromArray(labels);
    }

    [Benchmark]
    public Tensor TrainStep()
    {
        _opt.ZeroGrad();
        Tensor loss = Functional.CrossEntropy(_model.Forward(_x), _y);
        loss.Backward();
        _opt.Step();
        return loss;
    }
}
