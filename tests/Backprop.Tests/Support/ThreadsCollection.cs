using Backprop.Threading;

namespace Backprop.Tests.Support;

/// <summary>
/// Tests that set the process-wide <see cref="Parallelism.ThreadCount"/> (or depend on it staying put,
/// like bit-identical training runs) share this collection so xunit never runs them concurrently.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ThreadsCollection
{
    public const string Name = "process-wide thread count";

    /// <summary>Runs <paramref name="action"/> with <see cref="Parallelism.ThreadCount"/> set to <paramref name="threads"/>, then restores it.</summary>
    public static void With(int threads, Action action)
    {
        int saved = Parallelism.ThreadCount;
        try
        {
            Parallelism.ThreadCount = threads;
            action();
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    /// <summary>Returns <paramref name="func"/>() computed with <see cref="Parallelism.ThreadCount"/> set to <paramref name="threads"/>, then restores it.</summary>
    public static T With<T>(int threads, Func<T> func)
    {
        T result = default!;
        With(threads, () => { result = func(); });
        return result;
    }
}
