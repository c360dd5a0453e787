using Backprop.Threading;

namespace Backprop.Tests.Threading;

/// <summary>
/// ProgressWait: a waiter returns once the counter reaches its target, whether the advance comes during the
/// spin or after the waiter went to sleep, announced or not (the sleeper re-checks on its own).
/// </summary>
public class ProgressWaitTests
{
    private static int s_counter;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Until_ReturnsOnceTheCounterReachesTheTarget_AfterTheSpin(bool announce)
    {
        s_counter = 0;
        using var advanced = new ManualResetEventSlim();
        var advancer = new Thread(() =>
        {
            for (int i = 0; i < 3; i++)
            {
                Thread.Sleep(5); // past the 50 µs spin: the waiter is asleep by now on any ordinary host
                Interlocked.Increment(ref s_counter);
                if (announce) ProgressWait.Advanced();
            }
            advanced.Set();
        });
        advancer.Start();
        ProgressWait.Until(ref s_counter, 3);
        Assert.True(Volatile.Read(ref s_counter) >= 3);
        advancer.Join();
        Assert.True(advanced.IsSet);
    }

    [Fact]
    public void Until_ReturnsAtOnce_WhenTheTargetIsReached()
    {
        int counter = 7;
        ProgressWait.Until(ref counter, 7);
        ProgressWait.Until(ref counter, 3);
        Assert.Equal(7, counter);
    }
}
