using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// Applies modules in order. Children are named "0", "1", … (positional form) or by you
/// (<c>new Sequential(("fc1", new Linear(784, 128)), ("act", new Relu()), ("fc2", new Linear(128, 10)))</c>,
/// PyTorch's OrderedDict form); the names are the prefixes of parameter and state-dict keys ("fc1.weight").
/// </summary>
public sealed class Sequential : Module
{
    [NotAMember] private readonly List<Module> _layers = []; // registered one by one under _names
    private readonly List<string> _names = [];

    /// <summary>An empty chain; <see cref="Add(Module)"/> appends.</summary>
    public Sequential()
    {
    }

    /// <summary>Creates the chain; children are named "0", "1", ….</summary>
    public Sequential(params Module[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        foreach (Module m in layers) Add(m);
    }

    /// <summary>Creates the chain with named children, in order (PyTorch's <c>nn.Sequential(OrderedDict(...))</c>).</summary>
    /// <exception cref="ArgumentException">A name is empty, contains '.', or repeats.</exception>
    public Sequential(params (string Name, Module Module)[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        foreach (var (name, module) in layers) Add(name, module);
    }

    /// <summary>Appends a module named by its position ("0", "1", …).</summary>
    /// <exception cref="ArgumentException">That name is already taken (by a named child).</exception>
    public Sequential Add(Module module) => Add(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);

    /// <summary>Appends a module under <paramref name="name"/> (PyTorch's <c>add_module</c>).</summary>
    /// <exception cref="ArgumentException">The name is empty, contains '.', or is taken.</exception>
    public Sequential Add(string name, Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        RegisterModule(name, module);
        _layers.Add(module);
        _names.Add(name);
        return this;
    }

    /// <summary>The i-th module.</summary>
    public Module this[int index] => _layers[index];

    /// <summary>The module named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No child has that name; the message lists the names.</exception>
    public Module this[string name]
    {
        get
        {
            int i = _names.IndexOf(name);
            return i >= 0 ? _layers[i] : throw new KeyNotFoundException($"Sequential: no child named '{name}' (children: {string.Join(", ", _names)})");
        }
    }

    /// <summary>The children's names, in order.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>Number of modules.</summary>
    public int Count => _layers.Count;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        Tensor x = input;
        foreach (Module layer in _layers) x = layer.Call(x);
        return x;
    }

    /// <summary>
    /// Replaces, in place, each Linear → ReLU pair by a <see cref="LinearRelu"/> and each Conv2d → ReLU →
    /// MaxPool2d(2) run (2×2 window, stride 2, no padding or dilation, floor mode) by a
    /// <see cref="Conv2dReluMaxPool2d"/>, here and in every Sequential nested below, so each runs as one
    /// fused op with the same values and gradients. A fused module takes the first layer's slot and
    /// shares its parameters; the slots of the layers it absorbed hold <see cref="Identity"/>, so parameter
    /// names and order, the state dict and optimizers built earlier stay exactly as they were. Without
    /// this call every intermediate output stays a tensor you can hook. Returns this model.
    /// </summary>
    public Sequential Fuse()
    {
        var chains = new List<Sequential>();
        foreach (Module m in Modules())
            if (m is Sequential s) chains.Add(s);
        foreach (Sequential s in chains) s.FuseChildren();
        return this;
    }

    private void FuseChildren()
    {
        for (int i = 0; i < _layers.Count; i++)
        {
            if (_layers[i] is Linear linear && i + 1 < _layers.Count && _layers[i + 1] is Relu)
            {
                Replace(i, new LinearRelu(linear));
                Replace(++i, new Identity());
            }
            else if (_layers[i] is Conv2d conv && i + 2 < _layers.Count && _layers[i + 1] is Relu && _layers[i + 2] is MaxPool2d { IsPlain2x2: true })
            {
                Replace(i, new Conv2dReluMaxPool2d(conv));
                Replace(++i, new Identity());
                Replace(++i, new Identity());
            }
        }
    }

    private void Replace(int index, Module module)
    {
        ReplaceModule(_names[index], module);
        _layers[index] = module;
    }
}

/// <summary>y = x + inner(x): a skip connection around any module that keeps the shape.</summary>
public sealed class Residual : Module
{
    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public Residual(Module inner) => Inner = RegisterModule("inner", inner);

    /// <summary>The residual branch.</summary>
    public Module Inner { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        Tensor y = Inner.Call(input);
        if (y.Shape != input.Shape)
            throw new InvalidOperationException($"Residual: the inner module changed the shape from {input.Shape} to {y.Shape}");
        return input + y;
    }
}

/// <summary>
/// The basic ResNet block: conv3×3 → BN → ReLU → conv3×3 → BN, plus the input (through a 1×1
/// conv + BN when the stride or channel count changes), then ReLU.
/// </summary>
public sealed class ResidualBlock : Module
{
    private readonly Conv2d _conv1, _conv2;
    private readonly BatchNorm2d _bn1, _bn2;
    private readonly Sequential? _shortcut;

    /// <summary>Creates the block.</summary>
    public ResidualBlock(int inChannels, int outChannels, int stride = 1, Generator? generator = null)
    {
        _conv1 = RegisterModule("conv1", new Conv2d(inChannels, outChannels, 3, stride, 1, bias: false, generator: generator));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(outChannels));
        _conv2 = RegisterModule("conv2", new Conv2d(outChannels, outChannels, 3, 1, 1, bias: false, generator: generator));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(outChannels));
        if (stride != 1 || inChannels != outChannels)
            _shortcut = RegisterModule("shortcut", new Sequential(
                new Conv2d(inChannels, outChannels, 1, stride, bias: false, generator: generator), new BatchNorm2d(outChannels)));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        Tensor h = _bn1.Call(_conv1.Call(input)).Relu();
        h = _bn2.Call(_conv2.Call(h));
        Tensor skip = _shortcut is null ? input : _shortcut.Call(input);
        return (h + skip).Relu();
    }
}
