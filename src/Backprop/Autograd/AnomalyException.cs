namespace Backprop.Autograd;

/// <summary>
/// Raised while <see cref="AnomalyMode"/> is on by the first op that produces a NaN or an infinity. The
/// message is one line naming the op, its input shapes and dtypes, the pass (forward or backward), and
/// where in user code the op was created; <see cref="ToString"/> adds the creation stack.
/// </summary>
public sealed class AnomalyException : Exception
{
    internal AnomalyException(string message, string op, string nodeName, bool inBackward, string? createdAt, string? creationTrace,
                              Exception? inner = null)
        : base(message, inner)
    {
        Op = op;
        NodeName = nodeName;
        InBackward = inBackward;
        CreatedAt = createdAt;
        CreationTrace = creationTrace;
    }

    /// <summary>The op as its forward is called, e.g. "Log".</summary>
    public string Op { get; }

    /// <summary>The op's backward node as PyTorch names it (its grad_fn), e.g. "LogBackward".</summary>
    public string NodeName { get; }

    /// <summary>True when the anomaly appeared in a gradient during backward, false when in an op's forward output.</summary>
    public bool InBackward { get; }

    /// <summary>
    /// The first frame outside the Backprop library when the op was recorded, e.g.
    /// "Program.Main() in Program.cs:line 12"; null when the op was recorded while the mode was off.
    /// </summary>
    public string? CreatedAt { get; }

    /// <summary>The frames outside the library when the op was recorded, innermost first, one per line with full paths; null when unknown.</summary>
    public string? CreationTrace { get; }

    /// <summary>The exception with its stack, followed by where the op was created.</summary>
    public override string ToString()
        => CreationTrace is null ? base.ToString()
            : $"{base.ToString()}{Environment.NewLine}The op was created at:{Environment.NewLine}{CreationTrace}";
}
