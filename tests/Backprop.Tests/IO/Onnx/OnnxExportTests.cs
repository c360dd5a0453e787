using Backprop.Autograd;
using Backprop.Cli.Recipes;
using Backprop.IO.Onnx;
using Backprop.IO.Onnx.Proto;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Ops.Conv;
using Backprop.Ops.Elementwise;
using Backprop.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Backprop.Tests.IO.Onnx;

/// <summary>
/// ONNX export checked by ONNX Runtime: each model is exported on an example batch and run in ONNX
/// Runtime on that batch and on batches of other sizes (the batch dim is symbolic); outputs match the
/// engine's forward in evaluation mode to 1e-5 relative (<see cref="OnnxRuntimeCheck"/>).
/// </summary>
public class OnnxExportTests
{
    private static Tensor Input(ulong seed, params int[] shape) => Tensor.Randn(shape, DType.Float32, new Generator(seed));

    public static TheoryData<string> Catalogue => OnnxExportCatalogue.Names();

    /// <summary>Exports one catalogue model and checks it in ONNX Runtime on its example and on inputs of other batch sizes (and lengths).</summary>
    internal static byte[] ExportAndCompare(OnnxCase c) => OnnxRuntimeCheck.ExportAndCompare(c.Model(), c.Example, c.Inputs, c.DimNames, c.Name);

    [Theory]
    [MemberData(nameof(Catalogue))]
    public void EveryCatalogueModelRunsInOnnxRuntimeAtOtherBatchSizesAndLengths(string name) => ExportAndCompare(OnnxExportCatalogue.Get(name));

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    public void FusedModelsExportAsTheirStandardOps(string name)
    {
        Sequential model = Models.Create(name, new Generator(7));
        int[] shape = Models.InputShape(name, 3);
        byte[] onnx = OnnxRuntimeCheck.ExportAndCompare(model, Input(8, shape), [Input(9, Models.InputShape(name, 6))]);
        string[] ops = ModelProto.Parser.ParseFrom(onnx).Graph.Node.Select(n => n.OpType).ToArray();
        string[] expected = name == "mlp"
            ? ["Gemm", "Relu", "Gemm", "Relu", "Gemm"]
            : ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm"];
        Assert.Equal(expected, ops);
    }

