using Backprop.IO.Onnx;
using Backprop.IO.Onnx.Proto;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Backprop.Tests.IO.Onnx;

/// <summary>
/// The graph the export writes for sequence models: int64 token inputs, symbolic batch and sequence dims, standard
/// opset-17 ops only, ONNX's recurrent ops with their attributes. Values are checked in ONNX Runtime by the
/// catalogue test (<see cref="OnnxExportTests.EveryCatalogueModelRunsInOnnxRuntimeAtOtherBatchSizesAndLengths"/>).
/// </summary>
public class OnnxSequenceExportTests
{
    private static ModelProto Export(string name)
    {
        OnnxCase c = OnnxExportCatalogue.Get(name);
        return ModelProto.Parser.ParseFrom(OnnxExport.ToBytes(c.Model(), c.Example, c.DimNames));
    }

    private static string[] Dims(ValueInfoProto v) => v.Type.TensorType.Shape.Dim.Select(d => d.DimParam.Length > 0 ? d.DimParam : d.DimValue.ToString()).ToArray();

    [Fact]
    public void ATokenModelHasAnInt64InputAndSymbolicBatchAndSequenceDims()
    {
        ModelProto proto = Export("embedding");
        ValueInfoProto input = Assert.Single(proto.Graph.Input), output = Assert.Single(proto.Graph.Output);
        Assert.Equal((int)TensorProto.Types.DataType.Int64, input.Type.TensorType.ElemType);
        Assert.Equal((int)TensorProto.Types.DataType.Float, output.Type.TensorType.ElemType);
        Assert.Equal(["batch", "sequence"], Dims(input));
        Assert.Equal(["batch", "sequence", "4"], Dims(output));
        Assert.Equal("Gather", proto.Graph.Node[0].OpType);
        Assert.Equal("0.weight", proto.Graph.Node[0].Input[0]);
    }

