using System.Runtime.Versioning;

namespace Backprop.Threading;

/// <summary>
/// Whether this process can start threads. Blazor WebAssembly without threading cannot (<see cref="Thread.Start()"/>
/// throws <see cref="PlatformNotSupportedException"/>): there the worker pool runs every loop on the calling thread
/// and the <c>DataLoader</c> assembles batches inline, instead of throwing. Every thread start in the library is
/// guarded by <see cref="Available"/>, which the platform analyzer (CA1416, with <c>browser</c> a supported
/// platform in the project) checks.
/// </summary>
internal static class ThreadSupport
{
    private static volatile bool s_startFailed;
    [ThreadStatic] private static bool t_forcedOff;

    /// <summary>
    /// True when a thread may be started: not in the browser, no thread start has been refused with
    /// <see cref="PlatformNotSupportedException"/>, and a test has not switched threads off on this thread.
    /// </summary>
    [UnsupportedOSPlatformGuard("browser")]
    public static bool Available => !OperatingSystem.IsBrowser() && !s_startFailed && !t_forcedOff;

    /// <summary>Records that the platform refused to start a thread (a platform the browser check does not know); threads are not tried again.</summary>
    public static void StartRefused() => s_startFailed = true;

    /// <summary>
    /// Makes <see cref="Available"/> false on the calling thread until the returned scope is disposed, so tests on x86
    /// take the paths a single-threaded WebAssembly runtime takes. Only decisions made on this thread see it.
    /// </summary>
    internal static Scope ForceUnavailable()
    {
        bool saved = t_forcedOff;
        t_forcedOff = true;
        return new Scope(saved);
    }

    /// <summary>Restores the calling thread's previous setting.</summary>
    internal readonly struct Scope(bool saved) : IDisposable
    {
        public void Dispose() => t_forcedOff = saved;
    }
}
