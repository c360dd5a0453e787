using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;

namespace Backprop.Examples;

/// <summary>XOR with a 2-8-1 network: the smallest problem a straight line cannot solve.</summary>
public static class Xor
{
    /// <summary>Trains for 500 steps and returns the final mean squared error.</summary>
    public static double Run(TextWriter console)
    {
        Tensor x = Tensor.FromArray(new float[,] { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } });
        Tensor y = Tensor.FromArray(new float[,] { { 0 }, { 1 }, { 1 }, { 0 } });
        var model = new Sequential(
            ("hidden", new Linear(2, 8, generator: new Generator(1))), ("tanh", new Tanh()),
            ("output", new Linear(8, 1, generator: new Generator(2))), ("sigmoid", new Sigmoid()));
        var optimizer = new Adam(model.Parameters(), new AdamOptions(LearningRate: 0.05));

        double loss = double.NaN;
        for (int step = 0; step < 500; step++)
        {
            optimizer.ZeroGrad();
            Tensor l = Functional.MseLoss(model.Call(x), y);
            l.Backward();
            optimizer.Step();
            loss = l.Item();
            if (step % 100 == 0) console.WriteLine($"step {step,3}: loss {loss:F5}");
        }
        using (Autograd.GradMode.Disable())
            console.WriteLine($"predictions: {model.Call(x)}");
        return loss;
    }
}
