namespace Backprop.IO;

/// <summary>
/// Checks a path before a reader opens it: it must be a non-empty regular file. Opening a FIFO
/// for reading blocks until a writer appears and a device such as /dev/zero never ends, so those
/// are refused from the file's metadata alone, without opening it.
/// </summary>
internal static class InputFile
{
    /// <summary>
    /// Returns the length of the file at <paramref name="path"/> (symbolic links followed);
    /// <paramref name="what"/> names the expected content in messages ("checkpoint", "IDX").
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing exists at the path.</exception>
    /// <exception cref="InvalidDataException">The path is a directory, an empty file, or not a regular file.</exception>
    public static long CheckRegular(string path, string what)
    {
        if (Directory.Exists(path))
            throw new InvalidDataException($"{path} is a directory, not a {what} file");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{what} file not found: {path}", path);
        FileSystemInfo target;
        try
        {
            target = File.ResolveLinkTarget(path, returnFinalTarget: true) ?? new FileInfo(path);
        }
        catch (IOException e) // a link loop or a link that cannot be followed
        {
            throw new InvalidDataException($"{path}: the link cannot be followed ({e.Message})", e);
        }
        if (target is not FileInfo file || !file.Exists)
            throw new InvalidDataException($"{path} is not a regular file (it resolves to {target.FullName})");
        // .NET does not expose the file type, but pipes, sockets and character devices (and the
        // files of /proc) all report a length of 0, and so does an empty file, which no reader accepts.
        long length = file.Length;
        if (length == 0)
            throw new InvalidDataException(
                $"{path} is empty or not a regular file (a pipe, device or socket cannot be read as a {what} file)");
        return length;
    }
}
