using Backprop.Autograd;
using Backprop.Cli.Recipes;
using Backprop.IO.Onnx;
using Backprop.IO.Onnx.Import;
using Backprop.IO.Onnx.Proto;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Ops.Elementwise;
using Backprop.Optim;
using Backprop.Tensors;
using Google.Protobuf;
using F = Backprop.NN.Functional;

namespace Backprop.Tests.IO.Onnx;

/// <summary>
/// ONNX import: models exported by PyTorch (tests/Backprop.Tests/IO/Fixtures/make_onnx_fixtures.py, Debian's torch 1.13,
/// opset 17) reproduce PyTorch's outputs at two batch sizes; imported models fine-tune; state dicts carry the file's
/// names; unsupported ops and malformed files are errors that say where. (Every model OnnxExportTests exports is also
/// imported back there, through <see cref="OnnxRuntimeCheck"/>.)
/// </summary>
public class OnnxImportTests
{
    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "IO", "Fixtures", name);

    internal static Tensor ReadTensor(string path) => OnnxTensors.Read(TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)), path);

    private static void AssertClose(Tensor expected, Tensor got, double rtol)
    {
        Assert.Equal(expected.Shape, got.Shape);
        double[] want = expected.ToDoubleArray(), have = got.ToDoubleArray();
        double scale = 1e-3;
        foreach (double v in want) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(have[i] - want[i]) <= rtol * scale, $"element {i}: imported {have[i]:R}, PyTorch {want[i]:R}");
    }

    [Theory]
    [InlineData("cnn")]
    [InlineData("attention")]
    [InlineData("gpt")] // a trained 2-block GPT, int64 ids in, batch and time both dynamic ([2, 8] and [3, 5])
    public void PyTorchExportsReproducePyTorchsOutputsAtAnyBatchSize(string name)
    {
        OnnxModel model = OnnxImport.Load(Fixture($"pytorch_{name}.onnx"));
        for (int k = 0; k < 2; k++)
        {
            Tensor x = ReadTensor(Fixture($"pytorch_{name}_input_{k}.pb")), want = ReadTensor(Fixture($"pytorch_{name}_output_{k}.pb"));
            Tensor y;
            using (GradMode.Disable()) y = model.Call(x);
            AssertClose(want, y, 1e-5);
        }
    }

    [Fact]
    public void InitializersAreParametersAndBuffersNamedAsInTheFile()
    {
        OnnxModel cnn = OnnxImport.Load(Fixture("pytorch_cnn.onnx"));
        ModelProto proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixture("pytorch_cnn.onnx")));
        Assert.Equal(proto.Graph.Initializer.Select(t => t.Name).Order(), cnn.StateDict().Select(kv => kv.Key).Order());
        string[] buffers = [.. cnn.NamedBuffers().Select(kv => kv.Key)];
        Assert.Equal(["9.running_mean", "9.running_var"], buffers);
        Assert.Contains(cnn.NamedParameters(), kv => kv.Key == "11.weight" && kv.Value.Shape == new Shape(5, 16));
        Assert.Contains(cnn.NamedParameters(), kv => kv.Key.StartsWith("onnx::Conv_", StringComparison.Ordinal)); // conv weights with batch norm folded in
        Assert.False(cnn.Training, "an imported model starts in evaluation mode");

        // Our own export names initializers as the state dict, so the imported state dict loads into the original.
        Sequential mlp = Models.Mlp(new Generator(1));
        OnnxModel back = OnnxImport.Load(OnnxExport.ToBytes(mlp, Tensor.Zeros([2, 784])));
        Assert.Equal(mlp.StateDict().Select(kv => kv.Key), back.StateDict().Select(kv => kv.Key));
        mlp.LoadStateDict(back.StateDict());
        Assert.Equal(["input"], back.InputNames);
        Assert.Equal(["output"], back.OutputNames);
        Assert.Equal([null, 784], back.InputDims());
    }

    [Fact]
    public void AnImportedModelFineTunes()
    {
        OnnxModel model = OnnxImport.Load(Fixture("pytorch_attention.onnx"));
        model.Train();
        var g = new Generator(5);
        Tensor x = Tensor.Randn([8, 5, 8], generator: g);
        Tensor target = Tensor.FromArray(new long[] { 0, 1, 2, 0, 1, 2, 0, 1 }, new Shape(8));
        Tensor before = model.NamedParameters().Single(kv => kv.Key == "head.weight").Value.Data.Clone();
        var optimizer = new Adam(model.Parameters(), new AdamOptions(LearningRate: 0.01));
        double first = 0, last = 0;
        for (int step = 0; step < 20; step++)
        {
            optimizer.ZeroGrad();
            Tensor loss = F.CrossEntropy(model.Call(x), target);
            loss.Backward();
            if (step == 0)
            {
                first = loss.Item();
                Assert.All(model.Parameters(), p => Assert.NotNull(p.Grad));
            }
            last = loss.Item();
            optimizer.Step();
        }
        Assert.True(last < 0.5 * first, $"the loss fell from {first} to {last}");
        Assert.NotEqual(before.ToArray<float>(), model.NamedParameters().Single(kv => kv.Key == "head.weight").Value.Data.ToArray<float>());
    }

    [Fact]
    public void GradientsMatchTheEnginesThroughAnImportedGraph()
    {
        // The exported CLI cnn, imported: the same loss gives the same gradients as the engine's own model.
        Sequential cnn = Models.Cnn(new Generator(2));
        OnnxModel back = OnnxImport.Load(OnnxExport.ToBytes(cnn, Tensor.Zeros([1, 1, 28, 28])));
        cnn.Eval();
        Tensor x = Tensor.Randn([3, 1, 28, 28], generator: new Generator(3));
        Tensor target = Tensor.FromArray(new long[] { 1, 4, 9 }, new Shape(3));
        F.CrossEntropy(cnn.Call(x), target).Backward();
        F.CrossEntropy(back.Call(x), target).Backward();
        var ours = back.NamedParameters().ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var (name, p) in cnn.NamedParameters())
        {
            double[] want = p.Grad!.ToDoubleArray(), got = ours[name].Grad!.ToDoubleArray();
            for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) <= 1e-5 * (1 + Math.Abs(want[i])), $"{name}[{i}]: {got[i]} vs {want[i]}");
        }
    }

    [Fact]
    public void TheReadmeExampleRuns()
    {
        Tensor x = ReadTensor(Fixture("pytorch_cnn_input_1.pb")), labels = Tensor.FromArray(new long[] { 0, 3, 4 }, new Shape(3));
        Tensor before = ReadTensor(Fixture("pytorch_cnn_output_1.pb"));

        OnnxModel model = OnnxImport.Load(Fixture("pytorch_cnn.onnx"));
        Tensor logits;
        using (GradMode.Disable()) logits = model.Call(x);
        model.Train();
        var optimizer = new Adam(model.Parameters(), new AdamOptions(LearningRate: 1e-3));
        Functional.CrossEntropy(model.Call(x), labels).Backward();
        optimizer.Step();

        AssertClose(before, logits, 1e-5);
        Assert.Contains(model.StateDict(), kv => kv.Key == "9.running_mean");
        Assert.Contains(model.StateDict(), kv => kv.Key == "11.weight");
        Tensor after;
        using (GradMode.Disable()) after = model.Eval().Call(x);
        Assert.NotEqual(logits.ToArray<float>(), after.ToArray<float>());
    }

    private static ModelProto Graph(params NodeProto[] nodes)
    {
        var model = new ModelProto { IrVersion = 8, Graph = new GraphProto { Name = "g" } };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        model.Graph.Node.AddRange(nodes);
        model.Graph.Input.Add(new ValueInfoProto
        {
            Name = "x",
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimParam = "n" }, new TensorShapeProto.Types.Dimension { DimValue = 3 } } } } },
        });
        model.Graph.Output.Add(new ValueInfoProto { Name = nodes[^1].Output[0] });
        return model;
    }

    private static NodeProto Node(string op, string name, string[] inputs, string output) =>
        new() { OpType = op, Name = name, Input = { inputs }, Output = { output } };

    [Fact]
    public void AnUnsupportedOpIsAnErrorNamingTheOpTheNodeAndItsIndex()
    {
        byte[] bytes = Graph(Node("Relu", "first", ["x"], "a"), Node("NonMaxSuppression", "nms_1", ["a"], "b")).ToByteArray();
        var e = Assert.Throws<NotSupportedException>(() => OnnxImport.Load(bytes, "nms.onnx"));
        Assert.Contains("nms.onnx: ONNX node 1 'nms_1' (NonMaxSuppression): op type 'NonMaxSuppression' is not supported", e.Message);
        ModelProto other = Graph(Node("Relu", "r", ["x"], "a"));
        other.Graph.Node[0].Domain = "com.microsoft";
        Assert.Contains("domain 'com.microsoft'", Assert.Throws<NotSupportedException>(() => OnnxImport.Load(other.ToByteArray())).Message);
    }

    [Fact]
    public void MalformedFilesAreInvalidDataNamingTheFileAndTheField()
    {
        string dir = Directory.CreateTempSubdirectory("onnx-import").FullName;
        try
        {
            string path = Path.Combine(dir, "junk.onnx");
            File.WriteAllBytes(path, [0x0A, 0xFF, 0xFF, 0xFF, 0x7F, 1, 2]);
            Assert.StartsWith(path + ": not a valid ONNX file", Assert.Throws<InvalidDataException>(() => OnnxImport.Load(path)).Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        ModelProto undefined = Graph(Node("Relu", "r", ["y"], "a"));
        Assert.Contains("ONNX node 0 'r' (Relu): input 0 'y' is not an initializer", Assert.Throws<InvalidDataException>(() => OnnxImport.Load(undefined.ToByteArray(), "m")).Message);

        ModelProto hostile = Graph(Node("Add", "add", ["x", "w"], "a"));
        var w = new TensorProto { Name = "w", DataType = 1, Dims = { 1L << 16, 1L << 15 }, RawData = ByteString.CopyFrom(new byte[8]) };
        hostile.Graph.Initializer.Add(w);
        Assert.Contains("graph.initializer[0] 'w': dims [65536, 32768] hold more than 2^31 elements", Assert.Throws<InvalidDataException>(() => OnnxImport.Load(hostile.ToByteArray(), "m")).Message);
        w.Dims.Clear();
        w.Dims.Add(1 << 30);
        Assert.Contains("raw_data has 8 bytes, but dims [1073741824] of FLOAT need 4294967296", Assert.Throws<InvalidDataException>(() => OnnxImport.Load(hostile.ToByteArray(), "m")).Message);
        w.Dims[0] = 2;
        w.DataLocation = TensorProto.Types.DataLocation.External;
        Assert.Contains("external file", Assert.Throws<InvalidDataException>(() => OnnxImport.Load(hostile.ToByteArray(), "m")).Message);
    }

    [Fact]
    public void Opset20GeluAndGraphsWithSeveralInputsAndOutputs()
    {
        ModelProto gelu = Graph(new NodeProto { OpType = "Gelu", Name = "g", Input = { "x" }, Output = { "a" }, Attribute = { new AttributeProto { Name = "approximate", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("tanh") } } });
        gelu.OpsetImport[0].Version = 20;
        Tensor x = Tensor.Randn([4, 3], generator: new Generator(9));
        Assert.Equal(x.Gelu(GeluApproximation.Tanh).ToArray<float>(), OnnxImport.Load(gelu.ToByteArray()).Call(x).ToArray<float>());

        // Two inputs (x, y), two outputs: x·y and x + y; Forward refuses, Run takes both.
        ModelProto two = Graph(Node("Mul", "m", ["x", "y"], "prod"), Node("Add", "s", ["x", "y"], "sum"));
        two.Graph.Input.Add(new ValueInfoProto { Name = "y", Type = two.Graph.Input[0].Type });
        two.Graph.Output.Clear();
        two.Graph.Output.Add(new ValueInfoProto { Name = "prod" });
        two.Graph.Output.Add(new ValueInfoProto { Name = "sum" });
        OnnxModel model = OnnxImport.Load(two.ToByteArray(), "two");
        Assert.Equal(["x", "y"], model.InputNames);
        Assert.Equal(["prod", "sum"], model.OutputNames);
        Tensor y = Tensor.Randn([4, 3], generator: new Generator(10));
        Tensor[] outputs = model.Run(x, y);
        Assert.Equal((x * y).ToArray<float>(), outputs[0].ToArray<float>());
        Assert.Equal((x + y).ToArray<float>(), outputs[1].ToArray<float>());
        Assert.Contains("the graph takes 2 inputs (x, y)", Assert.Throws<InvalidOperationException>(() => model.Call(x)).Message);
    }

    [Fact]
    public void InputsAreCheckedAgainstTheDeclarationAndNodeErrorsNameTheNode()
    {
        OnnxModel relu = OnnxImport.Load(Graph(Node("Relu", "r", ["x"], "a")).ToByteArray(), "m");
        Assert.Equal(new Shape(5, 3), relu.Call(Tensor.Zeros([5, 3])).Shape);
        Assert.Contains("input 'x' must have shape [n, 3], got [2, 4]", Assert.Throws<ArgumentException>(() => relu.Call(Tensor.Zeros([2, 4]))).Message);
        Assert.Contains("input 'x' must be float32, got float64", Assert.Throws<ArgumentException>(() => relu.Call(Tensor.Zeros([2, 3], DType.Float64))).Message);

        ModelProto reshape = Graph(Node("Reshape", "bad_reshape", ["x", "shape"], "a"));
        reshape.Graph.Initializer.Add(new TensorProto { Name = "shape", DataType = 7, Dims = { 1 }, Int64Data = { 7 } });
        OnnxModel model = OnnxImport.Load(reshape.ToByteArray(), "m");
        Assert.Contains("ONNX node 0 'bad_reshape' (Reshape)", Assert.Throws<ArgumentException>(() => model.Call(Tensor.Zeros([2, 3]))).Message);
    }
}
