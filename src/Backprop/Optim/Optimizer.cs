using System.Globalization;
using Backprop.Autograd;
using Backprop.Memory;
using Backprop.NN;
using Backprop.Tensors;

namespace Backprop.Optim;

/// <summary>
/// Base of all optimizers: parameter groups, per-parameter state tensors, zero-grad, and a
/// state dict for checkpoints. Subclasses implement the update rule in <see cref="Update"/>.
/// </summary>
public abstract class Optimizer
{
    private readonly List<ParamGroup> _groups;
    private readonly Dictionary<Parameter, Dictionary<string, Tensor>> _state = new(ReferenceEqualityComparer.Instance);

    /// <summary>Builds the optimizer over parameter groups, filling unset hyperparameters with defaults.</summary>
    /// <exception cref="ArgumentException">No parameters, a parameter in two groups, or a negative learning rate.</exception>
    protected Optimizer(IEnumerable<ParamGroup> groups, double learningRate, double weightDecay)
    {
        _groups = [.. groups];
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        int count = 0;
        foreach (ParamGroup g in _groups)
        {
            g.LearningRate = g.LearningRateOverride ?? learningRate;
            g.InitialLearningRate = g.LearningRate;
            g.WeightDecay = g.WeightDecayOverride ?? weightDecay;
            if (!(g.LearningRate >= 0) || double.IsInfinity(g.LearningRate))
                throw new ArgumentException($"{GetType().Name}: invalid learning rate {g.LearningRate}");
            if (!(g.WeightDecay >= 0))
                throw new ArgumentException($"{GetType().Name}: invalid weight decay {g.WeightDecay}");
            foreach (Parameter p in g.Parameters)
            {
                if (!seen.Add(p))
                    throw new ArgumentException($"{GetType().Name}: a parameter of shape {p.Shape} appears in more than one group");
                count++;
            }
        }
        if (count == 0)
            throw new ArgumentException($"{GetType().Name}: got an empty parameter list");
    }

    /// <summary>One group holding all <paramref name="parameters"/>.</summary>
    protected static IEnumerable<ParamGroup> SingleGroup(IEnumerable<Parameter> parameters) => [new ParamGroup(parameters)];

    /// <summary>The parameter groups.</summary>
    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <summary>Applies one update to every parameter that has a gradient (runs without recording a graph).</summary>
    public void Step()
    {
        using var _ = GradMode.Disable();
        foreach (ParamGroup group in _groups)
            foreach (Parameter p in group.Parameters)
            {
                if (p.Grad is not Tensor grad) continue;
                if (grad.Shape != p.Shape || grad.DType != p.DType)
                    throw new InvalidOperationException($"{GetType().Name}.Step: gradient of shape {grad.Shape} {grad.DType.Name()} does not match parameter {p.Shape} {p.DType.Name()}");
                if (!_state.TryGetValue(p, out var state))
                    _state[p] = state = [];
                Update(group, p, grad.Contiguous(), state);
                p.Data.BumpVersion();
            }
    }

    /// <summary>Updates one parameter in place given its contiguous gradient and its state tensors.</summary>
    protected abstract void Update(ParamGroup group, Parameter p, Tensor grad, Dictionary<string, Tensor> state);

    /// <summary>A state tensor, created as zeros (same shape and dtype as p) on first use.</summary>
    protected static Tensor StateTensor(Dictionary<string, Tensor> state, string key, Parameter p, double initial = 0)
    {
        if (!state.TryGetValue(key, out Tensor? t))
            state[key] = t = Ownership.Escape(Tensor.Full(p.Shape, initial, p.DType)); // outlives the step's TensorScope
        return t;
    }

    /// <summary>Increments and returns the per-parameter step counter.</summary>
    protected static long NextStep(Dictionary<string, Tensor> state)
    {
        long step = state.TryGetValue("step", out Tensor? s) ? (long)s.Item() + 1 : 1;
        state["step"] = Tensor.Scalar(step, DType.Float64);
        return step;
    }

