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

    /// <summary>
    /// A state tensor, created filled with <paramref name="initial"/> (same shape and dtype as p) on first use.
    /// State made before the parameter changed dtype (<see cref="Module.To"/> after the optimizer was built) is
    /// converted to the parameter's new dtype here, so the next step continues from the same values.
    /// </summary>
    protected static Tensor StateTensor(Dictionary<string, Tensor> state, string key, Parameter p, double initial = 0)
    {
        if (!state.TryGetValue(key, out Tensor? t))
            state[key] = t = Ownership.Escape(Tensor.Full(p.Shape, initial, p.DType)); // outlives the step's TensorScope
        else if (t.DType != p.DType)
            state[key] = t = Ownership.Escape(t.To(p.DType).Contiguous());
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
    /// "param_groups.{g}.initial_lr", "param_groups.{g}.weight_decay" (float64 scalars) and
    /// "state.{i}.{key}" (copies) where i counts parameters across groups.
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

    /// <summary>
    /// Restores a state produced by <see cref="StateDict"/> for the same parameter layout. The whole state
    /// is checked before anything changes, so a refused state leaves the optimizer exactly as it was.
    /// </summary>
    /// <remarks>
    /// Every group needs "lr", "initial_lr" and "weight_decay": float64 scalars, finite and ≥ 0. A
    /// parameter's state is absent (never stepped) or holds exactly the entries this optimizer keeps
    /// under its options (<see cref="StateKeys"/>): "step" a float64 scalar holding a whole number in
    /// [0, 2^53], every other entry a tensor of the parameter's shape and dtype with finite values
    /// (≥ 0 for second moments and sums). Names must be canonical and appear once.
    /// </remarks>
    /// <exception cref="ArgumentException">Any entry is missing, unexpected, repeated or ill-typed (wrong dtype, shape,
    /// or value); the message names the entries and what was expected.</exception>
    public void LoadStateDict(IEnumerable<KeyValuePair<string, Tensor>> stateDict) => CommitState(PrepareState(stateDict));

    /// <summary>A checked state from <see cref="PrepareState"/>, ready for <see cref="CommitState"/>.</summary>
    internal sealed class PreparedState(double[] groupValues, Dictionary<Parameter, Dictionary<string, Tensor>> state)
    {
        /// <summary>lr, initial_lr and weight_decay of every group, in that order.</summary>
        public double[] GroupValues { get; } = groupValues;

        /// <summary>The per-parameter state tensors, already copied.</summary>
        public Dictionary<Parameter, Dictionary<string, Tensor>> State { get; } = state;
    }

    private static readonly string[] GroupKeys = ["lr", "initial_lr", "weight_decay"];

    /// <summary>Step counters are stored as doubles; beyond 2^53 they would no longer count exactly.</summary>
    private const double MaxStep = 9007199254740992d;

    /// <summary>Checks a whole state dict and builds the new state aside, changing nothing (see <see cref="LoadStateDict"/>).</summary>
    /// <exception cref="ArgumentException">The state does not fit; the message lists the problems.</exception>
    internal PreparedState PrepareState(IEnumerable<KeyValuePair<string, Tensor>> stateDict)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var byIndex = new List<Parameter>();
        foreach (ParamGroup g in _groups) byIndex.AddRange(g.Parameters);
        var groupValues = new double[_groups.Count * GroupKeys.Length];
        var groupSeen = new bool[groupValues.Length];
        var newState = new Dictionary<Parameter, Dictionary<string, Tensor>>(ReferenceEqualityComparer.Instance);
        var present = new Dictionary<int, HashSet<string>>(); // state keys given per parameter index, refused ones too
        var names = new HashSet<string>(StringComparer.Ordinal);
        string[]? keys = StateKeys;
        var problems = new List<string>();

        foreach (var (name, t) in stateDict)
        {
            if (name is null || t is null)
            {
                problems.Add($"a null entry ('{name}')");
                continue;
            }
            if (!names.Add(name))
            {
                problems.Add($"'{name}' appears more than once");
                continue;
            }
            string[] parts = name.Split('.', 3);
            if (parts.Length == 3 && parts[0] == "param_groups" && TryIndex(parts[1], out int gi))
            {
                int k = Array.IndexOf(GroupKeys, parts[2]);
                if (gi >= _groups.Count)
                    problems.Add($"'{name}' refers to group {gi}, but the optimizer has {_groups.Count} groups");
                else if (k < 0)
                    problems.Add($"unexpected entry '{name}' (a group holds {string.Join(", ", GroupKeys)})");
                else
                {
                    groupSeen[gi * GroupKeys.Length + k] = true;
                    if (HyperparameterProblem(t) is string problem) problems.Add($"'{name}' {problem}");
                    else groupValues[gi * GroupKeys.Length + k] = t.Item();
                }
            }
            else if (parts.Length == 3 && parts[0] == "state" && TryIndex(parts[1], out int pi))
            {
                if (pi >= byIndex.Count)
                {
                    problems.Add($"'{name}' refers to parameter {pi}, but the optimizer has {byIndex.Count} parameters");
                    continue;
                }
                Parameter p = byIndex[pi];
                string key = parts[2];
                if (keys is not null && Array.IndexOf(keys, key) < 0)
                {
                    problems.Add($"unexpected entry '{name}' ({ExpectedKeys(keys)})");
                    continue;
                }
                if (!present.TryGetValue(pi, out var given)) present[pi] = given = new HashSet<string>(StringComparer.Ordinal);
                given.Add(key);
                if ((key == "step" ? StepProblem(t) : StateTensorProblem(t, p, pi, IsNonNegativeState(key))) is string problem)
                {
                    problems.Add($"'{name}' {problem}");
                    continue;
                }
                if (!newState.TryGetValue(p, out var s)) newState[p] = s = [];
                s[key] = Ownership.Escape(t.Clone()); // outlives any TensorScope, like the state Step creates
            }
            else
                problems.Add($"unexpected entry '{name}' (expected param_groups.<group>.<{string.Join("|", GroupKeys)}> or state.<parameter>.<key>)");
        }

        for (int i = 0; i < groupSeen.Length; i++)
            if (!groupSeen[i])
                problems.Add($"missing 'param_groups.{i / GroupKeys.Length}.{GroupKeys[i % GroupKeys.Length]}' (a float64 scalar)");
        if (keys is not null)
            foreach (var (pi, given) in present.OrderBy(kv => kv.Key))
                foreach (string key in keys)
                    if (!given.Contains(key))
                        problems.Add($"missing 'state.{pi}.{key}' (parameter {pi} has state, and {GetType().Name} keeps {string.Join(", ", keys)})");

        if (problems.Count > 0)
        {
            const int shown = 6;
            string more = problems.Count > shown ? $"; and {problems.Count - shown} more" : "";
            throw new ArgumentException($"{GetType().Name}.LoadStateDict: the state does not fit: {string.Join("; ", problems.Take(shown))}{more}");
        }
        return new PreparedState(groupValues, newState);
    }

    /// <summary>Installs a state checked by <see cref="PrepareState"/>; it cannot fail.</summary>
    internal void CommitState(PreparedState prepared)
    {
        for (int g = 0; g < _groups.Count; g++)
        {
            _groups[g].LearningRate = prepared.GroupValues[g * GroupKeys.Length];
            _groups[g].InitialLearningRate = prepared.GroupValues[g * GroupKeys.Length + 1];
            _groups[g].WeightDecay = prepared.GroupValues[g * GroupKeys.Length + 2];
        }
        _state.Clear();
        foreach (var kv in prepared.State) _state[kv.Key] = kv.Value;
    }

    /// <summary>
    /// The state entries a parameter holds once stepped, under this optimizer's options; a loaded state must
    /// hold exactly these for every stepped parameter. Null (the default, for optimizers that do not declare
    /// them) accepts any entry of the parameter's shape and dtype.
    /// </summary>
    protected virtual string[]? StateKeys => null;

    /// <summary>Whether the state entry <paramref name="key"/> can never be negative (a second moment or a sum of squares); checked on load.</summary>
    protected virtual bool IsNonNegativeState(string key) => false;

    private static string ExpectedKeys(string[] keys) => keys.Length == 0 ? "this optimizer keeps no state under its options" : "expected " + string.Join(", ", keys);

    /// <summary>A canonical non-negative index: digits only, no sign, no leading zeros, so each entry has one name.</summary>
    private static bool TryIndex(string text, out int index)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out index)
           && text == index.ToString(CultureInfo.InvariantCulture);

    private static string? HyperparameterProblem(Tensor t)
    {
        if (t.DType != DType.Float64 || t.Rank != 0)
            return $"is {t.DType.Name()} {t.Shape}, expected a float64 scalar";
        double v = t.Item();
        return double.IsFinite(v) && v >= 0 ? null : $"= {v.ToString(CultureInfo.InvariantCulture)}, expected a finite value ≥ 0";
    }

    private static string? StepProblem(Tensor t)
    {
        if (t.DType != DType.Float64 || t.Rank != 0)
            return $"is {t.DType.Name()} {t.Shape}, expected a float64 scalar step count";
        double v = t.Item();
        return v >= 0 && v <= MaxStep && Math.Floor(v) == v ? null
            : $"= {v.ToString("R", CultureInfo.InvariantCulture)}, expected a whole number of steps in [0, 2^53]";
    }

    private static string? StateTensorProblem(Tensor t, Parameter p, int index, bool nonNegative)
    {
        if (t.Shape != p.Shape || t.DType != p.DType)
            return $"is {t.DType.Name()} {t.Shape}, expected {p.DType.Name()} {p.Shape} like parameter {index}";
        double[] values = t.ToDoubleArray();
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
                return $"holds {values[i].ToString(CultureInfo.InvariantCulture)} at element {i}, expected finite values";
            if (nonNegative && values[i] < 0)
                return $"holds {values[i].ToString("R", CultureInfo.InvariantCulture)} at element {i}, expected values ≥ 0";
        }
        return null;
    }
}
