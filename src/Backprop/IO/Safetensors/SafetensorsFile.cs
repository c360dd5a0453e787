using System.Buffers;
using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Backprop.Kernels.Elementwise;
using Backprop.Tensors;
using Microsoft.Win32.SafeHandles;

namespace Backprop.IO.Safetensors;

/// <summary>
/// An open safetensors file: its header is read and validated on <see cref="Open"/>, before any tensor
/// memory is allocated, and each tensor is read only when asked for (<see cref="Read"/>), straight into
/// the tensor's own array. Loading runs no code from the file: the format is a JSON header and raw numbers.
/// </summary>
/// <remarks>
/// <para>dtypes: F32, F64, I64 and BOOL load as float32, float64, int64 and bool; F16 and BF16 are widened to
/// float32 and I32 to int64 (exactly: Backprop has no 16-bit float or int32 storage). The format's other
/// dtypes (U8, I8, I16, U16, U32, U64, F8_*) are accepted in the layout check but reading such a tensor
/// throws <see cref="NotSupportedException"/>.</para>
/// <para>The header check refuses (with <see cref="InvalidDataException"/> naming the file and the field or tensor):
/// a header length past the file or above 100 MB, JSON that does not parse, a repeated name, an unknown dtype,
/// negative or non-integer dimensions and offsets, shape × element size differing from the offsets' span,
/// offsets past the data section, and tensors that overlap, leave gaps or do not end at the file's end.
/// So no read allocates more than the file implies: at most twice its size, for widened dtypes.</para>
/// <para>Large files (by default from 64 MB) are memory-mapped, so a tensor's bytes are paged in as they are
/// copied instead of passing through read calls; smaller ones are read with positioned reads. A mapped file
/// must not be truncated by another process while it is open (the operating system would fault the read).</para>
/// </remarks>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>Files from this size are memory-mapped when <see cref="Open"/> is not told otherwise.</summary>
    public const long MemoryMapThreshold = 64L << 20;

    private readonly SafeFileHandle _handle;
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _mapped;
    private readonly Dictionary<string, SafetensorsEntry> _byName;
    private readonly long _dataStart;
    private bool _disposed;

    private SafetensorsFile(string path, SafeFileHandle handle, long length, bool? memoryMap)
    {
        Path = path;
        _handle = handle;
        Span<byte> prefix = stackalloc byte[8];
        if (length < 8 || RandomAccess.Read(handle, prefix, 0) < 8)
            throw Malformed($"it is {length} bytes, too short for the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(length - 8))
            throw Malformed($"the header length field says {headerLength} bytes but only {length - 8} follow it (not a safetensors file, or truncated)");
        if (headerLength > SafetensorsHeader.MaxLength)
            throw Malformed($"the header length field says {headerLength} bytes, more than the format allows ({SafetensorsHeader.MaxLength})");
        var header = new byte[headerLength];
        if (RandomAccess.Read(handle, header, 8) != header.Length)
            throw Malformed("the file changed size while its header was read");
        _dataStart = 8 + (long)headerLength;
        try
        {
            (List<SafetensorsEntry> entries, Dictionary<string, string> metadata) = SafetensorsHeader.Parse(header, length - _dataStart);
            Entries = entries;
            Metadata = metadata;
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"Safetensors: {path} is malformed: {e.Message}", e);
        }
        _byName = new Dictionary<string, SafetensorsEntry>(Entries.Count, StringComparer.Ordinal);
        foreach (SafetensorsEntry e in Entries) _byName[e.Name] = e;
        if (memoryMap ?? length >= MemoryMapThreshold)
        {
            _map = MemoryMappedFile.CreateFromFile(handle, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _mapped = p + _view.PointerOffset;
            Length = length;
        }
        else
        {
            Length = length;
        }
    }

    /// <summary>The file's path as given to <see cref="Open"/>.</summary>
    public string Path { get; }

    /// <summary>The file's size in bytes when it was opened.</summary>
    public long Length { get; }

    /// <summary>True when the file is memory-mapped.</summary>
    public bool IsMemoryMapped => _map is not null;

    /// <summary>The tensors the header describes, in header order.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>The header's <c>__metadata__</c> (empty when it has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens <paramref name="path"/> and validates its header; no tensor is read yet.</summary>
    /// <param name="path">A safetensors file.</param>
    /// <param name="memoryMap">True to memory-map the file, false for positioned reads, null to map files of at least <see cref="MemoryMapThreshold"/> bytes.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The path is not a regular non-empty file, or its header is malformed (the message names the file and the field or tensor).</exception>
    /// <exception cref="IOException">The file could not be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static SafetensorsFile Open(string path, bool? memoryMap = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Safetensors: reading needs a little-endian machine");
        try
        {
            InputFile.CheckRegular(path, "safetensors");
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"Safetensors: file not found: {path}", path, e);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"Safetensors: {e.Message}", e);
        }
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            return new SafetensorsFile(path, handle, RandomAccess.GetLength(handle), memoryMap);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads every tensor and the metadata of <paramref name="path"/>, then closes it.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file; the message names the file and the field or tensor.</exception>
    /// <exception cref="NotSupportedException">A tensor has a dtype Backprop cannot hold (U8, I16, F8_*, …).</exception>
    /// <exception cref="IOException">The file could not be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static SafetensorsData Load(string path, bool? memoryMap = null)
    {
        using SafetensorsFile file = Open(path, memoryMap);
        return new SafetensorsData(file.ReadAll(), new Dictionary<string, string>(file.Metadata, StringComparer.Ordinal));
    }

    /// <summary>As <see cref="Load"/>, returning false with a message that names the file instead of throwing.</summary>
    public static bool TryLoad(string path, out SafetensorsData? data, out string? error)
    {
        try
        {
            data = Load(path);
            error = null;
            return true;
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or IOException or UnauthorizedAccessException)
        {
            data = null;
            error = e is InvalidDataException or NotSupportedException or FileNotFoundException ? e.Message : $"Safetensors: could not read {path}: {e.Message}";
            return false;
        }
    }

    /// <summary>True when the file holds a tensor called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Reads the tensor called <paramref name="name"/> into a new tensor (dtypes as in the remarks of <see cref="SafetensorsFile"/>).</summary>
    /// <exception cref="KeyNotFoundException">The file holds no such tensor.</exception>
    /// <exception cref="NotSupportedException">Its dtype has no Backprop form.</exception>
    /// <exception cref="InvalidDataException">A BOOL tensor holds a byte other than 0 and 1, or the file shrank since it was opened.</exception>
    /// <exception cref="ObjectDisposedException">The file was closed.</exception>
    public Tensor Read(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_byName.TryGetValue(name, out SafetensorsEntry? e))
            throw new KeyNotFoundException($"Safetensors: {Path} holds no tensor named '{name}'");
        if (!SafetensorsDTypes.TryLoadsAs(e.DType, out _))
            throw new NotSupportedException($"Safetensors: tensor '{name}' of {Path} has dtype {e.DType}, which Backprop cannot hold (readable: {SafetensorsDTypes.Readable})");
        var shape = new Shape([.. e.Shape]);
        int n = (int)shape.Numel;
        long at = _dataStart + e.Begin;
        switch (e.DType)
        {
            case "F32":
                var f = new float[n];
                Fill<float>(f, at);
                return Tensor.WrapArray(f, shape);
            case "F64":
                var d = new double[n];
                Fill<double>(d, at);
                return Tensor.WrapArray(d, shape);
            case "I64":
                var l = new long[n];
                Fill<long>(l, at);
                return Tensor.WrapArray(l, shape);
            case "BOOL":
                var b = new bool[n];
                Span<byte> bytes = MemoryMarshal.AsBytes(b.AsSpan());
                Fill(bytes, at); // a bool array holds at most int.MaxValue bytes
                int bad = bytes.IndexOfAnyExcept((byte)0, (byte)1);
                if (bad >= 0) throw new InvalidDataException($"Safetensors: {Path} is malformed: element {bad} of the BOOL tensor '{name}' is the byte {bytes[bad]}, not 0 or 1");
                return Tensor.WrapArray(b, shape);
            case "F16":
                var h = new float[n];
                Widen<ushort, float>(h, at, (x, y) => WidenKernel.HalfToSingle(MemoryMarshal.Cast<ushort, Half>(x), y));
                return Tensor.WrapArray(h, shape);
            case "BF16":
                var bf = new float[n];
                Widen<ushort, float>(bf, at, WidenKernel.BFloat16ToSingle);
                return Tensor.WrapArray(bf, shape);
            default: // I32
                var i = new long[n];
                Widen<int, long>(i, at, WidenKernel.Int32ToInt64);
                return Tensor.WrapArray(i, shape);
        }
    }

    /// <summary>Reads every tensor, in header order.</summary>
    /// <exception cref="NotSupportedException">A tensor's dtype has no Backprop form (checked for all before any is read).</exception>
    /// <exception cref="InvalidDataException">A BOOL tensor holds a byte other than 0 and 1, or the file shrank since it was opened.</exception>
    public List<KeyValuePair<string, Tensor>> ReadAll()
    {
        foreach (SafetensorsEntry e in Entries)
            if (!SafetensorsDTypes.TryLoadsAs(e.DType, out _))
                throw new NotSupportedException($"Safetensors: tensor '{e.Name}' of {Path} has dtype {e.DType}, which Backprop cannot hold (readable: {SafetensorsDTypes.Readable})");
        var result = new List<KeyValuePair<string, Tensor>>(Entries.Count);
        foreach (SafetensorsEntry e in Entries) result.Add(new(e.Name, Read(e.Name)));
        return result;
    }

    /// <summary>Fills <paramref name="destination"/> from the file's bytes at <paramref name="at"/>, in pieces of at most 1 GiB (a span's byte length is an int).</summary>
    private void Fill<T>(Span<T> destination, long at) where T : unmanaged
    {
        int step = (1 << 30) / sizeof(T);
        for (long i = 0; i < destination.Length; i += step)
        {
            Span<T> piece = destination.Slice((int)i, (int)Math.Min(step, destination.Length - i));
            Fill(MemoryMarshal.AsBytes(piece), at + i * sizeof(T));
        }
    }

    /// <summary>Copies the file's bytes from <paramref name="at"/> into <paramref name="destination"/>.</summary>
    private void Fill(Span<byte> destination, long at)
    {
        if (_mapped is not null)
        {
            new ReadOnlySpan<byte>(_mapped + at, destination.Length).CopyTo(destination);
            return;
        }
        while (destination.Length > 0)
        {
            int got = RandomAccess.Read(_handle, destination, at);
            if (got <= 0) throw new InvalidDataException($"Safetensors: {Path} ended at byte {at} while a tensor was read (it was {Length} bytes when opened)");
            destination = destination[got..];
            at += got;
        }
    }

    /// <summary>Reads narrow elements in blocks through a pooled buffer and widens each block into <paramref name="destination"/>.</summary>
    private void Widen<TFrom, TTo>(Span<TTo> destination, long at, WidenBlock<TFrom, TTo> widen) where TFrom : unmanaged where TTo : unmanaged
    {
        const int Block = 16384;
        TFrom[] buffer = ArrayPool<TFrom>.Shared.Rent(Math.Min(Block, destination.Length));
        try
        {
            for (long i = 0; i < destination.Length; i += Block)
            {
                int count = (int)Math.Min(Block, destination.Length - i);
                Span<TFrom> chunk = buffer.AsSpan(0, count);
                Fill(MemoryMarshal.AsBytes(chunk), at + i * sizeof(TFrom));
                widen(chunk, destination.Slice((int)i, count));
            }
        }
        finally
        {
            ArrayPool<TFrom>.Shared.Return(buffer);
        }
    }

    private delegate void WidenBlock<TFrom, TTo>(ReadOnlySpan<TFrom> x, Span<TTo> y);

    private InvalidDataException Malformed(string detail) => new($"Safetensors: {Path} is not a valid safetensors file: {detail}");

    /// <summary>Closes the file (and its memory map).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
        _handle.Dispose();
    }
}
