namespace Backprop;

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
}

/// <summary>Restores the previous grad mode when disposed.</summary>
public readonly struct GradModeScope(bool previous) : IDisposable
{
    /// <summary>Restores the grad mode that was active when the scope began.</summary>
    public void Dispose() => GradMode.Restore(previous);
}