    [Fact]
    public void TheModelProtoHasIr8Opset17RawInitializersNamedAsTheStateDictAndASymbolicBatch()
    {
        Sequential mlp = Models.Mlp(new Generator(1));
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxExport.ToBytes(mlp, Input(2, 3, 784)));
        Assert.Equal(8, proto.IrVersion);
        OperatorSetIdProto opset = Assert.Single(proto.OpsetImport);
        Assert.Equal(("", 17L), (opset.Domain, opset.Version));
        Assert.Equal(mlp.StateDict().Select(kv => kv.Key), proto.Graph.Initializer.Select(t => t.Name));
        foreach (TensorProto t in proto.Graph.Initializer)
        {
            Tensor p = mlp.StateDict().Single(kv => kv.Key == t.Name).Value;
            Assert.Equal(p.Shape.ToArray().Select(d => (long)d), t.Dims);
            Assert.Equal((int)TensorProto.Types.DataType.Float, t.DataType);
            Assert.Empty(t.FloatData);
            Assert.Equal(p.ToArray<float>(), System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray());
        }
        ValueInfoProto input = Assert.Single(proto.Graph.Input), output = Assert.Single(proto.Graph.Output);
        Assert.Equal("input", input.Name);
        Assert.Equal("output", output.Name);
        Assert.Equal("batch", input.Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(784, input.Type.TensorType.Shape.Dim[1].DimValue);
        Assert.Equal("batch", output.Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(10, output.Type.TensorType.Shape.Dim[1].DimValue);
    }

    [Fact]
    public void AFixedBatchExportDeclaresEveryDim()
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxExport.ToBytes(new Linear(4, 2, generator: new Generator(1)), Input(1, 3, 4), dynamicBatch: false));
        Assert.Equal(3, proto.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimValue);
        Assert.Equal(3, proto.Graph.Output[0].Type.TensorType.Shape.Dim[0].DimValue);
    }

    [Fact]
    public void BatchNormExportsItsRunningStatisticsAndDropoutIsRemoved()
    {
        OnnxCase c = OnnxExportCatalogue.Get("batchnorm-dropout");
        Module model = c.Model();
        byte[] onnx = OnnxRuntimeCheck.ExportAndCompare(model, c.Example, c.Inputs);
        Assert.True(model.Training, "the export restores training mode");
        ModelProto proto = ModelProto.Parser.ParseFrom(onnx);
        Assert.DoesNotContain(proto.Graph.Node, n => n.OpType == "Dropout");
        Assert.Equal(2, proto.Graph.Node.Count(n => n.OpType == "BatchNormalization"));
        Assert.Contains(proto.Graph.Initializer, t => t.Name == "1.running_var");
    }

    [Fact]
    public void LinearOnASequenceUsesMatMulAndLayerNormOverTwoDims()
    {
        byte[] onnx = ExportAndCompare(OnnxExportCatalogue.Get("linear-on-sequence"));
        Assert.Contains(ModelProto.Parser.ParseFrom(onnx).Graph.Node, n => n.OpType == "MatMul");
    }

    [Fact]
    public void FlattenOfMiddleDimsIsAReshapeKeepingTheBatch()
    {
        ExportAndCompare(OnnxExportCatalogue.Get("flatten-middle"));
        byte[] onnx = ExportAndCompare(OnnxExportCatalogue.Get("flatten-tail"));
        Assert.Equal("Reshape", ModelProto.Parser.ParseFrom(onnx).Graph.Node[0].OpType);
        var all = new Sequential(new Flatten(0));
        Assert.Contains("'0' (Flatten): flattening dims 0..3", Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(all, Input(74, 2, 3, 4, 5))).Message);
    }

    [Fact]
    public void AdaptivePoolingAndUnflatten()
    {
        byte[] onnx = ExportAndCompare(OnnxExportCatalogue.Get("adaptive-pool-unflatten"));
        string[] ops = ModelProto.Parser.ParseFrom(onnx).Graph.Node.Select(n => n.OpType).ToArray();
        Assert.Equal(["Reshape", "Conv", "MaxPool", "Relu", "GlobalAveragePool", "Flatten", "Gemm"], ops);
        var uneven = new Sequential(new AdaptiveAvgPool2d((3, 3)));
        Assert.Contains("'0' (AdaptiveAvgPool2d): output 3×3 from input 7×7", Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(uneven, Input(122, 1, 2, 7, 7))).Message);
    }

    [Fact]
    public void AModelThatOnlyPassesItsInputThroughGetsAnIdentityNode()
    {
        byte[] onnx = ExportAndCompare(OnnxExportCatalogue.Get("identity-only"));
        Assert.Equal("Identity", Assert.Single(ModelProto.Parser.ParseFrom(onnx).Graph.Node).OpType);
    }

    private sealed class Doubler : Module
    {
        public override Tensor Forward(Tensor input) => input * 2;
    }

    [Fact]
    public void AnUnsupportedModuleIsAnErrorNamingItsPathAndType()
    {
        var model = new Sequential(("body", new Sequential(new Linear(3, 3), new Doubler())), ("head", new Linear(3, 1)));
        var e = Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(model, Input(100, 2, 3)));
        Assert.Contains("'body.1'", e.Message);
        Assert.Contains("Doubler", e.Message);
        Assert.True(model.Training, "the export restores training mode after an error too");
    }

    [Fact]
    public void UnsupportedSettingsAreErrorsNamingTheModule()
    {
        var reflect = new Sequential(new Conv2d(1, 1, 3, padding: 1, paddingMode: PaddingMode.Reflect));
        Assert.Contains("'0' (Conv2d): padding mode Reflect", Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(reflect, Input(1, 1, 1, 5, 5))).Message);
        var batchStats = new Sequential(new Linear(2, 2), new BatchNorm1d(2, trackRunningStats: false));
        Assert.Contains("'1' (BatchNorm1d): no running statistics", Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(batchStats, Input(1, 3, 2))).Message);
        var ints = Tensor.FromArray(new long[] { 1, 2 }, new Shape(1, 2));
        Assert.Contains("dtype", Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(new Linear(2, 1), ints)).Message);
    }

    [Fact]
    public void SaveWritesTheSameBytesAtomically()
    {
        string dir = Directory.CreateTempSubdirectory("onnx-export").FullName;
        try
        {
            Sequential mlp = Models.Mlp(new Generator(1));
            string path = Path.Combine(dir, "mlp.onnx");
            OnnxExport.Save(mlp, Input(2, 2, 784), path);
            Assert.Equal(OnnxExport.ToBytes(mlp, Input(2, 2, 784)), File.ReadAllBytes(path));
            using var session = new InferenceSession(path);
            OnnxRuntimeCheck.Compare(session, mlp, Input(3, 3, 784));
            Assert.Single(Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TheReadmeExampleRuns()
    {
        string dir = Directory.CreateTempSubdirectory("onnx-readme").FullName;
        try
        {
            var cnn = new Sequential(new Conv2d(1, 8, 3), new Relu(), new MaxPool2d(2), new Flatten(), new Dropout(0.2), new Linear(8 * 13 * 13, 10));
            OnnxExport.Save(cnn, Tensor.Zeros([1, 1, 28, 28]), Path.Combine(dir, "cnn.onnx"));
            byte[] bytes = OnnxExport.ToBytes(cnn.Fuse(), Tensor.Zeros([1, 1, 28, 28]), dynamicBatch: false);
            using var session = new InferenceSession(Path.Combine(dir, "cnn.onnx"));
            OnnxRuntimeCheck.Compare(session, cnn, Input(110, 4, 1, 28, 28));
            using var fixedBatch = new InferenceSession(bytes);
            OnnxRuntimeCheck.Compare(fixedBatch, cnn, Input(111, 1, 1, 28, 28));
            Assert.Equal(["Conv", "Relu", "MaxPool", "Flatten", "Gemm"], ModelProto.Parser.ParseFrom(bytes).Graph.Node.Select(n => n.OpType));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TheReadmeTokenModelExampleRuns()
    {
        string dir = Directory.CreateTempSubdirectory("onnx-readme").FullName;
        try
        {
            var lm = new Sequential(new Embedding(256, 32), new SinusoidalPositionEmbedding(64, 32), new TransformerBlock(32, 4, 128),
                                    new LayerNorm(32), new Linear(32, 256));
            OnnxExport.Save(lm, Tensor.Zeros([1, 8], DType.Int64), Path.Combine(dir, "lm.onnx"), [OnnxExport.BatchDimName, OnnxExport.SequenceDimName]);
            using var session = new InferenceSession(Path.Combine(dir, "lm.onnx"));
            foreach (var (batch, length) in new[] { (2, 8), (3, 64), (1, 1) })
                OnnxRuntimeCheck.Compare(session, lm, Tensor.RandInt(new Shape(batch, length), 0, 256, new Generator((ulong)length)));
            var inputType = session.InputMetadata["input"];
            Assert.Equal(typeof(long), inputType.ElementType);
            Assert.Equal(["batch", "sequence"], inputType.SymbolicDimensions);
            Assert.Equal(["batch", "sequence", ""], session.OutputMetadata["output"].SymbolicDimensions);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
