using Backprop.Autograd;
using Backprop.IO.Safetensors;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;

namespace Backprop.Tests.IO.Safetensors;

/// <summary>
/// Files written by PyTorch (tests/Backprop.Tests/IO/Fixtures/make_safetensors_fixtures.py, Debian's torch 1.13):
/// a CNN and a small GPT load into the Backprop models of the same structure by their PyTorch names and give
/// PyTorch's outputs; every readable dtype loads as documented; Backprop writes the CNN's file byte for byte.
/// </summary>
public class SafetensorsPyTorchTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "IO", "Fixtures", name);

    /// <summary>The fixture's nn.Sequential, layer for layer: the positional names "0.weight", "1.running_mean", … match.</summary>
    private static Sequential Cnn() => new(
        new Conv2d(1, 4, 3, padding: 1), new BatchNorm2d(4), new Relu(), new MaxPool2d(2),
        new Conv2d(4, 8, 3), new Relu(), new Flatten(), new Linear(32, 5));

    /// <summary>The fixture's GPT: embeddings, two pre-LN blocks (a ModuleList there, a Sequential here: both name them "blocks.0", "blocks.1"), norm, head.</summary>
    private sealed class Gpt : Module
    {
        public Gpt()
        {
            Tokens = RegisterModule("tokens", new Embedding(16, 16));
            Positions = RegisterModule("positions", new Embedding(8, 16));
            Blocks = RegisterModule("blocks", new Sequential(new TransformerBlock(16, 2, 64), new TransformerBlock(16, 2, 64)));
            Norm = RegisterModule("norm", new LayerNorm(16));
            Head = RegisterModule("head", new Linear(16, 16, bias: false));
        }

        public Embedding Tokens { get; }
        public Embedding Positions { get; }
        public Sequential Blocks { get; }
        public LayerNorm Norm { get; }
        public Linear Head { get; }

        /// <summary>[B, T] int64 ids → [B, T, 16] logits.</summary>
        public override Tensor Forward(Tensor ids) =>
            Head.Call(Norm.Call(Blocks.Call(Tokens.Call(ids) + Positions.Call(Tensor.Arange(ids.Shape[1], DType.Int64)))));
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        float[] e = expected.ToArray<float>(), a = actual.ToArray<float>();
        double worst = 0;
        for (int i = 0; i < e.Length; i++) worst = Math.Max(worst, Math.Abs(e[i] - a[i]) / Math.Max(1, Math.Abs(e[i])));
        Assert.True(worst <= tolerance, $"largest difference {worst:E2} > {tolerance:E0}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Cnn_PyTorchWeights_GivePyTorchsOutputs(bool memoryMap)
    {
        Sequential model = Cnn();
        SafetensorsData weights = SafetensorsFile.Load(Fixture("cnn.safetensors"), memoryMap);
        Assert.Equal("pt", weights.Metadata["format"]);
        model.LoadStateDict(weights.Tensors); // strict: every name, shape and dtype matches
        Assert.Equal(7L, model.StateDict().Single(kv => kv.Key == "1.num_batches_tracked").Value.ToArray<long>()[0]);
        model.Eval();
        SafetensorsData io = SafetensorsFile.Load(Fixture("cnn_io.safetensors"));
        using (GradMode.Disable())
            AssertClose(io.Get("output"), model.Call(io.Get("input")), 1e-5);
    }

    [Fact]
    public void Gpt_PyTorchWeights_GivePyTorchsLogits()
    {
        var model = new Gpt();
        SafetensorsData weights = SafetensorsFile.Load(Fixture("gpt.safetensors"));
        Assert.Equal("gpt-test", weights.Metadata["model"]);
        model.LoadStateDict(weights.Tensors);
        model.Eval();
        SafetensorsData io = SafetensorsFile.Load(Fixture("gpt_io.safetensors"));
        Assert.Equal(DType.Int64, io.Get("ids").DType);
        using (GradMode.Disable())
            AssertClose(io.Get("logits"), model.Call(io.Get("ids")), 1e-5);
    }

    [Fact]
    public void Cnn_StateDictWrittenByBackprop_IsByteIdenticalToTheFixture()
    {
        Sequential model = Cnn();
        model.LoadStateDict(SafetensorsFile.Load(Fixture("cnn.safetensors")).Tensors);
        using var stream = new MemoryStream();
        SafetensorsWriter.Write(stream, model.StateDict(), new Dictionary<string, string> { ["format"] = "pt" });
        Assert.Equal(File.ReadAllBytes(Fixture("cnn.safetensors")), stream.ToArray());
    }

    [Fact]
    public void NarrowDTypes_AreWidenedExactly()
    {
        SafetensorsData d = SafetensorsFile.Load(Fixture("dtypes.safetensors"));
        foreach (string name in new[] { "f16", "bf16" })
        {
            Tensor narrow = d.Get(name), wide = d.Get(name + "_as_f32");
            Assert.Equal(DType.Float32, narrow.DType);
            Assert.Equal(wide.Shape, narrow.Shape);
            Assert.Equal(wide.ToArray<float>().Select(BitConverter.SingleToUInt32Bits), narrow.ToArray<float>().Select(BitConverter.SingleToUInt32Bits));
        }
        Assert.Equal(DType.Int64, d.Get("i32").DType);
        Assert.Equal(d.Get("i32_as_i64").ToArray<long>(), d.Get("i32").ToArray<long>());
        Assert.Equal(int.MinValue, d.Get("i32").ToArray<long>()[4]);
        Assert.Equal([true, false, true], d.Get("bool").ToArray<bool>());
        Assert.Equal([1.0, -2.0, 0.5, 1e300], d.Get("f64").ToArray<double>());
        Tensor scalar = d.Get("i64_scalar");
        Assert.Equal(0, scalar.Rank);
        Assert.Equal(-9007199254740993L, scalar.ToArray<long>()[0]);
        Assert.Equal([0, 3], d.Get("empty").Shape.ToArray());
        Assert.Equal("make_safetensors_fixtures.py", d.Metadata["source"]);
    }

    [Fact]
    public void ReadmeExample_Runs()
    {
        string dir = Directory.CreateTempSubdirectory("safetensors-readme").FullName;
        try
        {
            string mine = Path.Combine(dir, "mine.safetensors");
            var console = new StringWriter();
            // The README's code, with the fixture's path for cnn.safetensors and big.safetensors.
            var model = new Sequential(new Conv2d(1, 4, 3, padding: 1), new BatchNorm2d(4), new Relu(), new MaxPool2d(2),
                                       new Conv2d(4, 8, 3), new Relu(), new Flatten(), new Linear(32, 5));
            model.LoadStateDict(SafetensorsFile.Load(Fixture("cnn.safetensors")).Tensors);
            SafetensorsWriter.Save(mine, model.StateDict(), new Dictionary<string, string> { ["format"] = "pt" });
            using SafetensorsFile file = SafetensorsFile.Open(Fixture("gpt.safetensors"));
            foreach (SafetensorsEntry e in file.Entries) console.WriteLine($"{e.Name} {e.DType} [{string.Join(", ", e.Shape)}]");
            Tensor w = file.Read("blocks.0.fc1.weight");

            Assert.False(file.IsMemoryMapped); // 31 KB: below SafetensorsFile.MemoryMapThreshold
            Assert.Equal([64, 16], w.Shape.ToArray());
            Assert.Contains("blocks.1.attn.in_proj_weight F32 [48, 16]", console.ToString());
            Assert.Equal(File.ReadAllBytes(Fixture("cnn.safetensors")), File.ReadAllBytes(mine));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
