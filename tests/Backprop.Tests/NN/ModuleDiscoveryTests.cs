using Backprop.Cli.Diagnostics;
using ResidualBlock = Backprop.NN.Layers.ResidualBlock;
using Backprop.Cli.Estimators;
using Backprop.Cli.Recipes;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;

namespace Backprop.Tests.NN;

/// <summary>Custom modules find their submodules and parameters in their fields, as PyTorch's attribute assignment registers them.</summary>
public class ModuleDiscoveryTests
{
    /// <summary>A module that registers nothing: every member is a field.</summary>
    private sealed class FieldNet : Module
    {
        private readonly Linear _fc1 = new(4, 3);
        private readonly Relu _act = new();
        private readonly Parameter _scale = new(Tensor.Ones([2]));
        private readonly List<Linear> _blocks = [new(2, 2), new(2, 2)];
        private readonly Dropout _drop = new(0.5);
        private readonly int _width = 4; // not a member

        public Linear Head { get; set; } = new(3, 2);

        public List<Linear> Blocks => _blocks;

        public Dropout Drop => _drop;

        public override Tensor Forward(Tensor input)
        {
            Tensor h = Head.Call(_act.Call(_fc1.Call(input.Reshape(-1, _width))));
            foreach (Linear b in _blocks) h = b.Call(h);
            return _drop.Call(h) * _scale;
        }
    }