    /// <summary>Clears the gradients of all parameters (set to null by default).</summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (ParamGroup g in _groups)
            foreach (Parameter p in g.Parameters)
            {
                if (setToNone || p.Grad is null) p.Data.DropGrad();
                else using (GradMode.Disable()) p.Grad.ZeroInPlace();
            }
    }

    /// <summary>
    /// Hyperparameters and per-parameter state as named tensors: "param_groups.{g}.lr",
    /// "param_groups.{g}.weight_decay", "state.{i}.{key}" where i counts parameters across groups.
    /// </summary>
    public List<KeyValuePair<string, Tensor>> StateDict()
    {
        var result = new List<KeyValuePair<string, Tensor>>();
        int index = 0;
        for (int g = 0; g < _groups.Count; g++)
        {
            result.Add(new($"param_groups.{g}.lr", Tensor.Scalar(_groups[g].LearningRate, DType.Float64)));
            result.Add(new($"param_groups.{g}.initial_lr", Tensor.Scalar(_groups[g].InitialLearningRate, DType.Float64)));
            result.Add(new($"param_groups.{g}.weight_decay", Tensor.Scalar(_groups[g].WeightDecay, DType.Float64)));
            foreach (Parameter p in _groups[g].Parameters)
            {
                if (_state.TryGetValue(p, out var state))
                    foreach (var (key, t) in state)
                        result.Add(new($"state.{index}.{key}", t.Clone()));
                index++;
            }
        }
        return result;
    }

    /// <summary>Restores a state produced by <see cref="StateDict"/> for the same parameter layout.</summary>
    /// <exception cref="ArgumentException">Group count, parameter index or state shapes do not match.</exception>
    public void LoadStateDict(IEnumerable<KeyValuePair<string, Tensor>> stateDict)
    {
        var byIndex = new List<Parameter>();
        foreach (ParamGroup g in _groups) byIndex.AddRange(g.Parameters);
        var newState = new Dictionary<Parameter, Dictionary<string, Tensor>>(ReferenceEqualityComparer.Instance);
        var groupValues = new List<(ParamGroup Group, string Key, double Value)>();
        foreach (var (name, t) in stateDict)
        {
            string[] parts = name.Split('.', 3);
            if (parts.Length == 3 && parts[0] == "param_groups" && int.TryParse(parts[1], CultureInfo.InvariantCulture, out int gi))
            {
                if (gi < 0 || gi >= _groups.Count)
                    throw new ArgumentException($"{GetType().Name}.LoadStateDict: '{name}' refers to group {gi}, but the optimizer has {_groups.Count} groups");
                groupValues.Add((_groups[gi], parts[2], t.Item()));
            }
            else if (parts.Length == 3 && parts[0] == "state" && int.TryParse(parts[1], CultureInfo.InvariantCulture, out int pi))
            {
                if (pi < 0 || pi >= byIndex.Count)
                    throw new ArgumentException($"{GetType().Name}.LoadStateDict: '{name}' refers to parameter {pi}, but the optimizer has {byIndex.Count} parameters");
                Parameter p = byIndex[pi];
                if (parts[2] != "step" && t.Shape != p.Shape)
                    throw new ArgumentException($"{GetType().Name}.LoadStateDict: '{name}' has shape {t.Shape}, parameter {pi} has shape {p.Shape}");
                if (!newState.TryGetValue(p, out var s)) newState[p] = s = [];
                s[parts[2]] = Ownership.Escape(parts[2] == "step" ? t.Clone() : t.To(p.DType).Clone());
            }
            else
                throw new ArgumentException($"{GetType().Name}.LoadStateDict: unexpected entry '{name}'");
        }
        foreach (var (group, key, value) in groupValues)
        {
            switch (key)
            {
                case "lr": group.LearningRate = value; break;
                case "initial_lr": group.InitialLearningRate = value; break;
                case "weight_decay": group.WeightDecay = value; break;
            }
        }
        _state.Clear();
        foreach (var kv in newState) _state[kv.Key] = kv.Value;
    }
}