    [Fact]
    public void TheCharGptIsStandardOpsWithItsStateDictNamesAndAnyLength()
    {
        ModelProto proto = Export("char-gpt");
        Assert.All(proto.Graph.Node, n => Assert.Equal("", n.Domain));
        string[] ops = proto.Graph.Node.Select(n => n.OpType).Distinct().Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["Add", "Erf", "Gather", "Greater", "LayerNormalization", "MatMul", "Mul", "Range", "Reshape", "Shape", "Slice", "Softmax", "Squeeze", "Transpose", "Unsqueeze", "Where"], ops);
        string[] names = proto.Graph.Initializer.Select(t => t.Name).ToArray();
        Assert.Contains("tok_emb.weight", names);
        Assert.Contains("pos_emb.weight", names);
        Assert.Contains("blocks.1.attn.out_proj.weight_t", names);
        Assert.Contains("head.weight_t", names);
        Assert.Equal(["batch", "sequence", "256"], Dims(proto.Graph.Output[0]));
    }

    [Fact]
    public void RecurrentLayersAreOneOnnxOpPerLayerWithPyTorchsGruVariant()
    {
        ModelProto lstm = Export("lstm-bidirectional-two-layers");
        NodeProto[] cells = lstm.Graph.Node.Where(n => n.OpType == "LSTM").ToArray();
        Assert.Equal(2, cells.Length);
        Assert.All(cells, n => Assert.Equal("bidirectional", n.Attribute.Single(a => a.Name == "direction").S.ToStringUtf8()));
        Assert.Equal(["sequence", "batch", "12"], Dims(lstm.Graph.Output[0]));
        TensorProto w = lstm.Graph.Initializer.Single(t => t.Name == "W_l1");
        Assert.Equal([2L, 24, 12], w.Dims);                           // [directions, 4·hidden, directions·hidden]
        NodeProto gru = Export("gru-unbatched").Graph.Node.Single(n => n.OpType == "GRU");
        Assert.Equal(1, gru.Attribute.Single(a => a.Name == "linear_before_reset").I);
        NodeProto[] rnns = Export("rnn-tanh-and-relu").Graph.Node.Where(n => n.OpType == "RNN").ToArray();
        Assert.Equal(["Tanh", "Tanh"], rnns[0].Attribute.Single(a => a.Name == "activations").Strings.Select(s => s.ToStringUtf8()));
        Assert.Equal(["Relu"], rnns[2].Attribute.Single(a => a.Name == "activations").Strings.Select(s => s.ToStringUtf8()));
    }

    [Fact]
    public void MoreDimNamesThanTheInputHasDimsIsAnError()
    {
        var e = Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(new Linear(3, 2), Tensor.Zeros([2, 3]), ["batch", "x", "y"]));
        Assert.Contains("3 dim names for the example input [2, 3]", e.Message);
    }

    private static Tensor Randn(ulong seed, params int[] shape) => Tensor.Randn(shape, DType.Float32, new Generator(seed));

    private static void AssertOutput(Dictionary<string, (double[] Values, long[] Shape)> got, string name, Tensor expected)
        => OnnxRuntimeCheck.AssertClose(expected, got[name].Values, got[name].Shape, name);

    [Fact]
    public void AnLstmsInitialAndFinalStatesCanBeGraphInputsAndOutputs()
    {
        var model = new StatefulLstm();
        OnnxCase c = OnnxExportCatalogue.Get("lstm-with-states");
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxExport.ToBytes(model, c.Example, c.DimNames));
        Assert.Equal(["input", "h0", "c0"], proto.Graph.Input.Select(i => i.Name));
        Assert.Equal(["output", "h_n", "c_n"], proto.Graph.Output.Select(i => i.Name));
        Assert.Equal(["4", "batch", "5"], Dims(proto.Graph.Input[1]));
        Assert.Equal(["batch", "sequence", "10"], Dims(proto.Graph.Output[0]));
        using var session = new InferenceSession(proto.ToByteArray());
        foreach (var (batch, length) in new[] { (3, 7), (2, 4), (5, 1) })
        {
            ulong seed = (ulong)(10 * batch + length);
            Tensor x = Randn(seed, batch, length, 4), h0 = Randn(seed + 1, 4, batch, 5), c0 = Randn(seed + 2, 4, batch, 5);
            var got = OnnxRuntimeCheck.RunAll(session, ("input", x), ("h0", h0), ("c0", c0));
            var (y, (h, cn)) = model.Lstm.Forward(x, (h0, c0));
            AssertOutput(got, "output", y);
            AssertOutput(got, "h_n", h);
            AssertOutput(got, "c_n", cn);
        }
    }

    [Fact]
    public void AnUnbatchedGrusStateIsAGraphInputAndOutput()
    {
        var model = new StatefulGru();
        OnnxCase c = OnnxExportCatalogue.Get("gru-unbatched-with-state");
        using var session = new InferenceSession(OnnxExport.ToBytes(model, c.Example, c.DimNames));
        foreach (int length in new[] { 6, 2, 11 })
        {
            Tensor x = Randn((ulong)length, length, 4), h0 = Randn((ulong)length + 1, 1, 3);
            var got = OnnxRuntimeCheck.RunAll(session, ("input", x), ("h0", h0));
            var (y, h) = model.Gru.Forward(x, h0);
            AssertOutput(got, "output", y);
            AssertOutput(got, "h_n", h);
        }
    }

    [Fact]
    public void AttentionTakesABoolPaddingMaskAndAFloatMaskOnTopOfTheCausalOne()
    {
        var model = new MaskedAttention();
        OnnxCase c = OnnxExportCatalogue.Get("attention-with-masks");
        using var session = new InferenceSession(OnnxExport.ToBytes(model, c.Example, c.DimNames));
        foreach (var (batch, length) in new[] { (2, 5), (3, 8), (1, 1) })
        {
            Tensor x = Randn((ulong)(batch * 10 + length), batch, length, 8);
            (model.Padding, model.Mask) = MaskedAttention.Masks(batch, length, (ulong)length);
            var got = OnnxRuntimeCheck.RunAll(session, ("input", x), ("key_padding_mask", model.Padding), ("attn_mask", model.Mask));
            AssertOutput(got, "output", model.Call(x));
        }
    }

    [Fact]
    public void AttentionTakesAnInt64PaddingMaskAndABoolMaskPerHead()
    {
        var model = new HeadMaskedAttention();
        OnnxCase c = OnnxExportCatalogue.Get("attention-with-head-masks");
        using var session = new InferenceSession(OnnxExport.ToBytes(model, c.Example, c.DimNames));
        foreach (int length in new[] { 5, 9, 2 })
        {
            Tensor x = Randn((ulong)length, 2, length, 8);
            (model.Padding, model.Mask) = HeadMaskedAttention.Masks(length);
            var got = OnnxRuntimeCheck.RunAll(session, ("input", x), ("key_padding_mask", model.Padding), ("attn_mask", model.Mask));
            AssertOutput(got, "output", model.Call(x));
        }
    }

    [Theory]
    [InlineData("lstm-with-lengths")]
    [InlineData("gru-with-lengths")]
    [InlineData("rnn-with-lengths")]
    public void VariableLengthBatchesAreOnnxsSequenceLens(string name)
    {
        OnnxCase c = OnnxExportCatalogue.Get(name);
        var model = (PackedRecurrent)c.Model();
        using var session = new InferenceSession(OnnxExport.ToBytes(model, c.Example, c.DimNames));
        bool batchFirst = model.Layer.BatchFirst;
        foreach (long[] lengths in new[] { model.Lengths.ToArray<long>(), [7, 1, 4, 7], [1] })
        {
            int steps = (int)lengths.Max(), batch = lengths.Length;
            Tensor x = Randn((ulong)(steps * 10 + batch), batchFirst ? [batch, steps, 4] : [steps, batch, 4]);
            model.Lengths = Tensor.FromArray(lengths);
            var got = OnnxRuntimeCheck.RunAll(session, ("input", x), ("lengths", model.Lengths));
            var (y, h) = model.Run(x);
            AssertOutput(got, "output", y);
            AssertOutput(got, "h_n", h);
        }
    }

    [Fact]
    public void CrossAttentionWithKdimVdimAddedKeysPaddingAndCausalMasks()
    {
        var model = new CrossAttention();
        OnnxCase c = OnnxExportCatalogue.Get("cross-attention");
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxExport.ToBytes(model, c.Example, c.DimNames));
        Assert.Equal(["input", "key", "value", "key_padding_mask"], proto.Graph.Input.Select(i => i.Name));
        Assert.Contains(proto.Graph.Initializer, t => t.Name == "attn.k_proj_weight_t");
        using var session = new InferenceSession(proto.ToByteArray());
        foreach (var (length, memory, batch) in new[] { (4, 6, 2), (7, 3, 3), (1, 1, 1), (5, 9, 4) })
        {
            Tensor x = Randn((ulong)(100 * length + 10 * memory + batch), length, batch, 8);
            (model.Key, model.Value, model.Padding) = CrossAttention.Memory(memory, batch, (ulong)memory);
            var got = OnnxRuntimeCheck.RunAll(session, ("input", x), ("key", model.Key), ("value", model.Value), ("key_padding_mask", model.Padding));
            AssertOutput(got, "output", model.Call(x));
        }
    }
}
