using Backprop.IO.Onnx;
using Backprop.IO.Onnx.Proto;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Tests.Support;
using CsCheck;
using Google.Protobuf;

namespace Backprop.Tests.IO.Onnx;

/// <summary>
/// Property tests over the ONNX reader: valid models (our export of a small CNN, PyTorch's attention export) with bits
/// flipped, cut short, extended, or a varint overwritten with a huge length, and hand-built tensors whose dims claim
/// far more than their data holds. Loading either succeeds or throws InvalidDataException or NotSupportedException
/// naming the source, never anything else (no OutOfMemoryException), and never allocates more than the file's size
/// implies. Each property runs <see cref="Fuzz.Seconds"/> seconds (BACKPROP_FUZZ_SECONDS).
/// </summary>
public class OnnxImportFuzzTests
{
    private const string Source = "fuzz.onnx";

    private static readonly byte[][] Models =
    [
        OnnxExport.ToBytes(new Sequential(new Conv2d(1, 2, 3, generator: new Generator(1)), new BatchNorm2d(2), new Relu(), new MaxPool2d(2),
            new Flatten(), new Linear(2 * 3 * 3, 3, generator: new Generator(2)), new Gelu()), Tensor.Zeros([1, 1, 8, 8])),
        File.ReadAllBytes(OnnxImportTests.Fixture("pytorch_attention.onnx")),
    ];

    private static void LoadsOrRefusesWithinTheFileSize(byte[] file)
    {
        Exception? thrown = null;
        long allocated = Fuzz.Allocated(() => thrown = Record.Exception(() => OnnxImport.Load(file, Source)));
        if (thrown is not null)
        {
            Assert.True(thrown is InvalidDataException or NotSupportedException, $"Load threw {thrown.GetType().Name}: {thrown.Message}");
            Assert.Contains(Source, thrown.Message);
        }
        Assert.True(allocated <= 16L * file.Length + Fuzz.AllocationSlack, $"allocated {allocated} bytes for a {file.Length}-byte file");
    }

    private static byte[] Mutate(byte[] model, int kind, int[] bits, int cut, byte[] extra, int at, int varintBytes)
    {
        switch (kind)
        {
            case 0: // bits flipped
                byte[] f = (byte[])model.Clone();
                foreach (int bit in bits) f[bit / 8 % f.Length] ^= (byte)(1 << (bit % 8));
                return f;
            case 1: return model[..Math.Min(cut, model.Length)]; // cut short
            case 2: return [.. model, .. extra]; // trailing bytes (a field of any kind)
            default: // a varint of up to 10 bytes (a length near 2^31 or 2^63) written over the file at a position
                byte[] v = (byte[])model.Clone();
                int p = at % v.Length;
                for (int i = 0; i < varintBytes && p + i < v.Length; i++) v[p + i] = i == varintBytes - 1 ? (byte)0x07 : (byte)0xFF;
                return v;
        }
    }

    private static readonly Gen<byte[]> Mutated =
        from m in Gen.Int[0, Models.Length - 1]
        from kind in Gen.Int[0, 3]
        from bits in Gen.Int[0, Models[m].Length * 8 - 1].Array[1, 4]
        from cut in Gen.Int[0, Models[m].Length]
        from extra in Gen.Byte.Array[1, 16]
        from at in Gen.Int[0, Models[m].Length - 1]
        from varintBytes in Gen.Int[4, 10]
        select Mutate(Models[m], kind, bits, cut, extra, at, varintBytes);

    [Fact]
    public void EveryMutatedModelLoadsOrIsRefusedWithinTheFilesSize()
    {
        foreach (byte[] model in Models) OnnxImport.Load(model, Source); // the originals load
        Mutated.Sample(LoadsOrRefusesWithinTheFileSize, time: Fuzz.Seconds, threads: 1, print: Convert.ToHexString);
    }

    private sealed record HostileTensor(int DataType, long[] Dims, int RawBytes, int TypedValues, bool External);

    private static readonly Gen<HostileTensor> Hostile =
        from dataType in Gen.OneOf(new[] { 1, 6, 7, 9, 11, 10, 8, 0, 99 })
        from rank in Gen.Int[0, 4]
        from dims in Gen.Frequency((2, Gen.OneOf(Fuzz.Boundaries).Select(v => (long)v)), (1, Gen.Long), (2, Gen.Long[0, 4])).Array[rank]
        from rawBytes in Gen.Frequency((2, Gen.Const(8)), (1, Gen.Int[0, 64]), (1, Gen.Const(-1)))
        from typedValues in Gen.Int[0, 8]
        from external in Gen.Frequency((5, Gen.Const(false)), (1, Gen.Const(true)))
        select new HostileTensor(dataType, dims, rawBytes, typedValues, external);

    private static byte[] WithInitializer(HostileTensor h)
    {
        var model = new ModelProto { IrVersion = 8, Graph = new GraphProto { Name = "g" } };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        var t = new TensorProto { Name = "w", DataType = h.DataType, Dims = { h.Dims } };
        if (h.RawBytes >= 0) t.RawData = ByteString.CopyFrom(new byte[h.RawBytes]);
        else for (int i = 0; i < h.TypedValues; i++) { t.FloatData.Add(i); t.Int64Data.Add(i); t.Int32Data.Add(i); t.DoubleData.Add(i); }
        if (h.External) t.DataLocation = TensorProto.Types.DataLocation.External;
        model.Graph.Initializer.Add(t);
        model.Graph.Output.Add(new ValueInfoProto { Name = "w" });
        return model.ToByteArray();
    }

    [Fact]
    public void TensorsClaimingMoreThanTheirDataAreRefusedBeforeAllocating()
    {
        // The case: 2^31 floats with 8 bytes of raw data, and 2^30 (which fits an int) with 8 bytes.
        foreach (long n in new[] { 1L << 31, 1L << 30, (1L << 31) - 1 })
        {
            byte[] file = WithInitializer(new HostileTensor(1, [n], 8, 0, false));
            var e = Assert.Throws<InvalidDataException>(() => OnnxImport.Load(file, Source));
            Assert.Contains("graph.initializer[0] 'w'", e.Message);
            LoadsOrRefusesWithinTheFileSize(file);
        }
        Hostile.Sample(h => LoadsOrRefusesWithinTheFileSize(WithInitializer(h)), time: Fuzz.Seconds, threads: 1, print: h => h.ToString());
    }
}
