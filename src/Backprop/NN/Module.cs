using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.NN;

/// <summary>
/// Base of every layer and model: owns parameters, buffers and submodules registered in its
/// constructor (in a fixed order), knows train/eval mode, and saves/loads its state by name.
/// Modules and parameters held in fields are found without registration (see <see cref="NamedParameters"/>).
/// </summary>
public abstract partial class Module
{
    private readonly List<KeyValuePair<string, Parameter?>> _parameters = [];
    private readonly List<KeyValuePair<string, Tensor?>> _buffers = [];
    private readonly List<KeyValuePair<string, Module>> _modules = [];

    /// <summary>True in training mode (the default); affects dropout and batch norm.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Computes the module's output.</summary>
    public abstract Tensor Forward(Tensor input);

    /// <summary>
    /// Invokes the module as PyTorch's <c>module(x)</c>: <see cref="Forward"/> with the module's hooks around
    /// it (<see cref="RegisterForwardPreHook"/>, <see cref="RegisterForwardHook"/>, <see cref="RegisterFullBackwardHook"/>).
    /// Without hooks it is exactly <see cref="Forward"/>.
    /// </summary>
    public Tensor Call(Tensor input) => _hooks is null ? Forward(input) : CallHooked(input);

    /// <summary>Registers a trainable tensor under <paramref name="name"/> and returns it as a parameter.</summary>
    protected Parameter RegisterParameter(string name, Tensor value)
    {
        CheckNewName(name);
        var p = new Parameter(value);
        _parameters.Add(new(name, p));
        return p;
    }

    /// <summary>
    /// Registers a parameter object another module already owns under <paramref name="name"/>: both
    /// modules then train the same values (used by fused modules that take over a layer's parameters).
    /// </summary>
    protected Parameter RegisterParameter(string name, Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        CheckNewName(name);
        _parameters.Add(new(name, parameter));
        return parameter;
    }

    /// <summary>Reserves a parameter name that this configuration leaves empty (e.g. bias = false).</summary>
    protected void RegisterAbsentParameter(string name)
    {
        CheckNewName(name);
        _parameters.Add(new(name, null));
    }

    /// <summary>Registers a non-trainable state tensor (e.g. running statistics) saved with the model.</summary>
    protected Tensor RegisterBuffer(string name, Tensor value)
    {
        CheckNewName(name);
        _buffers.Add(new(name, Memory.Ownership.Escape(value)));
        return value;
    }

