using Backprop.Autograd;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;

namespace Backprop.Cli.Diagnostics;

/// <summary>
/// A deep classifier of flattened images [N, 784] → logits [N, 10] with exactly <see cref="Layers"/>.Count
/// linear layers, built by one of <see cref="DepthVariants"/>; the layers are listed input first so their
/// weight gradients can be read by depth after a backward pass.
/// </summary>
internal sealed class DeepNet : Module
{
    private readonly Module _body;

    public DeepNet(Module body, IReadOnlyList<Linear> layers)
    {
        _body = RegisterModule("body", body);
        Layers = layers;
    }

    /// <summary>The linear layers, input first.</summary>
    public IReadOnlyList<Linear> Layers { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => _body.Call(input);

    /// <summary>
    /// Plain stack: Linear → [norm] → activation, repeated, then a Linear head; <paramref name="depth"/>
    /// linear layers in all. <paramref name="init"/>, if given, re-initialises each linear layer.
    /// </summary>
    public static DeepNet Stack(int depth, int width, Generator generator, Func<Module> activation,
                                Func<int, Module>? norm = null, Action<Linear, Generator>? init = null)
    {
        var body = new Sequential();
        var layers = new List<Linear>();
        int inFeatures = 784;
        for (int i = 0; i < depth; i++)
        {
            bool head = i == depth - 1;
            var linear = new Linear(inFeatures, head ? 10 : width, generator: generator);
            init?.Invoke(linear, generator);
            body.Add(linear);
            layers.Add(linear);
            if (!head)
            {
                if (norm is not null) body.Add(norm(width));
                body.Add(activation());
            }
            inFeatures = width;
        }
        return new DeepNet(body, layers);
    }

    /// <summary>
    /// Residual stack: Linear(784 → width), then <paramref name="depth"/> − 2 pre-activation blocks
    /// h ← h + Linear(ReLU(h)), then ReLU and a Linear head; <paramref name="depth"/> linear layers in all.
    /// </summary>
    public static DeepNet Residual(int depth, int width, Generator generator)
    {
        var layers = new List<Linear>();
        var stem = new Linear(784, width, generator: generator);
        var body = new Sequential(stem);
        layers.Add(stem);
        for (int i = 0; i < depth - 2; i++)
        {
            var linear = new Linear(width, width, generator: generator);
            body.Add(new ResidualBlock(new Sequential(new Relu(), linear)));
            layers.Add(linear);
        }
        var head = new Linear(width, 10, generator: generator);
        body.Add(new Relu());
        body.Add(head);
        layers.Add(head);
        return new DeepNet(body, layers);
    }

    /// <summary>Kaiming (He) normal weights for ReLU, N(0, 2/fan_in)·scale², and zero biases.</summary>
    public static Action<Linear, Generator> He(double scale = 1) => (linear, generator) =>
    {
        using (GradMode.Disable())
        {
            Tensor w = Init.KaimingNormal(linear.Weight.Shape, nonlinearity: Nonlinearity.Relu, generator: generator);
            linear.Weight.Data.CopyFrom(scale == 1 ? w : w * scale);
            linear.Bias?.Data.CopyFrom(Tensor.ZerosLike(linear.Bias.Data));
        }
    };
}

/// <summary>y = x + f(x), the skip connection of a residual network.</summary>
internal sealed class ResidualBlock : Module
{
    private readonly Module _inner;

    public ResidualBlock(Module inner) => _inner = RegisterModule("inner", inner);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input + _inner.Call(input);
}
