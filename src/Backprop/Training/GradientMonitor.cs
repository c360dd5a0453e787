using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using Backprop.Kernels.Reduce;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;

namespace Backprop.Training;

/// <summary>
/// Watches the health of a model's gradients while it trains: every <see cref="Interval"/> steps (and at
/// step 1) it records, per layer (a module that owns parameters), the gradient norm after backward, the
/// weight norm, the update-to-weight ratio ‖Δw‖/‖w‖ of the optimizer step, and the fraction of dead ReLU
/// units (zero for the whole batch) in the output the layer feeds; and it raises one <see cref="Warning"/>
/// when a layer's gradient norm vanishes or explodes.
/// </summary>
/// <remarks>
/// <para>Use it from a <see cref="Trainer"/> (<c>trainer.Monitor = new GradientMonitor(model)</c>), or from
/// your own loop: <see cref="BeginStep"/> before the forward, <see cref="RecordGradients"/> after backward
/// (before clipping), <see cref="EndStep"/> after the optimizer step.</para>
/// <para>Cost: steps that are not recorded cost a comparison per call and per ReLU module (its forward hook
/// returns at once); nothing is allocated. A recorded step reads every gradient and weight once with SIMD
/// sums of squares carried in double, copies the weights once (into buffers allocated at the first record)
/// and reads each ReLU output once. <see cref="Elapsed"/> says how long all of it took.</para>
/// <para>Dead units are measured by forward hooks (<see cref="Module.RegisterForwardHook"/>) on the ReLU
/// modules: <see cref="Relu"/> (counted for the layer before it among its siblings, e.g. the Linear before it
/// in a Sequential), <see cref="LinearRelu"/> and <see cref="Conv2dReluMaxPool2d"/> (counted for themselves).
/// A unit is a channel of a 4-D output [N, C, H, W] and a feature (last dimension) otherwise; it is dead when
/// it is zero for every example (and position). A ReLU applied as a function inside another module's forward
/// is not seen.</para>
/// <para>Vanishing: a layer's gradient norm below <see cref="VanishingNorm"/>, or below
/// <see cref="VanishingRatio"/> × the largest layer's norm at the same step, for <see cref="Patience"/> records
/// in a row. Exploding: a norm above <see cref="ExplodingNorm"/> or not finite, or more than
/// <see cref="ExplodingGrowth"/> × the smallest of its previous <see cref="Patience"/> records. Only the first
/// problem is reported (exploding is checked first, since one huge layer makes the others look small).</para>
/// </remarks>
public sealed class GradientMonitor : IDisposable
{
    /// <summary>The default number of steps between records.</summary>
    public const int DefaultInterval = 10;

    private readonly Group[] _groups;
    private readonly List<IDisposable> _hooks = [];
    private readonly List<GradientRecord> _records = [];
    private bool _armed;         // the current step is recorded: ReLU hooks measure
    private bool _gradientsRead; // RecordGradients ran for the current step
    private long _step;
    private long _ticks;

