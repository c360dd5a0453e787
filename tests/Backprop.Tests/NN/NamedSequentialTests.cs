using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;

namespace Backprop.Tests.NN;

/// <summary>Sequential with named children (PyTorch's nn.Sequential(OrderedDict(...))) next to the positional form.</summary>
public class NamedSequentialTests
{
    private static Sequential Named() => new(("fc1", new Linear(4, 3)), ("act", new Relu()), ("fc2", new Linear(3, 2)));

    /// <summary>The keys PyTorch gives nn.Sequential(OrderedDict([('fc1', Linear(4, 3)), ('act', ReLU()), ('fc2', Linear(3, 2))])).</summary>
    [Fact]
    public void Names_AreTheKeysOfParametersAndStateDict()
    {
        Sequential model = Named();
        Assert.Equal(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], model.StateDict().Select(kv => kv.Key));
        Assert.Equal(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], model.NamedParameters().Select(kv => kv.Key));
        Assert.Equal(["fc1", "act", "fc2"], model.Names);
        Assert.Same(model[0], model["fc1"]);
        Assert.IsType<Relu>(model["act"]);
        Assert.Equal(3, model.Count);
        Assert.Equal([2, 2], model.Forward(Tensor.Ones([2, 4])).Shape.ToArray());
        Assert.Contains("fc1", Assert.Throws<KeyNotFoundException>(() => model["fc3"]).Message);
    }

    [Fact]
    public void PositionalForm_IsUnchanged()
    {
        var model = new Sequential(new Linear(4, 3), new Relu(), new Linear(3, 2));
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], model.StateDict().Select(kv => kv.Key));
        Assert.Equal(["0", "1", "2"], model.Names);
        Assert.Empty(new Sequential().Names);
    }

    [Fact]
    public void Add_NamedAndPositional()
    {
        var model = new Sequential().Add("embed", new Linear(2, 2)).Add(new Relu());
        Assert.Equal(["embed", "1"], model.Names);
    }

    [Fact]
    public void BadNames_AreRefused()
    {
        Assert.Contains("already registered", Assert.Throws<ArgumentException>(() => new Sequential(("a", new Relu()), ("a", new Relu()))).Message);
        Assert.Contains("invalid member name", Assert.Throws<ArgumentException>(() => new Sequential(("a.b", new Relu()))).Message);
        Assert.Contains("invalid member name", Assert.Throws<ArgumentException>(() => new Sequential(("", new Relu()))).Message);
        Assert.Contains("already registered", Assert.Throws<ArgumentException>(() => new Sequential(("1", new Relu())).Add(new Relu()).Add(new Relu())).Message);
    }

    [Fact]
    public void Fuse_KeepsTheNames()
    {
        Sequential model = Named();
        var keys = model.StateDict().Select(kv => kv.Key).ToList();
        Parameter w = ((Linear)model["fc1"]).Weight;
        model.Fuse();
        Assert.IsType<LinearRelu>(model["fc1"]);
        Assert.IsType<Identity>(model["act"]);
        Assert.Equal(keys, model.StateDict().Select(kv => kv.Key));
        Assert.Same(w, ((LinearRelu)model["fc1"]).Weight);
    }

    [Fact]
    public void StateDict_RoundTripsBetweenNamedModels()
    {
        Sequential a = Named(), b = Named();
        b.LoadStateDict(a.StateDict());
        Assert.Equal(a.StateDict().Select(kv => kv.Value.ToDoubleArray()), b.StateDict().Select(kv => kv.Value.ToDoubleArray()));
        var positional = new Sequential(new Linear(4, 3), new Relu(), new Linear(3, 2));
        var e = Assert.Throws<ArgumentException>(() => positional.LoadStateDict(a.StateDict()));
        Assert.Contains("unexpected 'fc1.weight'", e.Message);
    }
}
