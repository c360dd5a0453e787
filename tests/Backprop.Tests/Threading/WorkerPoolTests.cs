using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Backprop.Threading;
using Backprop.Tests.Support;

// Not Backprop.Tests.Threading: that namespace would hide the Backprop.Threading class from every
// test file that writes Parallelism.ThreadCount.
namespace Backprop.Tests.Threading;

/// <summary>
/// The worker pool and the parallel-for on top of it: every index runs exactly once whatever the
/// thread count and split; nested calls, calls from a worker and calls while another thread holds
/// the pool run serially on the caller; a chunk's exception reaches the caller after the loop.
/// </summary>
[Collection(ThreadsCollection.Name)]
public unsafe class WorkerPoolTests
{
    /// <summary>What a loop body saw: hits per index, and every range with the thread that ran it.</summary>
    private sealed class Recorder(int length)
    {
        public readonly int[] Hits = new int[length];
        public readonly ConcurrentBag<(int Start, int End, int Thread)> Ranges = [];
        public Action<int, int>? Extra;

        public void Record(int start, int end)
        {
            Ranges.Add((start, end, Environment.CurrentManagedThreadId));
            for (int i = start; i < end; i++) Interlocked.Increment(ref Hits[i]);
            Extra?.Invoke(start, end);
        }
    }

    private struct RecordBody(Recorder recorder) : IRangeBody
    {
        public readonly void Invoke(int start, int end) => recorder.Record(start, end);
    }

    private static void Body(void* state, int start, int end)
        => ((Recorder)GCHandle.FromIntPtr((IntPtr)state).Target!).Record(start, end);

    /// <summary>Runs TryRun, retrying while a test of another collection holds the pool, so the loop really runs on it.</summary>
    private static void RunOnPool(Recorder recorder, int length, int grain, int units, int chunks, int? threads = null)
    {
        GCHandle handle = GCHandle.Alloc(recorder);
        try
        {
            while (!WorkerPool.TryRun(&Body, (void*)GCHandle.ToIntPtr(handle), length, grain, units, chunks, threads ?? chunks))
                Thread.Yield();
        }
        finally
        {
            handle.Free();
        }
    }

    private static void AssertEachIndexOnce(Recorder recorder, string what)
    {
        for (int i = 0; i < recorder.Hits.Length; i++)
            Assert.True(recorder.Hits[i] == 1, $"{what}: index {i} ran {recorder.Hits[i]} times");
    }