    /// <summary>Creates the monitor and hooks the model's ReLU modules.</summary>
    /// <param name="model">The model to watch.</param>
    /// <param name="interval">Record every this many steps (and at step 1).</param>
    /// <param name="perParameter">One record per parameter ("0.weight", "0.bias") instead of per layer.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interval"/> is less than 1.</exception>
    public GradientMonitor(Module model, int interval = DefaultInterval, bool perParameter = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, 1);
        Model = model;
        Interval = interval;
        var groups = new List<Group>();
        var owned = new Dictionary<Module, List<Group>>(ReferenceEqualityComparer.Instance);
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        var names = new List<(Module Module, string Name)>();
        CollectNames(model, "", names, new HashSet<Module>(ReferenceEqualityComparer.Instance));
        foreach (var (module, name) in names)
        {
            var own = new List<(string Name, Parameter P)>();
            foreach (var (pname, p) in module.NamedParameters())
                if (!pname.Contains('.') && seen.Add(p)) own.Add((pname, p));
            if (own.Count == 0) continue;
            string type = module.GetType().Name;
            var mine = new List<Group>();
            if (perParameter)
                foreach (var (pname, p) in own) mine.Add(new Group(Join(name, pname), type, [p]));
            else
                mine.Add(new Group(name.Length == 0 ? "(model)" : name, type, [.. own.Select(o => o.P)]));
            groups.AddRange(mine);
            owned[module] = mine;
        }
        // Dead-unit probes, in module order.
        foreach (var (module, name) in names)
        {
            if (module is LinearRelu or Conv2dReluMaxPool2d && owned.TryGetValue(module, out var self))
                AddProbe(module, [.. self]);
            var children = module.NamedChildren().ToList();
            for (int i = 0; i < children.Count; i++)
            {
                if (children[i].Value is not Relu relu) continue;
                Group[]? target = null;
                for (int j = i - 1; j >= 0 && target is null; j--)
                    foreach (Module m in children[j].Value.Modules())
                        if (owned.TryGetValue(m, out var g)) target = [.. g]; // the last module with parameters in that sibling
                if (target is null)
                {
                    var lone = new Group(Join(name, children[i].Key), nameof(Relu), []);
                    groups.Add(lone);
                    target = [lone];
                }
                AddProbe(relu, target);
            }
        }
        _groups = [.. groups];
        Layers = [.. _groups.Select(g => g.Name)];
    }

    /// <summary>The model watched.</summary>
    public Module Model { get; }

    /// <summary>Steps between records.</summary>
    public int Interval { get; }

    /// <summary>The layers recorded, in model order (their names as in <see cref="GradientRecord.Layer"/>).</summary>
    public IReadOnlyList<string> Layers { get; }

    /// <summary>Every record so far, step by step, each step's layers in model order.</summary>
    public IReadOnlyList<GradientRecord> Records => _records;

    /// <summary>Raised after each recorded step with that step's records (one per layer).</summary>
    public event Action<IReadOnlyList<GradientRecord>>? Recorded;

    /// <summary>Raised once, the first time a layer's gradients vanish or explode.</summary>
    public event Action<GradientWarning>? Warning;

    /// <summary>The warning raised, or null while gradients look healthy.</summary>
    public GradientWarning? FirstWarning { get; private set; }

    /// <summary>Absolute gradient norm below which a layer counts as vanishing (1e-7).</summary>
    public double VanishingNorm { get; init; } = 1e-7;

    /// <summary>Fraction of the largest layer's gradient norm below which a layer counts as vanishing (1e-4).</summary>
    public double VanishingRatio { get; init; } = 1e-4;

    /// <summary>Gradient norm above which a layer counts as exploding (1e3).</summary>
    public double ExplodingNorm { get; init; } = 1e3;

    /// <summary>Growth over the smallest of the previous <see cref="Patience"/> records above which a layer counts as exploding (100).</summary>
    public double ExplodingGrowth { get; init; } = 100;

    /// <summary>Records in a row a layer must vanish for, and the window its growth is measured over (3).</summary>
    public int Patience { get; init; } = 3;

    /// <summary>Time spent measuring (norms, copies, dead units and checks), for judging the monitor's cost.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, _ticks);

    /// <summary>Whether step <paramref name="step"/> (1 for the first) is recorded: step 1 and every multiple of <see cref="Interval"/>.</summary>
    public bool IsRecorded(long step) => step == 1 || step % Interval == 0;

    /// <summary>Starts step <paramref name="step"/> (1 for the first): on a recorded step, the ReLU hooks measure the coming forward.</summary>
    public void BeginStep(long step)
    {
        _step = step;
        _armed = IsRecorded(step);
        _gradientsRead = false;
    }

    /// <summary>
    /// On a recorded step, after backward and before clipping and the optimizer step: reads the gradient
    /// and weight norms and keeps a copy of the weights. Stops the dead-unit measurement.
    /// </summary>
    public void RecordGradients()
    {
        if (!_armed) return;
        _armed = false;
        long start = Stopwatch.GetTimestamp();
        foreach (Group g in _groups) g.ReadGradients();
        _gradientsRead = true;
        _ticks += Stopwatch.GetTimestamp() - start;
    }

    /// <summary>On a recorded step, after the optimizer step: measures the update, stores the step's records, raises <see cref="Recorded"/> and checks for a problem.</summary>
    public void EndStep()
    {
        if (!_gradientsRead) return;
        _gradientsRead = false;
        long start = Stopwatch.GetTimestamp();
        var step = new GradientRecord[_groups.Length];
        for (int i = 0; i < _groups.Length; i++)
        {
            Group g = _groups[i];
            double weight = Math.Sqrt(g.WeightSquares);
            double update = g.Parameters.Length == 0 ? double.NaN : Math.Sqrt(g.UpdateSquares()) / weight;
            step[i] = new GradientRecord(_step, g.Name, g.HasGradient ? Math.Sqrt(g.GradSquares) : double.NaN,
                                         g.Parameters.Length == 0 ? double.NaN : weight, update, g.DeadFraction);
            g.DeadFraction = double.NaN;
        }
        _records.AddRange(step);
        GradientWarning? warning = FirstWarning is null ? Check(step) : null;
        _ticks += Stopwatch.GetTimestamp() - start;
        Recorded?.Invoke(step);
        if (warning is not null)
        {
            FirstWarning = warning;
            Warning?.Invoke(warning);
        }
    }

    /// <summary>Removes the monitor's hooks from the model.</summary>
    public void Dispose()
    {
        foreach (IDisposable h in _hooks) h.Dispose();
        _hooks.Clear();
    }

    /// <summary>The first problem in one step's records, updating each layer's history.</summary>
    private GradientWarning? Check(GradientRecord[] step)
    {
        double largest = 0;
        string largestLayer = "";
        foreach (GradientRecord r in step)
            if (double.IsFinite(r.GradNorm) && r.GradNorm > largest) (largest, largestLayer) = (r.GradNorm, r.Layer);
        GradientWarning? found = null;
        for (int i = 0; i < step.Length && found is null; i++)
        {
            Group g = _groups[i];
            double n = step[i].GradNorm;
            if (!g.HasGradient) continue;
            if (!double.IsFinite(n) || n > ExplodingNorm)
                found = Exploding(g, n, $"has a gradient norm of {N(n)} at step {_step}");
            else if (g.History.Count > 0)
            {
                (long at, double low) = g.History.MinBy(h => h.Norm);
                if (low > 0 && n > ExplodingGrowth * low)
                    found = Exploding(g, n, $"has a gradient norm of {N(n)} at step {_step}, {N(n / low)}× its {N(low)} at step {at}");
            }
        }
        var vanishing = new List<Group>();
        for (int i = 0; i < step.Length; i++)
        {
            Group g = _groups[i];
            double n = step[i].GradNorm;
            if (!g.HasGradient) continue;
            bool small = n < VanishingNorm || n < VanishingRatio * largest;
            g.VanishingRun = small ? g.VanishingRun + 1 : 0;
            if (g.VanishingRun >= Patience) vanishing.Add(g);
            g.History.Enqueue((_step, n));
            while (g.History.Count > Patience) g.History.Dequeue();
        }
        if (found is not null || vanishing.Count == 0) return found;
        Group first = vanishing[0];
        double norm = first.History.Last().Norm;
        string more = vanishing.Count == 1 ? "" : $" (and {vanishing.Count - 1} more layer{(vanishing.Count == 2 ? "" : "s")})";
        string relative = largest > 0 ? $", {N(norm / largest)} of the largest layer's ('{largestLayer}', {N(largest)})" : "";
        return new GradientWarning(GradientProblem.Vanishing, first.Name, _step, norm,
            $"Vanishing gradients: layer '{first.Name}' ({first.Type}){more} has had a gradient norm of {N(norm)}{relative} for the last {Patience} records (to step {_step}); the layers before it barely learn.",
            "Remedies: ReLU-family activations with He (Kaiming) initialisation, normalisation layers (BatchNorm, LayerNorm), residual connections.");
    }

    private GradientWarning Exploding(Group g, double norm, string what) => new(GradientProblem.Exploding, g.Name, _step, norm,
        $"Exploding gradients: layer '{g.Name}' ({g.Type}) {what}.",
        "Remedies: clip the gradient norm (Trainer.MaxGradNorm, GradClip.ClipGradNorm), lower the learning rate, or initialise with smaller weights.");

    private static string N(double x) => x.ToString("G3", CultureInfo.InvariantCulture);

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    private static void CollectNames(Module m, string name, List<(Module, string)> names, HashSet<Module> seen)
    {
        if (!seen.Add(m)) return;
        names.Add((m, name));
        foreach (var (child, module) in m.NamedChildren()) CollectNames(module, Join(name, child), names, seen);
    }

    private void AddProbe(Module module, Group[] targets)
    {
        var probe = new DeadUnitProbe(targets);
        _hooks.Add(module.RegisterForwardHook((_, _, y) =>
        {
            if (_armed) Measure(probe, y);
            return null;
        }));
    }

    private void Measure(DeadUnitProbe probe, Tensor y)
    {
        if (!y.DType.IsFloatingPoint() || y.Numel == 0) return;
        long start = Stopwatch.GetTimestamp();
        Tensor t = y.IsContiguous ? y : y.Detach().Contiguous();
        bool channels = t.Rank == 4;
        int units = t.Rank == 0 ? 1 : channels ? t.Shape[1] : t.Shape[t.Rank - 1];
        int inner = channels ? t.Shape[2] * t.Shape[3] : 1;
        int rows = units == 0 ? 0 : t.Numel / (units * inner);
        int dead = DTypeSwitch.Float<DeadCount, int>(t.DType, new DeadCount(t, rows, units, inner, channels, probe));
        double fraction = units == 0 ? double.NaN : (double)dead / units;
        foreach (Group g in probe.Targets) g.DeadFraction = fraction;
        _ticks += Stopwatch.GetTimestamp() - start;
    }

    /// <summary>A layer's parameters, the norms of the recorded step and the history the checks need.</summary>
    private sealed class Group(string name, string type, Parameter[] parameters)
    {
        private readonly Array?[] _snapshots = new Array?[parameters.Length];

        public string Name { get; } = name;
        public string Type { get; } = type;
        public Parameter[] Parameters { get; } = parameters;
        public double GradSquares { get; private set; }
        public double WeightSquares { get; private set; }
        public bool HasGradient { get; private set; }
        public double DeadFraction { get; set; } = double.NaN;
        public int VanishingRun { get; set; }
        public Queue<(long Step, double Norm)> History { get; } = new();

        public void ReadGradients()
        {
            double grads = 0, weights = 0;
            bool any = false;
            for (int i = 0; i < Parameters.Length; i++)
            {
                Tensor w = Parameters[i].Data;
                if (Parameters[i].Grad is { } g)
                {
                    any = true;
                    grads += DTypeSwitch.Float<SquaredNorm, double>(g.DType, new SquaredNorm(g.IsContiguous ? g : g.Contiguous()));
                }
                weights += DTypeSwitch.Float<SquaredNorm, double>(w.DType, new SquaredNorm(w));
                DTypeSwitch.Float(w.DType, new Snapshot(w, _snapshots, i));
            }
            (GradSquares, WeightSquares, HasGradient) = (grads, weights, any);
        }

        public double UpdateSquares()
        {
            double sum = 0;
            for (int i = 0; i < Parameters.Length; i++)
                sum += DTypeSwitch.Float<UpdateNorm, double>(Parameters[i].DType, new UpdateNorm(Parameters[i].Data, _snapshots[i]!));
            return sum;
        }
    }

    private sealed class DeadUnitProbe(Group[] targets)
    {
        public Group[] Targets { get; } = targets;
        public Array? Scratch { get; set; }
    }

    private readonly struct SquaredNorm(Tensor t) : IFloatFunc<double>
    {
        public double Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => SquaredNormKernel.SumOfSquares(t.ReadOnlyElements<T>());
    }

    /// <summary>Copies a parameter's values into its snapshot buffer (made at the first record, reused after).</summary>
    private readonly struct Snapshot(Tensor w, Array?[] snapshots, int index) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            if (snapshots[index] is not T[] copy || copy.Length != w.Numel)
                snapshots[index] = copy = new T[w.Numel];
            w.ReadOnlyElements<T>().CopyTo(copy);
        }
    }

    private readonly struct UpdateNorm(Tensor w, Array snapshot) : IFloatFunc<double>
    {
        public double Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => SquaredNormKernel.SquaredDistance(w.ReadOnlyElements<T>(), (T[])snapshot);
    }

    private readonly struct DeadCount(Tensor y, int rows, int units, int inner, bool channels, DeadUnitProbe probe) : IFloatFunc<int>
    {
        public int Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> values = y.ReadOnlyElements<T>();
            if (channels) return DeadUnitsKernel.DeadChannels(values, rows, units, inner);
            if (probe.Scratch is not T[] scratch || scratch.Length < units)
                probe.Scratch = scratch = new T[units];
            return DeadUnitsKernel.DeadColumns(values, rows, units, scratch);
        }
    }
}
