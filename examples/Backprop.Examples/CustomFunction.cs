using Backprop.Autograd;
using Backprop.NN;
using Backprop.Optim;
using Backprop.Tensors;

namespace Backprop.Examples;

/// <summary>
/// Swish with a learnable slope, y = x·σ(βx), written as a <see cref="CustomFunction"/> with its own
/// backward, checked against central differences, then trained to fit a target curve.
/// </summary>
public static class CustomFunctionExample
{
    /// <summary>y = x·σ(βx); β is a one-element tensor.</summary>
    private sealed class Swish : CustomFunction
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            Tensor x = inputs[0], beta = inputs[1];
            Tensor s = (x * beta).Sigmoid();
            ctx.SaveForBackward(x, beta, s);
            return x * s;
        }

        // dy/dx = s + βx·s(1 − s);  dy/dβ = x²·s(1 − s), summed to β's shape.
        protected override Tensor?[] Backward(FunctionContext ctx, Tensor dy)
        {
            Tensor x = ctx.SavedTensors[0], beta = ctx.SavedTensors[1], s = ctx.SavedTensors[2];
            Tensor ds = s * (1.0 - s);
            Tensor? dx = ctx.NeedsInputGrad(0) ? dy * (s + x * beta * ds) : null;
            Tensor? dbeta = ctx.NeedsInputGrad(1) ? (dy * x * x * ds).Sum().Reshape([1]) : null;
            return [dx, dbeta];
        }
    }

    /// <summary>Checks the gradient, fits β and returns the fitted β (the target curve used β = 1.7).</summary>
    public static double Run(TextWriter console)
    {
        // 1. The analytic backward against central differences, in float64.
        var gen = new Generator(0);
        Tensor x64 = Tensor.Randn([5, 3], DType.Float64, gen), b64 = Tensor.Full([1], 0.8, DType.Float64);
        x64.RequiresGrad = b64.RequiresGrad = true;
        GradCheck.Verify(t => new Swish().Apply(t[0], t[1]).Sum(), [x64, b64]);
        console.WriteLine("gradient check passed");

        // 2. Learn β from samples of x·σ(1.7x).
        Tensor x = Tensor.Linspace(-4, 4, 200);
        Tensor target = x * (x * 1.7).Sigmoid();
        var beta = new Parameter(Tensor.Full([1], 0.5));
        var optimizer = new Adam([beta], new AdamOptions(LearningRate: 0.05));
        for (int step = 0; step < 300; step++)
        {
            optimizer.ZeroGrad();
            Tensor loss = Functional.MseLoss(new Swish().Apply(x, beta.Data), target);
            loss.Backward();
            optimizer.Step();
            if (step % 100 == 0) console.WriteLine($"step {step,3}: loss {loss.Item():F6}  beta {beta.Data.Item():F4}");
        }
        double fitted = beta.Data.Item();
        console.WriteLine($"fitted beta {fitted:F4} (true 1.7)");
        return fitted;
    }
}
