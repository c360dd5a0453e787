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

    [Fact]
    public void TheCliMlpRunsInOnnxRuntimeAtAnyBatchSize()
    {
        Sequential mlp = Models.Mlp(new Generator(1));
        OnnxRuntimeCheck.ExportAndCompare(mlp, Input(2, 4, 784), [Input(3, 4, 784), Input(4, 1, 784), Input(5, 7, 784)]);
    }

    [Fact]
    public void TheCliCnnRunsInOnnxRuntimeAtAnyBatchSize()
    {
        Sequential cnn = Models.Cnn(new Generator(1));
        OnnxRuntimeCheck.ExportAndCompare(cnn, Input(2, 2, 1, 28, 28), [Input(3, 2, 1, 28, 28), Input(4, 5, 1, 28, 28)]);
    }

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
        var g = new Generator(3);
        var model = new Sequential(
            new Conv2d(3, 8, 3, padding: 1, bias: false, generator: g), new BatchNorm2d(8), new Relu(), new Dropout(0.5, g),
            new AvgPool2d(2), new Flatten(), new Linear(8 * 4 * 4, 16, generator: g), new BatchNorm1d(16), new Tanh(), new Linear(16, 5, generator: g));
        using (GradMode.Disable())
            for (int i = 0; i < 3; i++) model.Call(Input(20 + (ulong)i, 6, 3, 8, 8)); // training mode: running statistics move away from 0 and 1
        byte[] onnx = OnnxRuntimeCheck.ExportAndCompare(model, Input(30, 4, 3, 8, 8), [Input(31, 4, 3, 8, 8), Input(32, 9, 3, 8, 8)]);
        Assert.True(model.Training, "the export restores training mode");
        ModelProto proto = ModelProto.Parser.ParseFrom(onnx);
        Assert.DoesNotContain(proto.Graph.Node, n => n.OpType == "Dropout");
        Assert.Equal(2, proto.Graph.Node.Count(n => n.OpType == "BatchNormalization"));
        Assert.Contains(proto.Graph.Initializer, t => t.Name == "1.running_var");
    }

    [Fact]
    public void LayerNormGeluAndOtherActivations()
    {
        var g = new Generator(4);
        var ln = new LayerNorm(12);
        using (GradMode.Disable())
        {
            ln.Weight!.Data.CopyFrom(Input(40, 12));
            ln.Bias!.Data.CopyFrom(Input(41, 12));
        }
        var model = new Sequential(
            new Linear(6, 12, generator: g), ln, new Gelu(), new Linear(12, 12, generator: g), new Gelu(GeluApproximation.Tanh),
            new Residual(new Sequential(new Linear(12, 12, generator: g), new Silu())), new LeakyRelu(0.2), new Sigmoid(),
            new LayerNorm(12, elementwiseAffine: false), new Linear(12, 3, generator: g));
        OnnxRuntimeCheck.ExportAndCompare(model, Input(42, 5, 6), [Input(43, 5, 6), Input(44, 2, 6)]);
    }

    [Fact]
    public void LinearOnASequenceUsesMatMulAndLayerNormOverTwoDims()
    {
        var g = new Generator(5);
        var model = new Sequential(new Linear(4, 6, generator: g), new Relu(), new LayerNorm([3, 6]), new Linear(6, 2, bias: false, generator: g));
        byte[] onnx = OnnxRuntimeCheck.ExportAndCompare(model, Input(50, 2, 3, 4), [Input(51, 5, 3, 4)]);
        Assert.Contains(ModelProto.Parser.ParseFrom(onnx).Graph.Node, n => n.OpType == "MatMul");
    }

    [Fact]
    public void ConvolutionSettingsAndPoolingSettings()
    {
        var g = new Generator(6);
        var model = new Sequential(
            new Conv2d(4, 6, (3, 2), stride: (2, 1), padding: (1, 2), dilation: (1, 2), groups: 2, generator: g),
            new MaxPool2d(3, stride: 2, padding: 1, ceilMode: true),
            new Conv2d(6, 6, 4, padding: "same", generator: g),
            new AvgPool2d(2, stride: 1, padding: 1, countIncludePad: false),
            new Conv2d(6, 3, 3, padding: "valid", dilation: 2, generator: g),
            new Flatten(2));
        OnnxRuntimeCheck.ExportAndCompare(model, Input(60, 2, 4, 17, 15), [Input(61, 3, 4, 17, 15)]);
    }

    [Fact]
    public void FlattenOfMiddleDimsIsAReshapeKeepingTheBatch()
    {
        var model = new Sequential(new Flatten(1, 2), new Linear(5, 3, generator: new Generator(7)));
        OnnxRuntimeCheck.ExportAndCompare(model, Input(70, 2, 3, 4, 5), [Input(71, 6, 3, 4, 5)]);
        var tail = new Sequential(new Flatten(2), new Linear(20, 3, generator: new Generator(7)));
        byte[] onnx = OnnxRuntimeCheck.ExportAndCompare(tail, Input(72, 2, 3, 4, 5), [Input(73, 6, 3, 4, 5)]);
        Assert.Equal("Reshape", ModelProto.Parser.ParseFrom(onnx).Graph.Node[0].OpType);
        var all = new Sequential(new Flatten(0));
        Assert.Contains("'0' (Flatten): flattening dims 0..3", Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(all, Input(74, 2, 3, 4, 5))).Message);
    }

    [Fact]
    public void AdaptivePoolingAndUnflatten()
    {
        var g = new Generator(9);
        var model = new Sequential(
            new Unflatten(1, [2, 6, 8]), new Conv2d(2, 4, 3, padding: 1, generator: g), new AdaptiveMaxPool2d((3, 4)), new Relu(),
            new AdaptiveAvgPool2d(1), new Flatten(), new Linear(4, 3, generator: g));
        byte[] onnx = OnnxRuntimeCheck.ExportAndCompare(model, Input(120, 2, 96), [Input(121, 5, 96)]);
        string[] ops = ModelProto.Parser.ParseFrom(onnx).Graph.Node.Select(n => n.OpType).ToArray();
        Assert.Equal(["Reshape", "Conv", "MaxPool", "Relu", "GlobalAveragePool", "Flatten", "Gemm"], ops);
        var uneven = new Sequential(new AdaptiveAvgPool2d((3, 3)));
        Assert.Contains("'0' (AdaptiveAvgPool2d): output 3×3 from input 7×7", Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(uneven, Input(122, 1, 2, 7, 7))).Message);
    }

    [Fact]
    public void Float64ModelsExportAsDouble()
    {
        var model = new Sequential(new Linear(5, 4, generator: new Generator(8), dtype: DType.Float64), new Tanh(), new LayerNorm(4, dtype: DType.Float64));
        OnnxRuntimeCheck.ExportAndCompare(model, Input(80, 3, 5).To(DType.Float64), [Input(81, 7, 5).To(DType.Float64)]);
    }

    [Fact]
    public void AModelThatOnlyPassesItsInputThroughGetsAnIdentityNode()
    {
        var model = new Sequential(new Dropout(), new Identity());
        byte[] onnx = OnnxRuntimeCheck.ExportAndCompare(model, Input(90, 2, 3), [Input(91, 4, 3)]);
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
}
