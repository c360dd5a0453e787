using Backprop.Tensors;

namespace Backprop.Autograd;

/// <summary>
/// Whether ops record a graph for backward on the current thread. Disable it for inference and
/// optimizer updates: no nodes are created and no tensors are saved.
/// </summary>
public static class GradMode
{
    [ThreadStatic] private static bool t_disabled;

    /// <summary>True when ops record the graph (the default).</summary>
    public static bool IsEnabled => !t_disabled;

    /// <summary>Turns recording off until the returned scope is disposed.</summary>
    public static GradModeScope Disable() => Set(false);

    /// <summary>Turns recording on until the returned scope is disposed.</summary>
    public static GradModeScope Enable() => Set(true);

    /// <summary>Sets recording on or off until the returned scope is disposed.</summary>
    public static GradModeScope Set(bool enabled)
    {
        var scope = new GradModeScope(!t_disabled);
        t_disabled = !enabled;
        return scope;
    }

    internal static void Restore(bool enabled) => t_disabled = !enabled;

    /// <summary>
    /// The one test every op makes before recording a node: grad mode is on and at least one
    /// input requires grad. Null inputs (an absent bias, weight, ...) never do.
    /// </summary>
    internal static bool Records(Tensor? a) => !t_disabled && a is not null && a.RequiresGrad;

    /// <inheritdoc cref="Records(Tensor?)"/>
    internal static bool Records(Tensor? a, Tensor? b)
        => !t_disabled && ((a?.RequiresGrad ?? false) || (b?.RequiresGrad ?? false));

    /// <inheritdoc cref="Records(Tensor?)"/>
    internal static bool Records(Tensor? a, Tensor? b, Tensor? c)
        => !t_disabled && ((a?.RequiresGrad ?? false) || (b?.RequiresGrad ?? false) || (c?.RequiresGrad ?? false));

    /// <inheritdoc cref="Records(Tensor?)"/>
    internal static bool Records(IReadOnlyList<Tensor> inputs)
    {
        if (t_disabled) return false;
        for (int i = 0; i < inputs.Count; i++)
            if (inputs[i].RequiresGrad) return true;
        return false;
    }
}

/// <summary>Restores the previous grad mode when disposed.</summary>
public readonly struct GradModeScope(bool previous) : IDisposable
{
    /// <summary>Restores the grad mode that was active when the scope began.</summary>
    public void Dispose() => GradMode.Restore(previous);
}