    /// <summary>Registers a child module; its parameters appear as "name.childParam".</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckNewName(name);
        _modules.Add(new(name, module));
        return module;
    }

    /// <summary>Puts <paramref name="module"/> in the place of the child registered as <paramref name="name"/>: same name, same position.</summary>
    /// <exception cref="ArgumentException">No child has that name.</exception>
    protected void ReplaceModule(string name, Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        for (int i = 0; i < _modules.Count; i++)
            if (_modules[i].Key == name)
            {
                _modules[i] = new(name, module);
                return;
            }
        throw new ArgumentException($"{GetType().Name}: no child module named '{name}' to replace");
    }

    private void CheckNewName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{GetType().Name}: invalid member name '{name}' (must be non-empty without '.')");
        foreach (var kv in _parameters) if (kv.Key == name) Duplicate(name);
        foreach (var kv in _buffers) if (kv.Key == name) Duplicate(name);
        foreach (var kv in _modules) if (kv.Key == name) Duplicate(name);
    }

    private void Duplicate(string name) =>
        throw new ArgumentException($"{GetType().Name}: '{name}' is already registered");

    /// <summary>Direct children with their names, in registration order.</summary>
    public IEnumerable<KeyValuePair<string, Module>> NamedChildren()
    {
        DiscoverMembers();
        return _modules;
    }

    /// <summary>All parameters (this module first, then children depth-first), in registration order.</summary>
    public IEnumerable<Parameter> Parameters()
    {
        foreach (var (_, p) in NamedParameters()) yield return p;
    }

    /// <summary>All parameters with dotted names such as "0.weight", in registration order.</summary>
    /// <remarks>
    /// Members come from two places, both in a fixed order: what the constructor registered
    /// (<see cref="RegisterParameter(string, Tensor)"/>, <see cref="RegisterModule"/>, …), then, after those,
    /// what the module's fields hold that nobody registered: each <see cref="Module"/>, <see cref="Parameter"/>, or
    /// array, list or string-keyed dictionary of either (a list becomes a child "name" with members "name.0",
    /// "name.1", …, like PyTorch's ModuleList; a dictionary one with members named by its keys, like ModuleDict),
    /// in field declaration order, named after the field ("_fc1" → "fc1", an auto-property → its
    /// name). A value already in the tree (registered explicitly, or an alias of a member) is not added again.
    /// Fields are read at every enumeration, so reassigning one later replaces its member in place, as
    /// PyTorch's attribute assignment does. Mark a field <see cref="NotAMemberAttribute"/> to leave it out.
    /// </remarks>
    /// <exception cref="InvalidOperationException">A field's member name is taken by another member, a list field mixes registered
    /// and unregistered modules, or a field refers to a module containing this one.</exception>
    public IEnumerable<KeyValuePair<string, Parameter>> NamedParameters(string prefix = "")
    {
        DiscoverMembers();
        foreach (var kv in _parameters)
            if (kv.Value is not null) yield return new(prefix + kv.Key, kv.Value);
        foreach (var (name, child) in _modules)
            foreach (var kv in child.NamedParameters(prefix + name + "."))
                yield return kv;
    }

    /// <summary>All buffers with dotted names.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedBuffers(string prefix = "")
    {
        DiscoverMembers();
        foreach (var kv in _buffers)
            if (kv.Value is not null) yield return new(prefix + kv.Key, kv.Value);
        foreach (var (name, child) in _modules)
            foreach (var kv in child.NamedBuffers(prefix + name + "."))
                yield return kv;
    }

    /// <summary>This module and every descendant, depth-first.</summary>
    public IEnumerable<Module> Modules()
    {
        DiscoverMembers();
        yield return this;
        foreach (var (_, child) in _modules)
            foreach (Module m in child.Modules()) yield return m;
    }

    /// <summary>Total number of trainable values.</summary>
    public long ParameterCount()
    {
        long n = 0;
        foreach (Parameter p in Parameters()) n += p.Numel;
        return n;
    }

    /// <summary>Sets training mode on this module and all descendants.</summary>
    public Module Train(bool training = true)
    {
        foreach (Module m in Modules()) m.Training = training;
        return this;
    }

    /// <summary>Sets evaluation mode (dropout off, batch norm uses running statistics).</summary>
    public Module Eval() => Train(false);

    /// <summary>Clears gradients: drops them (the default, like set_to_none=True) or fills them with zeros.</summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (Parameter p in Parameters())
        {
            if (setToNone || p.Grad is null) p.Data.DropGrad();
            else using (GradMode.Disable()) p.Grad.ZeroInPlace();
        }
    }

    /// <summary>Parameters and buffers by dotted name, in registration order (values share storage with the model).</summary>
    public List<KeyValuePair<string, Tensor>> StateDict()
    {
        var state = new List<KeyValuePair<string, Tensor>>();
        CollectState(state, "");
        return state;
    }

    private void CollectState(List<KeyValuePair<string, Tensor>> state, string prefix)
    {
        DiscoverMembers();
        foreach (var kv in _parameters)
            if (kv.Value is not null) state.Add(new(prefix + kv.Key, kv.Value.Data));
        foreach (var kv in _buffers)
            if (kv.Value is not null) state.Add(new(prefix + kv.Key, kv.Value));
        foreach (var (name, child) in _modules) child.CollectState(state, prefix + name + ".");
    }

    /// <summary>
    /// Copies values into the model's parameters and buffers by name. With <paramref name="strict"/>
    /// every name must match; shapes and dtypes must always match and no name may appear twice.
    /// Nothing is copied unless all checks pass.
    /// </summary>
    /// <exception cref="ArgumentException">Lists every missing, unexpected, repeated and mismatched entry.</exception>
    public void LoadStateDict(IEnumerable<KeyValuePair<string, Tensor>> state, bool strict = true)
        => CommitState(PrepareState(state, strict));

    /// <summary>Runs every check of <see cref="LoadStateDict"/> without copying anything.</summary>
    /// <exception cref="ArgumentException">Lists every missing, unexpected, repeated and mismatched entry.</exception>
    public void CheckStateDict(IEnumerable<KeyValuePair<string, Tensor>> state, bool strict = true) => PrepareState(state, strict);

    /// <summary>Checks a state dict against this model and pairs each target tensor with its source, copying nothing.</summary>
    /// <exception cref="ArgumentException">Lists every missing, unexpected, repeated and mismatched entry.</exception>
    internal List<(Tensor Target, Tensor Source)> PrepareState(IEnumerable<KeyValuePair<string, Tensor>> state, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(state);
        var own = new Dictionary<string, Tensor>();
        foreach (var kv in StateDict()) own[kv.Key] = kv.Value;
        var given = new Dictionary<string, Tensor>();
        var problems = new List<string>();
        foreach (var (name, src) in state)
        {
            if (name is null || src is null)
                problems.Add($"a null entry ('{name}')");
            else if (!given.TryAdd(name, src))
                problems.Add($"'{name}' appears more than once");
        }

        var pairs = new List<(Tensor Target, Tensor Source)>();
        foreach (var (name, target) in own)
        {
            if (!given.TryGetValue(name, out Tensor? src))
            {
                if (strict) problems.Add($"missing '{name}' (expected shape {target.Shape} {target.DType.Name()})");
                continue;
            }
            if (src.Shape != target.Shape || src.DType != target.DType)
                problems.Add($"'{name}': checkpoint has shape {src.Shape} {src.DType.Name()}, model has shape {target.Shape} {target.DType.Name()}");
            else
                pairs.Add((target, src));
        }
        if (strict)
            foreach (var (name, src) in given)
                if (!own.ContainsKey(name)) problems.Add($"unexpected '{name}' (shape {src.Shape})");
        if (problems.Count > 0)
            throw new ArgumentException($"LoadStateDict: the state does not fit {GetType().Name}:\n  " + string.Join("\n  ", problems));
        return pairs;
    }

    /// <summary>Copies the pairs checked by <see cref="PrepareState"/>; it cannot fail.</summary>
    internal static void CommitState(List<(Tensor Target, Tensor Source)> pairs)
    {
        using (GradMode.Disable())
            foreach (var (target, src) in pairs) target.CopyFrom(src);
    }

    /// <summary>A one-line-per-module summary, indented by depth.</summary>
    public override string ToString() => Describe(0, "");

    private string Describe(int depth, string name)
    {
        DiscoverMembers();
        string pad = new(' ', depth * 2);
        string head = pad + (name.Length > 0 ? name + ": " : "") + ExtraRepr();
        if (_modules.Count == 0) return head;
        var lines = new List<string> { head };
        foreach (var (childName, child) in _modules) lines.Add(child.Describe(depth + 1, childName));
        return string.Join("\n", lines);
    }

    /// <summary>Short description of this module's configuration, e.g. "Linear(784 → 512)".</summary>
    protected virtual string ExtraRepr() => GetType().Name;
}
