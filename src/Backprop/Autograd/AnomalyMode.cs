namespace Backprop.Autograd;

/// <summary>
/// Anomaly detection, PyTorch's <c>torch.autograd.detect_anomaly</c>: while enabled, every recorded op
/// remembers where in user code it was created, and the first NaN or infinity an op produces raises an
/// <see cref="AnomalyException"/> naming the op, its input shapes and dtypes, forward or backward, and
/// that place. It checks more than PyTorch, which looks only at the gradients of the backward pass:
/// <list type="bullet">
/// <item><b>Forward</b>: a recorded op (one whose inputs require grad, with grad mode on) whose output
/// holds a NaN, or an infinity when none of its inputs holds one (so a −∞ attention mask passing
/// through an add is not an anomaly, but log(0) is).</item>
/// <item><b>Backward</b>: a node whose returned gradients hold a NaN or an infinity.</item>
/// </list>
/// </summary>
/// <remarks>
/// <para>The mode follows the flow of control, like an <see cref="AsyncLocal{T}"/>: it is on for the code
/// inside the <c>using</c> block, including code that block awaits and tasks it starts, and off for
/// unrelated threads (so one test or request that enables it does not affect others). The backward
/// runs on the thread that calls <c>Backward()</c>, inside the same flow. Scopes nest: disposing an
/// inner scope keeps the mode on until the outer one is disposed.</para>
/// <para>It is a debugging mode and slow while on (a stack trace per op and a scan of every output and
/// gradient). Off, an op pays one read of a static field and allocates nothing.</para>
/// </remarks>
/// <example>
/// <code>
/// using (AnomalyMode.Enable())
/// {
///     Tensor loss = model.Forward(x).Log().Mean();   // AnomalyException here if Log produces -inf
///     loss.Backward();                               // or here if a gradient becomes NaN
/// }
/// </code>
/// </example>
public static class AnomalyMode
{
    /// <summary>Depth of nested scopes in the current flow; 0 is off.</summary>
    private static readonly AsyncLocal<int> s_depth = new();

    /// <summary>Scopes open anywhere in the process: while 0 (always, unless someone debugs), ops read only this.</summary>
    private static int s_open;

    /// <summary>True while anomaly detection is on in the current flow of control.</summary>
    public static bool IsEnabled => s_depth.Value > 0;

    /// <summary>The test an op makes: one static read while no scope is open anywhere.</summary>
    internal static bool Active => s_open != 0 && s_depth.Value > 0;

    /// <summary>Turns anomaly detection on until the returned scope is disposed (scopes nest).</summary>
    /// <returns>A scope; disposing it restores the previous state (disposing it again does nothing).</returns>
    public static IDisposable Enable()
    {
        int previous = s_depth.Value;
        s_depth.Value = previous + 1;
        Interlocked.Increment(ref s_open);
        return new Scope(previous);
    }

    private sealed class Scope(int previous) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            s_depth.Value = previous;
            Interlocked.Decrement(ref s_open);
        }
    }
}
