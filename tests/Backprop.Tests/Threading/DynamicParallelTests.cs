using System.Diagnostics;
using Backprop.Threading;
using Backprop.Tests.Support;

// Not Backprop.Tests.Threading: a namespace of that name would hide Backprop.Threading from every test namespace.
namespace Backprop.Tests.Threading;

/// <summary>The dynamic parallel-for shared by the GEMM and convolution drivers, tested alone.</summary>
[Collection(ThreadsCollection.Name)]
public class DynamicParallelTests
{
    /// <summary>Counts how often each unit runs.</summary>
    private struct CountingBody : IUnitBody
    {
        public int[] Runs;

        public readonly void Invoke(int unit) => Interlocked.Increment(ref Runs[unit]);
    }

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(5)] [InlineData(8)]
    public void EveryUnitRunsExactlyOnce_AnyThreadCount(int threadCount)
    {
        ThreadsCollection.With(threadCount, () =>
        {
            foreach (int units in new[] { 0, 1, 2, 3, 7, 64, 1000 })
                foreach (int threads in new[] { 1, 2, threadCount, 16 })
                {
                    var body = new CountingBody { Runs = new int[units] };
                    DynamicParallel.For(units, threads, ref body);
                    for (int u = 0; u < units; u++)
                        Assert.True(body.Runs[u] == 1, $"unit {u} of {units} ran {body.Runs[u]} times (threads {threads}, ThreadCount {threadCount})");
                }
        });
    }

    /// <summary>Unit u waits for unit u − 1 to start: claims are handed out in order, so this never deadlocks.</summary>
    private struct ChainBody : IUnitBody
    {
        public int[] Started;
        public bool[] TimedOut;

        public readonly void Invoke(int unit)
        {
            if (unit > 0)
            {
                long deadline = Stopwatch.GetTimestamp() + 10 * Stopwatch.Frequency; // a bound, not a timing assumption
                var spin = new SpinWait();
                while (Volatile.Read(ref Started[unit - 1]) == 0)
                {
                    if (Stopwatch.GetTimestamp() > deadline)
                    {
                        TimedOut[unit] = true;
                        break;
                    }
                    spin.SpinOnce(sleep1Threshold: -1);
                }
            }
            Volatile.Write(ref Started[unit], 1);
        }
    }

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(4)]
    public void UnitsAreClaimedInOrder_SoAUnitMayWaitForAnEarlierOne(int threadCount)
    {
        ThreadsCollection.With(threadCount, () =>
        {
            var body = new ChainBody { Started = new int[200], TimedOut = new bool[200] };
            DynamicParallel.For(200, threadCount, ref body);
            Assert.All(body.Started, s => Assert.Equal(1, s));
            Assert.DoesNotContain(true, body.TimedOut);
        });
    }

    private struct ThrowingBody : IUnitBody
    {
        public int Bad;
        public int[] Runs;

        public readonly void Invoke(int unit)
        {
            Interlocked.Increment(ref Runs[unit]);
            if (unit == Bad) throw new InvalidOperationException($"unit {unit} failed");
        }
    }

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)]
    public void AnExceptionInAUnit_PropagatesToTheCaller_AndThePoolStillWorks(int threadCount)
    {
        ThreadsCollection.With(threadCount, () =>
        {
            foreach (int bad in new[] { 0, 5, 49 })
            {
                var body = new ThrowingBody { Bad = bad, Runs = new int[50] };
                var e = Assert.Throws<InvalidOperationException>(() => DynamicParallel.For(50, threadCount, ref body));
                Assert.Equal($"unit {bad} failed", e.Message);
                Assert.All(body.Runs, r => Assert.InRange(r, 0, 1)); // never twice, even around the failure
                Assert.Equal(1, body.Runs[bad]);
            }
            var after = new CountingBody { Runs = new int[100] };
            DynamicParallel.For(100, threadCount, ref after);
            Assert.All(after.Runs, r => Assert.Equal(1, r));
        });
    }

    private struct NestingBody : IUnitBody
    {
        public int[] Inner;

        public readonly void Invoke(int unit)
        {
            var inner = new CountingBody { Runs = Inner };
            DynamicParallel.For(10, 4, ref inner); // nested: runs on this thread
        }
    }

    [Fact]
    public void NestedLoops_RunEveryInnerUnitOncePerOuterUnit()
    {
        ThreadsCollection.With(2, () =>
        {
            var body = new NestingBody { Inner = new int[10] };
            DynamicParallel.For(6, 2, ref body);
            Assert.All(body.Inner, r => Assert.Equal(6, r));
        });
    }
}