    /// <summary>The same members as PyTorch gives: own parameters first, then children in field order ("_x" → "x", a property → its name), a list as a ModuleList.</summary>
    [Fact]
    public void FieldsOnly_AreMembersInDeclarationOrder()
    {
        var net = new FieldNet();
        Assert.Equal(["scale", "fc1.weight", "fc1.bias", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias", "Head.weight", "Head.bias"],
            net.NamedParameters().Select(kv => kv.Key));
        Assert.Equal(["fc1", "act", "blocks", "drop", "Head"], net.NamedChildren().Select(kv => kv.Key));
        Assert.Equal(9, net.StateDict().Count);
        Assert.Equal(4 * 3 + 3 + 2 + 2 * (2 * 2 + 2) + 3 * 2 + 2, net.ParameterCount());
        net.Eval();
        Assert.False(net.Drop.Training); // a dropout in a field is switched too
        Assert.Contains("ModuleList", net.ToString());
        Assert.Equal(6, net.DiscoveredMemberCount); // scale and the five children
    }

    [Fact]
    public void FieldsOnly_Train()
    {
        var net = new FieldNet();
        net.Eval();
        var opt = new Sgd(net.Parameters(), new SgdOptions(LearningRate: 0.1));
        Tensor x = Tensor.Ones([2, 4]);
        double before = (net.Forward(x) - 1).Pow(2).Mean().Item();
        for (int i = 0; i < 20; i++)
        {
            opt.ZeroGrad();
            (net.Forward(x) - 1).Pow(2).Mean().Backward();
            opt.Step();
        }
        Assert.True((net.Forward(x) - 1).Pow(2).Mean().Item() < before / 10);
        Assert.NotNull(net.Blocks[1].Weight.Grad); // the listed layers train too
    }

    /// <summary>Registered explicitly and held in a field (ResidualBlock's pattern): counted once, under the registered name.</summary>
    [Fact]
    public void RegisteredAndHeld_IsCountedOnce()
    {
        var block = new ResidualBlock(2, 4, stride: 2);
        Assert.Equal(0, block.DiscoveredMemberCount);
        Assert.Equal(["conv1", "bn1", "conv2", "bn2", "shortcut"], block.NamedChildren().Select(kv => kv.Key));
    }

    private sealed class Reassignable : Module
    {
        public Linear First { get; set; } = new(2, 2);

        public Linear? Second { get; set; } = new(2, 3);

        public Parameter? Bias { get; set; } = new(Tensor.Zeros([3]));

        public override Tensor Forward(Tensor input) => input;
    }

    /// <summary>Assigning a field after the members were enumerated replaces the member in place; null removes it (PyTorch's setattr).</summary>
    [Fact]
    public void ReassignedField_ReplacesItsMemberInPlace()
    {
        var m = new Reassignable();
        Assert.Equal(["Bias", "First.weight", "First.bias", "Second.weight", "Second.bias"], m.NamedParameters().Select(kv => kv.Key));
        var head = new Linear(2, 5);
        m.First = head;
        Assert.Same(head.Weight, m.NamedParameters().First(kv => kv.Key == "First.weight").Value);
        Assert.Equal(["Bias", "First.weight", "First.bias", "Second.weight", "Second.bias"], m.NamedParameters().Select(kv => kv.Key));
        m.Second = null;
        m.Bias = null;
        Assert.Equal(["First.weight", "First.bias"], m.NamedParameters().Select(kv => kv.Key));
        m.Second = new Linear(2, 1);
        Assert.Equal(["First.weight", "First.bias", "Second.weight", "Second.bias"], m.NamedParameters().Select(kv => kv.Key));
    }

    [Fact]
    public void ListField_FollowsItsContents()
    {
        var net = new FieldNet();
        Assert.Equal(9, net.NamedParameters().Count());
        net.Blocks.Add(new Linear(2, 2));
        Assert.Contains("blocks.2.weight", net.NamedParameters().Select(kv => kv.Key));
        net.Blocks.RemoveAt(0);
        Assert.Equal(["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"],
            net.NamedParameters().Select(kv => kv.Key).Where(k => k.StartsWith("blocks.", StringComparison.Ordinal)));
    }

    private sealed class Aliases : Module
    {
        private readonly Sequential _body;
        private readonly Linear _last;               // an alias of a registered grandchild (DeepNet's Layers)
        private readonly Parameter _lastWeight;      // an alias of a registered parameter
        private readonly Linear[] _all;

        public Aliases()
        {
            _body = RegisterModule("body", new Sequential(new Linear(2, 2), new Relu(), new Linear(2, 2)));
            _last = (Linear)_body[2];
            _lastWeight = _last.Weight;
            _all = [(Linear)_body[0], _last];
        }

        public override Tensor Forward(Tensor input) => _body.Call(input);
    }

    [Fact]
    public void AliasesOfMembers_AreNotAddedAgain()
    {
        var m = new Aliases();
        Assert.Equal(["body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"], m.NamedParameters().Select(kv => kv.Key));
        Assert.Equal(0, m.DiscoveredMemberCount);
    }

    private sealed class Clash : Module
    {
        private readonly Linear _fc = new(2, 2);

        public Clash() => RegisterModule("fc", new Linear(2, 2));

        public override Tensor Forward(Tensor input) => _fc.Call(input);
    }

    [Fact]
    public void NameTakenByAnotherMember_IsAnErrorNamingTheField()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new Clash().Parameters().ToList());
        Assert.Contains("Clash", e.Message);
        Assert.Contains("'_fc'", e.Message);
        Assert.Contains("'fc' is taken", e.Message);
    }

    private sealed class Child : Module
    {
        public Module? Owner { get; set; }

        public override Tensor Forward(Tensor input) => input;
    }

    private sealed class MarkedChild : Module
    {
        [field: NotAMember]
        public Module? Owner { get; set; }

        public override Tensor Forward(Tensor input) => input;
    }

    private sealed class Parent : Module
    {
        public Parent(Module child) => Child = child;

        public Module Child { get; }

        public override Tensor Forward(Tensor input) => Child.Call(input);
    }

    [Fact]
    public void ReferenceBackToAParent_IsAnError_UnlessMarkedNotAMember()
    {
        var child = new Child();
        var parent = new Parent(child);
        child.Owner = parent;
        var e = Assert.Throws<InvalidOperationException>(() => parent.Modules().ToList());
        Assert.Contains("cycle", e.Message);
        Assert.Contains("NotAMember", e.Message);

        var marked = new MarkedChild();
        var ok = new Parent(marked);
        marked.Owner = ok;
        Assert.Equal(2, ok.Modules().Count());
    }

    private sealed class Mixed : Module
    {
        private readonly List<Linear> _layers = [];

        public Mixed()
        {
            _layers.Add(RegisterModule("a", new Linear(2, 2)));
            _layers.Add(new Linear(2, 2));
        }

        public override Tensor Forward(Tensor input) => input;
    }

    [Fact]
    public void ListMixingRegisteredAndUnregistered_IsAnError()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new Mixed().Parameters().ToList());
        Assert.Contains("'_layers'", e.Message);
        Assert.Contains("1 members registered elsewhere and 1 that are not", e.Message);
    }

    private sealed class ParameterArray : Module
    {
        private readonly Parameter[] _weights = [new(Tensor.Ones([2])), new(Tensor.Zeros([3]))];

        public override Tensor Forward(Tensor input) => input * _weights[0];
    }

    [Fact]
    public void ParameterArray_IsAParameterList()
    {
        var m = new ParameterArray();
        Assert.Equal(["weights.0", "weights.1"], m.NamedParameters().Select(kv => kv.Key));
        Assert.Contains("ParameterList", m.ToString());
        var list = m.NamedChildren().Single().Value;
        Assert.Contains("no forward", Assert.Throws<InvalidOperationException>(() => list.Forward(Tensor.Ones([2]))).Message);
    }

    private sealed class Heads : Module
    {
        private readonly Dictionary<string, Linear> _heads = new() { ["cls"] = new Linear(2, 3), ["reg"] = new Linear(2, 1) };

        public Dictionary<string, Linear> All => _heads;

        public override Tensor Forward(Tensor input) => _heads["cls"].Call(input);
    }

    [Fact]
    public void DictionaryField_IsAModuleDictNamedByItsKeys()
    {
        var m = new Heads();
        Assert.Equal(["heads.cls.weight", "heads.cls.bias", "heads.reg.weight", "heads.reg.bias"], m.NamedParameters().Select(kv => kv.Key));
        Assert.Contains("ModuleDict", m.ToString());
        m.All["box"] = new Linear(2, 4);
        Assert.Equal(["heads.cls.weight", "heads.cls.bias", "heads.reg.weight", "heads.reg.bias", "heads.box.weight", "heads.box.bias"],
            m.NamedParameters().Select(kv => kv.Key));
        m.All["a.b"] = new Linear(2, 4);
        Assert.Contains("'a.b'", Assert.Throws<InvalidOperationException>(() => m.Parameters().ToList()).Message);
    }

    /// <summary>
    /// Checkpoint compatibility: every library module and every CLI model registers all its members itself, so
    /// discovery adds nothing and their parameter and state-dict names are what they were before it existed.
    /// </summary>
    [Fact]
    public void LibraryModulesAndCliModels_DiscoverNothing()
    {
        var g = new Generator(1);
        var gpt = new TextModelConfig("gpt", 8, 16, 2, 2, 0.1, 16);
        var lstm = new TextModelConfig("lstm", 8, 16, 1, 2, 0.1, 8);
        Module[] models =
        [
            new Linear(3, 2), new Linear(3, 2, bias: false), new Conv2d(1, 2, 3), new BatchNorm1d(3), new BatchNorm2d(3),
            new LayerNorm(3), new Dropout(), new Embedding(5, 3), new MultiheadAttention(4, 2), new MultiheadAttention(4, 2, kdim: 3, vdim: 5, addBiasKv: true),
            new TransformerBlock(8, 2, 16), new Lstm(3, 4, numLayers: 2, bidirectional: true), new Gru(3, 4, bias: false), new Rnn(3, 4),
            new LstmCell(3, 4), new GruCell(3, 4), new RnnCell(3, 4), new Residual(new Linear(3, 3)), new ResidualBlock(2, 4, stride: 2),
            new Checkpointed(new ResidualBlock(2, 4, stride: 2)), new LinearRelu(3, 2), new Conv2dReluMaxPool2d(1, 2, 3),
            new Sequential(new Linear(3, 3), new Relu(), new Linear(3, 2)).Fuse(), new Sequential(("a", new Linear(2, 2))),
            new SinusoidalPositionEmbedding(8, 4), Models.Create("mlp", g), Models.Create("cnn", g), gpt.Create(g), lstm.Create(g),
            BinaryMlp.Create(new BinaryMlpSettings(), g), .. DepthVariants.All.Select(v => v.Build(4, 8, g)),
        ];
        foreach (Module model in models)
            foreach (Module m in model.Modules())
                Assert.True(m.DiscoveredMemberCount == 0, $"{model.GetType().Name}: {m.GetType().Name} discovered {m.DiscoveredMemberCount} members");
    }

    /// <summary>The GPT recipe's parameter names, as its checkpoints store them.</summary>
    [Fact]
    public void CharGpt_KeepsItsCheckpointNames()
    {
        Module gpt = new TextModelConfig("gpt", 8, 16, 2, 1, 0, 16).Create(new Generator(1));
        Assert.Equal(["tok_emb.weight", "pos_emb.weight", "blocks.0.ln1.weight", "blocks.0.ln1.bias", "blocks.0.attn.in_proj_weight",
                      "blocks.0.attn.in_proj_bias", "blocks.0.attn.out_proj.weight", "blocks.0.attn.out_proj.bias", "blocks.0.ln2.weight",
                      "blocks.0.ln2.bias", "blocks.0.fc1.weight", "blocks.0.fc1.bias", "blocks.0.fc2.weight", "blocks.0.fc2.bias",
                      "ln_f.weight", "ln_f.bias", "head.weight"],
            gpt.StateDict().Select(kv => kv.Key));
    }

    /// <summary>
    /// The check discovery makes at every enumeration allocates nothing once the members are known, so
    /// Parameters() in a training step allocates what it did before discovery existed (its iterators).
    /// </summary>
    [Fact]
    public void DiscoveryCheck_AllocatesNothing()
    {
        Module gpt = new TextModelConfig("gpt", 8, 16, 2, 2, 0, 16).Create(new Generator(1));
        var field = new FieldNet();
        var arrays = new ParameterArray();
        Module[] modules = [.. gpt.Modules(), .. field.Modules(), .. arrays.Modules(), .. new Lstm(3, 4, numLayers: 2).Modules()];
        for (int warm = 0; warm < 3; warm++)
            foreach (Module m in modules) m.DiscoverMembersForTest();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int rep = 0; rep < 10; rep++)
            foreach (Module m in modules) m.DiscoverMembersForTest();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);

        // And a whole enumeration allocates the same on every call (its iterators), nothing that grows.
        long Enumerate()
        {
            long start = GC.GetAllocatedBytesForCurrentThread();
            foreach (Parameter p in gpt.Parameters()) _ = p;
            return GC.GetAllocatedBytesForCurrentThread() - start;
        }
        Enumerate();
        long first = Enumerate();
        Assert.Equal(first, Enumerate());
    }
}
