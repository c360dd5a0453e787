namespace Backprop.Ops.Loss;

/// <summary>
/// Warnings the losses give as PyTorch's <c>warnings.warn</c> does (a UserWarning shown once): each message
/// is written once per process to <see cref="Console.Error"/>. A thread can capture its own warnings instead
/// (tests), each again once per capture.
/// </summary>
internal static class LossWarnings
{
    private static readonly HashSet<string> s_given = [];
    [ThreadStatic] private static TextWriter? t_sink;
    [ThreadStatic] private static HashSet<string>? t_given;

    /// <summary>Writes <paramref name="message"/> the first time it is given (per process, or per capture on a capturing thread).</summary>
    public static void Once(string message)
    {
        if (t_sink is not null)
        {
            if (t_given!.Add(message)) t_sink.WriteLine("warning: " + message);
            return;
        }
        lock (s_given)
            if (!s_given.Add(message)) return;
        Console.Error.WriteLine("warning: " + message);
    }

    /// <summary>Sends this thread's warnings to <paramref name="sink"/> (null: back to standard error), with none given yet.</summary>
    internal static void Capture(TextWriter? sink)
    {
        t_sink = sink;
        t_given = sink is null ? null : [];
    }
}
