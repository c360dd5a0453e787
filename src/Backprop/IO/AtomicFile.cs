using System.Collections.Concurrent;

namespace Backprop.IO;

/// <summary>
/// Writes a file the way <see cref="Checkpoint.Save"/> does: into a temporary file beside the target
/// (<c>.NAME.PID.tmp</c>), flushed to disk, then renamed over the target, so a failed or interrupted
/// write leaves any previous file intact. A temporary file of the same target that a killed process left
/// is removed first when <c>looksLikeOurs</c> recognises its content.
/// </summary>
internal static class AtomicFile
{
    // Temporary files this process is writing now: the stale-file sweep must never take them.
    private static readonly ConcurrentDictionary<string, byte> ActiveTemps = new(StringComparer.Ordinal);

    /// <summary>
    /// Test hook for the calling thread: runs with the temporary file's path once <c>write</c> returned and
    /// the bytes are on disk, before the rename; a hook that throws stands in for a crash at that moment.
    /// </summary>
    [ThreadStatic] internal static Action<string>? BeforeRenameForTests;

    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, atomically.</summary>
    /// <param name="path">The target file.</param>
    /// <param name="what">Names the writer in messages ("Safetensors").</param>
    /// <param name="write">Writes the whole content to the stream.</param>
    /// <param name="looksLikeOurs">True for the first bytes (up to 16) of a stale temporary file this writer made.</param>
    /// <exception cref="IOException">The file could not be written; any previous file at the path is unchanged.</exception>
    public static void Write(string path, string what, Action<Stream> write, Func<ReadOnlySpan<byte>, bool> looksLikeOurs)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        string fileName = Path.GetFileName(full);
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{fileName}.{Environment.ProcessId}.tmp");
        if (!ActiveTemps.TryAdd(temp, 0))
            throw new IOException($"{what}: {full} is being saved by another thread of this process");
        try
        {
            RemoveStaleTemp(dir, fileName, looksLikeOurs);
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            BeforeRenameForTests?.Invoke(temp);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Checkpoint.TryDelete(temp);
            throw new IOException($"{what}: could not save {full}: {e.Message}. Any previous file at that path is unchanged.", e);
        }
        catch
        {
            Checkpoint.TryDelete(temp);
            throw;
        }
        finally
        {
            ActiveTemps.TryRemove(temp, out _);
        }
    }

    /// <summary>Deletes <c>.NAME.PID.tmp</c> files of this target whose process is gone, that no one holds open, and whose content is ours. Best effort.</summary>
    private static void RemoveStaleTemp(string dir, string fileName, Func<ReadOnlySpan<byte>, bool> looksLikeOurs)
    {
        Span<byte> head = stackalloc byte[16];
        try
        {
            string prefix = "." + fileName + ".";
            foreach (string candidate in Directory.EnumerateFiles(dir, ".*.tmp"))
            {
                string name = Path.GetFileName(candidate);
                if (!name.StartsWith(prefix, StringComparison.Ordinal) || name.Length < prefix.Length + 5) continue;
                string middle = name[prefix.Length..^4]; // the PID
                if (middle.Length is 0 or > 9 || !middle.All(char.IsAsciiDigit)) continue;
                int pid = int.Parse(middle, System.Globalization.CultureInfo.InvariantCulture);
                if (pid == Environment.ProcessId ? ActiveTemps.ContainsKey(candidate) : Checkpoint.IsRunning(pid)) continue;
                try
                {
                    bool ours;
                    // FileShare.None fails while a writer has the file open.
                    using (var f = new FileStream(candidate, FileMode.Open, FileAccess.Read, FileShare.None))
                    {
                        int got = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
                        ours = looksLikeOurs(head[..got]);
                    }
                    if (ours) File.Delete(candidate);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // locked, or not ours to delete
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // the folder could not be listed
    }
}
