namespace Backprop.Diagnostics;

/// <summary>A warning the library gives (PyTorch would call <c>warnings.warn</c>): which part gave it, and the text.</summary>
/// <param name="Source">The op or class that warns, e.g. "KLDiv".</param>
/// <param name="Message">What is wrong and what to do instead.</param>
public sealed record LibraryWarning(string Source, string Message);

/// <summary>
/// Where the library's warnings go. A library writes nothing to the console: each warning is raised once per process
/// for each distinct message, as Python's default warning filter shows a UserWarning once, through <see cref="Issued"/>.
/// Subscribe to show them (an application might write them to standard error or a log); with no subscriber they are
/// dropped. Warnings given before a subscriber existed are not replayed, but stay counted as given.
/// </summary>
/// <example>
/// <code>
/// Warnings.Issued += w =&gt; Console.Error.WriteLine($"warning: {w.Message}");
/// </code>
/// </example>
public static class Warnings
{
    private static readonly HashSet<string> s_given = [];
    [ThreadStatic] private static Action<LibraryWarning>? t_capture;
    [ThreadStatic] private static HashSet<string>? t_given;

    /// <summary>Raised on the thread that warns, the first time each distinct warning is given in the process.</summary>
    public static event Action<LibraryWarning>? Issued;

    /// <summary>Gives a warning: raises <see cref="Issued"/> unless this message was given before (per process, or per capture on a capturing thread).</summary>
    internal static void Once(string source, string message)
    {
        if (t_capture is { } capture)
        {
            if (t_given!.Add(message)) capture(new LibraryWarning(source, message));
            return;
        }
        lock (s_given)
            if (!s_given.Add(message)) return;
        Issued?.Invoke(new LibraryWarning(source, message));
    }

    /// <summary>Sends this thread's warnings to <paramref name="capture"/> instead of <see cref="Issued"/>, with none given yet (null ends the capture). For tests.</summary>
    internal static void Capture(Action<LibraryWarning>? capture)
    {
        t_capture = capture;
        t_given = capture is null ? null : [];
    }
}
