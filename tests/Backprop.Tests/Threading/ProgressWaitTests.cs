using Backprop.Threading;

namespace Backprop.Tests.Threading;

/// <summary>
/// ProgressWait: a waiter returns once the counter reaches its target, whether the advance comes during the
/// spin or after the waiter went to sleep, announced or not (the sleeper re-checks on its own); with a failure
/// flag, it returns false once the flag is set instead of waiting forever.
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

    private static int s_failed;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Until_WithAFailureFlag_ReturnsFalseOnceItIsSet_AfterTheSpin(bool announce)
    {
        s_counter = 0;
        s_failed = 0;
        var failer = new Thread(() =>
        {
            Thread.Sleep(5); // past the 50 µs spin: the waiter is asleep by now on any ordinary host
            Volatile.Write(ref s_failed, 1);
            if (announce) ProgressWait.Advanced();
        });
        failer.Start();
        Assert.False(ProgressWait.Until(ref s_counter, 1, ref s_failed));
        failer.Join();
        Assert.Equal(0, Volatile.Read(ref s_counter));
    }

    [Fact]
    public void Until_WithAFailureFlag_ReturnsTrueOnceTheCounterReachesTheTarget()
    {
        s_counter = 0;
        s_failed = 0;
        var advancer = new Thread(() =>
        {
            Thread.Sleep(5);
            Interlocked.Increment(ref s_counter);
            ProgressWait.Advanced();
        });
        advancer.Start();
        Assert.True(ProgressWait.Until(ref s_counter, 1, ref s_failed));
        advancer.Join();
        int counter = 2, failed = 1;
        Assert.True(ProgressWait.Until(ref counter, 2, ref failed)); // reached: true even with the flag set
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
