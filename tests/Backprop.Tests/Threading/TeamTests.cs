// Not Backprop.Tests.Threading: that namespace would hide the Backprop.Threading class in every test.
namespace Backprop.Tests.WorkerThreads;

[Trait("Category", "Kernels")]
public class TeamTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RunTeam_EveryMemberRunsOnceAndPassesBarriersTogether(int threads)
    {
        int saved = Backprop.Threading.ThreadCount;
        try
        {
            Backprop.Threading.ThreadCount = threads;
            for (int round = 0; round < 200; round++)
                RunRound(threads);
        }
        finally
        {
            Backprop.Threading.ThreadCount = saved;
        }
    }

    private static unsafe void RunRound(int threads)
    {
        var barrier = new TeamBarrier();
        var body = new Body { Hits = new int[threads], Phase = new int[1], Errors = new int[1], Barrier = &barrier };
        Backprop.Threading.RunTeam(threads, ref body);
        int members = body.Count;
        Assert.InRange(members, 1, threads); // a busy pool may run a smaller team
        for (int i = 0; i < threads; i++) Assert.Equal(i < members ? 1 : 0, body.Hits[i]);
        Assert.Equal(0, body.Errors[0]);
    }

    private unsafe struct Body : ITeamBody
    {
        public int[] Hits, Phase, Errors;
        public TeamBarrier* Barrier;
        public int Count;

        public void Invoke(int index, int count)
        {
            Count = count;
            Interlocked.Increment(ref Hits[index]);
            for (int step = 0; step < 5; step++)
            {
                // Everyone sees the same step before anyone moves past the barrier.
                if (index == 0) Volatile.Write(ref Phase[0], step);
                Barrier->Wait(count);
                if (Volatile.Read(ref Phase[0]) != step) Interlocked.Increment(ref Errors[0]);
                Barrier->Wait(count);
            }
        }
    }
}
