namespace Backprop.Tensors;

/// <summary>
/// The state every generator had just before its first draw inside a region of code (a checkpointed
/// function's forward), so that the region's random ops can be replayed exactly later (its recompute
/// during backward). The library's random ops resolve their generator through <see cref="Generator.Use"/>,
/// which reports it to every region open on the thread; regions nest.
/// </summary>
internal sealed class GeneratorStates
{
    [ThreadStatic] private static GeneratorStates? t_open;

    private readonly GeneratorStates? _enclosing;
    private List<(Generator Generator, ulong[] State)>? _states;
    private bool _ended;

    private GeneratorStates(GeneratorStates? enclosing) => _enclosing = enclosing;

    /// <summary>Starts recording on the calling thread; call <see cref="End"/> on the same thread, innermost first.</summary>
    public static GeneratorStates Begin() => t_open = new GeneratorStates(t_open);

    /// <summary>Stops recording (idempotent).</summary>
    public void End()
    {
        if (_ended) return;
        _ended = true;
        t_open = _enclosing;
    }

    /// <summary>Whether any generator was drawn from while recording.</summary>
    public bool IsEmpty => _states is null;

    /// <summary>Records <paramref name="generator"/>'s state in every open region that has not seen it yet.</summary>
    internal static void Touch(Generator generator)
    {
        for (GeneratorStates? r = t_open; r is not null; r = r._enclosing)
            r.Record(generator);
    }

    private void Record(Generator generator)
    {
        if (_states is { } states)
            foreach (var (g, _) in states)
                if (ReferenceEquals(g, generator)) return;
        (_states ??= []).Add((generator, generator.GetState()));
    }

    /// <summary>
    /// Exchanges each recorded generator's state with its current one: called once before the replay
    /// (the generators then draw what they drew while recording) and once after it (they continue where
    /// they were, as if the replay never drew), which leaves the record as it was for another replay.
    /// </summary>
    public void Swap()
    {
        if (_states is not { } states) return;
        for (int i = 0; i < states.Count; i++)
        {
            var (g, saved) = states[i];
            ulong[] current = g.GetState();
            g.SetState(saved);
            states[i] = (g, current);
        }
    }
}