    public static TheoryData<int, int, int> Splits()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int threads in new[] { 1, 2, 3 })
            foreach (int length in new[] { 0, 1, 2, 3, 5, 64, 1001 })
                foreach (int grain in new[] { 1, 4, 100 })
                    data.Add(threads, length, grain);
        return data;
    }

    [Theory]
    [MemberData(nameof(Splits))]
    public void ParallelFor_RunsEveryIndexExactlyOnce_InGrainAlignedRanges(int threads, int length, int grain)
    {
        var recorder = new Recorder(length);
        var body = new RecordBody(recorder);
        ThreadsCollection.With(threads, () => Parallelism.ParallelFor(length, grain, ref body));
        AssertEachIndexOnce(recorder, $"{threads} threads, length {length}, grain {grain}");
        int units = (length + grain - 1) / grain;
        Assert.InRange(recorder.Ranges.Count, length == 0 ? 0 : 1, Math.Min(threads, units));
        foreach (var (start, end, _) in recorder.Ranges)
        {
            Assert.True(start < end, $"empty range [{start}, {end}) was run");
            Assert.True(start % grain == 0 && (end % grain == 0 || end == length), $"range [{start}, {end}) is not on grain {grain}");
        }
    }

    [Theory]
    [MemberData(nameof(Splits))]
    public void ParallelFor_WithSeveralChunksPerThread_RunsEveryIndexOnce_InAtMostThreadsTimesChunksRanges(int threads, int length, int grain)
    {
        var recorder = new Recorder(length);
        var body = new RecordBody(recorder);
        ThreadsCollection.With(threads, () => Parallelism.ParallelFor(length, grain, ref body, Parallelism.BalancedChunks));
        AssertEachIndexOnce(recorder, $"{threads} threads × {Parallelism.BalancedChunks} chunks, length {length}, grain {grain}");
        int units = (length + grain - 1) / grain;
        int most = threads == 1 ? Math.Min(1, units) : Math.Min(threads * Parallelism.BalancedChunks, units);
        Assert.InRange(recorder.Ranges.Count, length == 0 ? 0 : 1, most);
        foreach (var (start, end, _) in recorder.Ranges)
            Assert.True(start % grain == 0 && (end % grain == 0 || end == length), $"range [{start}, {end}) is not on grain {grain}");
    }

    [Theory]
    [InlineData(10, 1, 10, 3)]   // units split unevenly over chunks
    [InlineData(10, 4, 3, 3)]    // the last unit is short
    [InlineData(7, 1, 7, 2)]
    [InlineData(5, 2, 3, 3)]
    [InlineData(2, 1, 2, 3)]     // more chunks than units: some chunks are empty and skipped
    [InlineData(64, 1, 64, 8)]   // more chunks than threads: the two threads claim them in turn
    public void TryRun_SplitsUnitsIntoContiguousChunks_EachRunOnce(int length, int grain, int units, int chunks)
    {
        var recorder = new Recorder(length);
        RunOnPool(recorder, length, grain, units, chunks, threads: Math.Min(chunks, 2));
        AssertEachIndexOnce(recorder, $"length {length}, grain {grain}, {chunks} chunks");
        var expected = new List<(int, int)>();
        for (int index = 0; index < chunks; index++)
        {
            int start = Math.Min(units * index / chunks * grain, length), end = Math.Min(units * (index + 1) / chunks * grain, length);
            if (start < end) expected.Add((start, end));
        }
        Assert.Equal(expected, recorder.Ranges.Select(r => (r.Start, r.End)).Order());
    }

    [Fact]
    public void NestedParallelFor_RunsSeriallyOnTheCallingThread()
    {
        ThreadsCollection.With(3, () =>
        {
            var outer = new Recorder(30);
            var inners = new ConcurrentBag<(int Thread, Recorder Inner)>();
            outer.Extra = (_, _) =>
            {
                var inner = new Recorder(50);
                var innerBody = new RecordBody(inner);
                Parallelism.ParallelFor(50, 1, ref innerBody);
                inners.Add((Environment.CurrentManagedThreadId, inner));
            };
            RunOnPool(outer, 30, 1, 30, 3);
            AssertEachIndexOnce(outer, "outer");
            Assert.Equal(3, inners.Count);
            foreach (var (thread, inner) in inners)
            {
                AssertEachIndexOnce(inner, "inner");
                Assert.Equal([(0, 50, thread)], inner.Ranges); // one range, on the thread that ran the outer chunk
            }
        });
    }

    [Fact]
    public void TryRun_FromInsideAChunk_ReturnsFalse()
    {
        var outer = new Recorder(4);
        var refused = new ConcurrentBag<bool>();
        outer.Extra = (_, _) =>
        {
            var inner = new Recorder(8);
            GCHandle handle = GCHandle.Alloc(inner);
            try
            {
                refused.Add(!WorkerPool.TryRun(&Body, (void*)GCHandle.ToIntPtr(handle), 8, 1, 8, 2, 2));
            }
            finally
            {
                handle.Free();
            }
            Assert.All(inner.Hits, h => Assert.Equal(0, h)); // the caller is told to run it itself
        };
        RunOnPool(outer, 4, 1, 4, 2);
        Assert.Equal([true, true], refused);
    }

    [Fact]
    public void ParallelFor_WhileAnotherThreadHoldsThePool_RunsSeriallyOnTheCaller()
    {
        ThreadsCollection.With(2, () =>
        {
            using var holding = new ManualResetEventSlim();
            using var done = new ManualResetEventSlim();
            var busy = new Recorder(2);
            busy.Extra = (start, _) =>
            {
                if (start != 0) return;
                holding.Set();
                Assert.True(done.Wait(TimeSpan.FromMinutes(1)), "the other thread never finished");
            };
            var owner = new Thread(() => RunOnPool(busy, 2, 1, 2, 2));
            owner.Start();
            Assert.True(holding.Wait(TimeSpan.FromMinutes(1)), "the pool never ran the first loop");

            var second = new Recorder(100);
            var body = new RecordBody(second);
            Parallelism.ParallelFor(100, 1, ref body); // the pool is held by `owner` until `done` is set
            done.Set();
            owner.Join();

            AssertEachIndexOnce(second, "second loop");
            Assert.Equal([(0, 100, Environment.CurrentManagedThreadId)], second.Ranges);
            AssertEachIndexOnce(busy, "first loop");
        });
    }

    [Fact]
    public void AChunksException_ReachesTheCaller_AfterTheOtherChunksRan_AndThePoolStaysUsable()
    {
        var recorder = new Recorder(30);
        recorder.Extra = (start, _) =>
        {
            if (start == 10) throw new InvalidOperationException("chunk 1 failed");
        };
        var e = Assert.Throws<InvalidOperationException>(() => RunOnPool(recorder, 30, 1, 30, 3));
        Assert.Equal("chunk 1 failed", e.Message);
        AssertEachIndexOnce(recorder, "failing loop"); // each chunk ran (and recorded) once, the failing one included
        Assert.Equal(3, recorder.Ranges.Count);

        var next = new Recorder(30);
        RunOnPool(next, 30, 1, 30, 3);
        AssertEachIndexOnce(next, "next loop");
    }

    [Fact]
    public void SeveralFailingChunks_OneExceptionReachesTheCaller()
    {
        var recorder = new Recorder(9);
        recorder.Extra = (start, _) => throw new ArgumentException($"chunk at {start}");
        var e = Assert.Throws<ArgumentException>(() => RunOnPool(recorder, 9, 1, 9, 3));
        Assert.Contains(e.Message, new[] { "chunk at 0", "chunk at 3", "chunk at 6" });
        AssertEachIndexOnce(recorder, "failing loop");
    }

    [Fact]
    public void ParallelFor_ExceptionInTheBody_ReachesTheCaller_WithAnyThreadCount()
    {
        foreach (int threads in new[] { 1, 2, 3 })
            ThreadsCollection.With(threads, () =>
            {
                var recorder = new Recorder(12);
                recorder.Extra = (start, end) =>
                {
                    if (start <= 5 && 5 < end) throw new InvalidOperationException("index 5");
                };
                var body = new RecordBody(recorder);
                var e = Assert.Throws<InvalidOperationException>(() => Parallelism.ParallelFor(12, 1, ref body));
                Assert.Equal("index 5", e.Message);
                Assert.Equal(1, recorder.Hits[5]);
            });
    }
}
