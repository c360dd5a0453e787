using System.IO.Compression;
using System.Runtime.InteropServices;

namespace Backprop.Tests.Support;

/// <summary>
/// Shared pieces of the file-reader fuzz tests. Each property runs for <see cref="Seconds"/>
/// seconds: 2 by default, so ./run-tests stays quick; set BACKPROP_FUZZ_SECONDS (for example
/// BACKPROP_FUZZ_SECONDS=600) for a long run. A failure prints the CsCheck seed that reproduces it.
/// </summary>
internal static class Fuzz
{
    /// <summary>How long each fuzz property runs, from BACKPROP_FUZZ_SECONDS (default 2).</summary>
    public static int Seconds =>
        int.TryParse(Environment.GetEnvironmentVariable("BACKPROP_FUZZ_SECONDS"), out int s) && s > 0 ? s : 2;

    /// <summary>Values a length or count field is set to: the edges of int32 and sizes whose products overflow.</summary>
    public static readonly int[] Boundaries =
        [0, 1, -1, int.MaxValue, int.MinValue, int.MaxValue - 1, 1 << 16, 1 << 21, 1 << 22, 1 << 30, 0x7FFFFFC7, 28, 784];

    /// <summary>Slack for the allocations of any read (streams, buffers, exception messages), in bytes.</summary>
    public const long AllocationSlack = 512 * 1024;

    /// <summary>
    /// Runs <paramref name="read"/> and returns the bytes the calling thread allocated. (No time limit: a
    /// wall-clock bound failed a 3.9 MB read on a loaded machine; a real hang still stops the run's timeout.)
    /// </summary>
    public static long Allocated(Action read)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        read();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    /// <summary>Gzip-compresses <paramref name="content"/>.</summary>
    public static byte[] Gzip(byte[] content)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(content);
        return output.ToArray();
    }

    /// <summary>How many bytes a (possibly corrupt) gzip stream inflates to before it ends or fails, up to <paramref name="limit"/>.</summary>
    public static long InflatedLength(byte[] gzip, long limit = 64 << 20)
    {
        long total = 0;
        try
        {
            using var gz = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
            var buffer = new byte[1 << 16];
            int n;
            while (total < limit && (n = gz.Read(buffer)) > 0) total += n;
        }
        catch (InvalidDataException) { }
        return total;
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MkFifo(string path, uint mode);

    /// <summary>Creates a named pipe (Linux and macOS).</summary>
    public static void MakeFifo(string path)
    {
        if (MkFifo(path, 0x180) != 0) // 0600
            throw new IOException($"mkfifo {path} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>
    /// Runs <paramref name="read"/> on a worker and fails if it has not returned within 30 s: a reader
    /// that opens a FIFO blocks for ever, which must show up as a failure and not hang the suite.
    /// </summary>
    public static Exception? ReturnsPromptly(Action read)
    {
        var task = Task.Factory.StartNew(() => Record.Exception(read), TaskCreationOptions.LongRunning);
        Assert.True(task.Wait(TimeSpan.FromSeconds(30)), "the reader blocked (opened a FIFO?)");
        return task.Result;
    }
}
