using Backprop.Autograd;
using Backprop.Cli.Recipes;
using Backprop.IO.Onnx;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Ops.Elementwise;
using Backprop.Tensors;

namespace Backprop.Tests.IO.Onnx;

/// <summary>One model to export: built fresh, exported on <see cref="Example"/> with <see cref="DimNames"/> symbolic, checked on <see cref="Inputs"/>.</summary>
/// <remarks><see cref="OwnInputs"/>: the graph has inputs of its own besides the model input (states, masks); its test feeds them.</remarks>
internal sealed record OnnxCase(string Name, Func<Module> Model, Tensor Example, Tensor[] Inputs, string?[] DimNames, bool OwnInputs = false)
{
    public override string ToString() => Name;
}

/// <summary>
/// Every kind of model the export tests export, by name: the ONNX Runtime tests check each against the engine, and
/// the onnx.checker test (<see cref="OnnxCheckerTests"/>) exports the whole catalogue itself and checks every file,
/// so it does not depend on which other tests ran first.
/// </summary>
internal static class OnnxExportCatalogue
{
    private const string B = OnnxExport.BatchDimName, T = OnnxExport.SequenceDimName;

    private static Tensor Input(ulong seed, params int[] shape) => Tensor.Randn(shape, DType.Float32, new Generator(seed));

    private static Tensor Tokens(ulong seed, long vocabulary, params int[] shape) => Tensor.RandInt(new Shape(shape), 0, vocabulary, new Generator(seed));

    /// <summary>Every parameter drawn again from N(0, 0.3²): biases the layers start at 0 (attention's) and norms at 1 get values that show a wrong mapping.</summary>
    public static T0 Perturbed<T0>(T0 model, ulong seed) where T0 : Module
    {
        var g = new Generator(seed);
        using (GradMode.Disable())
            foreach (Parameter p in model.Parameters()) p.Data.CopyFrom(Tensor.Randn(p.Data.Shape.ToArray(), p.Data.DType, g) * 0.3);
        return model;
    }

    private static OnnxCase Case(string name, Func<Module> model, Tensor example, Tensor[] inputs, params string?[] dims) => new(name, model, example, inputs, dims.Length == 0 ? [B] : dims);

    public static readonly OnnxCase[] All =
    [
        // The feed-forward and convolutional models the first export covered.
        Case("cli-mlp", () => Models.Mlp(new Generator(1)), Input(2, 4, 784), [Input(3, 4, 784), Input(4, 1, 784), Input(5, 7, 784)]),
        Case("cli-cnn", () => Models.Cnn(new Generator(1)), Input(2, 2, 1, 28, 28), [Input(3, 2, 1, 28, 28), Input(4, 5, 1, 28, 28)]),
        Case("cli-mlp-fused", () => Models.Create("mlp", new Generator(7)), Input(8, Models.InputShape("mlp", 3)), [Input(9, Models.InputShape("mlp", 6))]),
        Case("cli-cnn-fused", () => Models.Create("cnn", new Generator(7)), Input(8, Models.InputShape("cnn", 3)), [Input(9, Models.InputShape("cnn", 6))]),
        Case("layernorm-gelu-activations", () =>
        {
            var g = new Generator(4);
            return Perturbed(new Sequential(
                new Linear(6, 12, generator: g), new LayerNorm(12), new Gelu(), new Linear(12, 12, generator: g), new Gelu(GeluApproximation.Tanh),
                new Residual(new Sequential(new Linear(12, 12, generator: g), new Silu())), new LeakyRelu(0.2), new Sigmoid(),
                new LayerNorm(12, elementwiseAffine: false), new Linear(12, 3, generator: g)), 40);
        }, Input(42, 5, 6), [Input(43, 5, 6), Input(44, 2, 6)]),
        Case("conv-and-pool-settings", () =>
        {
            var g = new Generator(6);
            return new Sequential(
                new Conv2d(4, 6, (3, 2), stride: (2, 1), padding: (1, 2), dilation: (1, 2), groups: 2, generator: g),
                new MaxPool2d(3, stride: 2, padding: 1, ceilMode: true),
                new Conv2d(6, 6, 4, padding: "same", generator: g),
                new AvgPool2d(2, stride: 1, padding: 1, countIncludePad: false),
                new Conv2d(6, 3, 3, padding: "valid", dilation: 2, generator: g),
                new Flatten(2));
        }, Input(60, 2, 4, 17, 15), [Input(61, 3, 4, 17, 15)]),
        Case("adaptive-pool-unflatten", () =>
        {
            var g = new Generator(9);
            return new Sequential(
                new Unflatten(1, [2, 6, 8]), new Conv2d(2, 4, 3, padding: 1, generator: g), new AdaptiveMaxPool2d((3, 4)), new Relu(),
                new AdaptiveAvgPool2d(1), new Flatten(), new Linear(4, 3, generator: g));
        }, Input(120, 2, 96), [Input(121, 5, 96)]),
        Case("float64", () => new Sequential(new Linear(5, 4, generator: new Generator(8), dtype: DType.Float64), new Tanh(), new LayerNorm(4, dtype: DType.Float64)),
             Input(80, 3, 5).To(DType.Float64), [Input(81, 7, 5).To(DType.Float64)]),

        Case("batchnorm-dropout", () =>
        {
            var g = new Generator(3);
            var model = new Sequential(
                new Conv2d(3, 8, 3, padding: 1, bias: false, generator: g), new BatchNorm2d(8), new Relu(), new Dropout(0.5, g),
                new AvgPool2d(2), new Flatten(), new Linear(8 * 4 * 4, 16, generator: g), new BatchNorm1d(16), new Tanh(), new Linear(16, 5, generator: g));
            using (GradMode.Disable())
                for (int i = 0; i < 3; i++) model.Call(Input(20 + (ulong)i, 6, 3, 8, 8)); // training mode: running statistics move away from 0 and 1
            return model;
        }, Input(30, 4, 3, 8, 8), [Input(31, 4, 3, 8, 8), Input(32, 9, 3, 8, 8)]),
        Case("linear-on-sequence", () =>
        {
            var g = new Generator(5);
            return new Sequential(new Linear(4, 6, generator: g), new Relu(), new LayerNorm([3, 6]), new Linear(6, 2, bias: false, generator: g));
        }, Input(50, 2, 3, 4), [Input(51, 5, 3, 4)]),
        Case("flatten-middle", () => new Sequential(new Flatten(1, 2), new Linear(5, 3, generator: new Generator(7))), Input(70, 2, 3, 4, 5), [Input(71, 6, 3, 4, 5)]),
        Case("flatten-tail", () => new Sequential(new Flatten(2), new Linear(20, 3, generator: new Generator(7))), Input(72, 2, 3, 4, 5), [Input(73, 6, 3, 4, 5)]),
        Case("identity-only", () => new Sequential(new Dropout(), new Identity()), Input(90, 2, 3), [Input(91, 4, 3)]),

        // Convolutions and norms of this export.
        Case("conv1d", () =>
        {
            var g = new Generator(10);
            return Perturbed(new Sequential(
                new Conv1d(3, 6, 3, stride: 2, padding: 1, groups: 3, generator: g), new Relu(),
                new Conv1d(6, 4, 4, padding: "same", dilation: 2, generator: g), new Conv1d(4, 2, 2, bias: false, generator: g)), 11);
        }, Input(130, 2, 3, 21), [Input(131, 5, 3, 21), Input(132, 1, 3, 21)]),
        Case("conv-transpose2d", () =>
        {
            var g = new Generator(12);
            return new Sequential(
                new ConvTranspose2d(4, 6, (3, 2), stride: (2, 3), padding: (1, 0), outputPadding: (1, 2), groups: 2, dilation: (1, 2), generator: g),
                new Relu(), new ConvTranspose2d(6, 2, 3, bias: false, generator: g));
        }, Input(140, 2, 4, 5, 6), [Input(141, 3, 4, 5, 6)]),
        Case("groupnorm", () =>
        {
            var g = new Generator(13);
            return Perturbed(new Sequential(new Conv2d(4, 6, 3, generator: g), new GroupNorm(3, 6), new Relu(), new GroupNorm(2, 6, eps: 1e-3, affine: false),
                                            new Flatten(2), new GroupNorm(6, 6)), 14);
        }, Input(150, 2, 4, 7, 8), [Input(151, 5, 4, 7, 8)]),
        Case("rmsnorm", () =>
        {
            var g = new Generator(15);
            return Perturbed(new Sequential(new Linear(5, 8, generator: g), new RmsNorm(8), new Linear(8, 6, generator: g), new Unflatten(2, [2, 3]),
                                            new RmsNorm([2, 3], eps: 1e-6), new RmsNorm(3, elementwiseAffine: false)), 16);
        }, Input(160, 3, 4, 5), [Input(161, 6, 4, 5)]),

        // Sequence layers: the time dim is symbolic too.
        Case("embedding", () => Perturbed(new Sequential(new Embedding(20, 8, paddingIdx: 0), new Linear(8, 4)), 17),
             Tokens(170, 20, 3, 5), [Tokens(171, 20, 2, 7), Tokens(172, 20, 5, 5), Tokens(173, 20, 1, 1)], B, T),
        Case("embedding-sinusoidal-positions", () => Perturbed(new Sequential(new Embedding(20, 8), new SinusoidalPositionEmbedding(16, 8), new LayerNorm(8)), 18),
             Tokens(180, 20, 2, 6), [Tokens(181, 20, 4, 9), Tokens(182, 20, 1, 16)], B, T),
        Case("sinusoidal-positions-float", () => new Sequential(new Linear(3, 8, generator: new Generator(19)), new SinusoidalPositionEmbedding(10, 8)),
             Input(190, 2, 5, 3), [Input(191, 4, 10, 3), Input(192, 1, 2, 3)], B, T),
        Case("attention-batch-first", () => Perturbed(new MultiheadAttention(8, 2, batchFirst: true, generator: new Generator(20)), 21),
             Input(200, 2, 5, 8), [Input(201, 3, 7, 8), Input(202, 1, 1, 8)], B, T),
        Case("attention-sequence-first", () => Perturbed(new MultiheadAttention(12, 4, generator: new Generator(22)), 23),
             Input(210, 5, 2, 12), [Input(211, 6, 3, 12), Input(212, 2, 1, 12)], T, B),
        Case("attention-unbatched-no-bias", () => Perturbed(new MultiheadAttention(8, 4, bias: false, generator: new Generator(24)), 25),
             Input(220, 5, 8), [Input(221, 9, 8)], T),
        Case("attention-bias-kv-zero-attn", () => Perturbed(new MultiheadAttention(8, 2, batchFirst: true, addBiasKv: true, addZeroAttn: true, generator: new Generator(55)), 56),
             Input(380, 2, 5, 8), [Input(381, 3, 7, 8), Input(382, 1, 1, 8)], B, T),
        new("cross-attention", () => new CrossAttention(), Input(390, 4, 2, 8), [], [T, B], OwnInputs: true),
        Case("transformer-blocks", () => Perturbed(new Sequential(new TransformerBlock(8, 2, 32, dropout: 0.1, generator: new Generator(26)),
                                                                  new TransformerBlock(8, 4, 16, layerNormEps: 1e-3, generator: new Generator(27))), 28),
             Input(230, 2, 6, 8), [Input(231, 3, 9, 8), Input(232, 1, 1, 8)], B, T),
        Case("char-gpt", () => Perturbed(new CharGpt(new TextModelConfig("gpt", 16, 16, 2, 2, 0.1, 16), new Generator(29)), 30),
             Tokens(240, 256, 2, 10), [Tokens(241, 256, 3, 16), Tokens(242, 256, 1, 1), Tokens(243, 256, 4, 7)], B, T),
        Case("char-lstm", () => Perturbed(new CharLstm(new TextModelConfig("lstm", 16, 12, 1, 2, 0.1, 8), new Generator(31)), 32),
             Tokens(250, 256, 2, 10), [Tokens(251, 256, 3, 16), Tokens(252, 256, 1, 1)], B, T),

        // Recurrent layers: ONNX's LSTM, GRU and RNN ops.
        Case("lstm-bidirectional-two-layers", () => new Lstm(5, 6, numLayers: 2, bidirectional: true, generator: new Generator(33)),
             Input(260, 7, 3, 5), [Input(261, 4, 2, 5), Input(262, 9, 1, 5)], T, B),
        Case("lstm-batch-first-no-bias", () => new Sequential(new Lstm(5, 6, bias: false, batchFirst: true, generator: new Generator(34)), new Linear(6, 2)),
             Input(270, 3, 7, 5), [Input(271, 2, 4, 5)], B, T),
        Case("gru-bidirectional-batch-first", () => new Gru(4, 5, numLayers: 2, batchFirst: true, bidirectional: true, dropout: 0.3, generator: new Generator(35)),
             Input(280, 3, 6, 4), [Input(281, 5, 2, 4), Input(282, 1, 8, 4)], B, T),
        Case("gru-unbatched", () => new Gru(4, 3, generator: new Generator(36)), Input(290, 6, 4), [Input(291, 9, 4)], T),
        new("lstm-with-states", () => new StatefulLstm(), Input(310, 3, 7, 4), [], [B, T], OwnInputs: true),
        new("lstm-with-lengths", () => new PackedRecurrent(new Lstm(4, 5, numLayers: 2, bidirectional: true, generator: new Generator(52)), [6, 3, 1]),
            Input(350, 6, 3, 4), [], [T, B], OwnInputs: true),
        new("gru-with-lengths", () => new PackedRecurrent(new Gru(4, 5, batchFirst: true, bidirectional: true, generator: new Generator(53)), [2, 5]),
            Input(360, 2, 5, 4), [], [B, T], OwnInputs: true),
        new("rnn-with-lengths", () => new PackedRecurrent(new Rnn(4, 5, numLayers: 2, nonlinearity: "relu", generator: new Generator(54)), [4, 2, 3]),
            Input(370, 4, 3, 4), [], [T, B], OwnInputs: true),
        new("gru-unbatched-with-state", () => new StatefulGru(), Input(320, 6, 4), [], [T], OwnInputs: true),
        new("attention-with-masks", () => new MaskedAttention(), Input(330, 2, 5, 8), [], [B, T], OwnInputs: true),
        new("attention-with-head-masks", () => new HeadMaskedAttention(), Input(340, 2, 5, 8), [], [null, T], OwnInputs: true),
        Case("rnn-tanh-and-relu", () => new Sequential(new Rnn(4, 5, numLayers: 2, bidirectional: true, generator: new Generator(37)),
                                                       new Rnn(10, 3, nonlinearity: "relu", generator: new Generator(38))),
             Input(300, 6, 2, 4), [Input(301, 3, 5, 4)], T, B),
    ];

    public static OnnxCase Get(string name) => Array.Find(All, c => c.Name == name) ?? throw new ArgumentException($"no ONNX test case '{name}'");

    public static TheoryData<string> Names(string prefix = "")
    {
        var data = new TheoryData<string>();
        foreach (OnnxCase c in All) if (!c.OwnInputs && c.Name.StartsWith(prefix, StringComparison.Ordinal)) data.Add(c.Name);
        return data;
    }
}

/// <summary>A 2-layer bidirectional batch-first LSTM whose graph takes h0 and c0 [4, batch, 5] and also gives h_n and c_n.</summary>
internal sealed class StatefulLstm : Module, IOnnxExportable
{
    public StatefulLstm()
    {
        Lstm = RegisterModule("lstm", new Lstm(4, 5, numLayers: 2, batchFirst: true, bidirectional: true, generator: new Generator(41)));
        H0 = Tensor.Randn([4, 3, 5], DType.Float32, new Generator(42));
        C0 = Tensor.Randn([4, 3, 5], DType.Float32, new Generator(43));
    }

    public Lstm Lstm { get; }

    public Tensor H0 { get; }

    public Tensor C0 { get; }

    public override Tensor Forward(Tensor input) => Lstm.Forward(input, (H0, C0)).Output;

    public OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input)
    {
        var (output, h, c) = context.Recurrent("lstm", Lstm, input, context.Input("h0", H0, null, OnnxExport.BatchDimName), context.Input("c0", C0, null, OnnxExport.BatchDimName));
        context.Output("h_n", h, null, OnnxExport.BatchDimName);
        context.Output("c_n", c!.Value, null, OnnxExport.BatchDimName);
        return output;
    }
}

/// <summary>A GRU over an unbatched sequence [T, 4] from a given h0 [1, 3]; the graph gives the output and h_n.</summary>
internal sealed class StatefulGru : Module, IOnnxExportable
{
    public StatefulGru()
    {
        Gru = RegisterModule("gru", new Gru(4, 3, generator: new Generator(44)));
        H0 = Tensor.Randn([1, 3], DType.Float32, new Generator(45));
    }

    public Gru Gru { get; }

    public Tensor H0 { get; }

    public override Tensor Forward(Tensor input) => Gru.Forward(input, H0).Output;

    public OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input)
    {
        var (output, h, _) = context.Recurrent("gru", Gru, input, context.Input("h0", H0));
        context.Output("h_n", h);
        return output;
    }
}

/// <summary>Causal self-attention with a Bool key padding mask [batch, T] and a float attention mask [T, T] as graph inputs.</summary>
internal sealed class MaskedAttention : Module, IOnnxExportable
{
    public MaskedAttention()
    {
        Attn = RegisterModule("attn", OnnxExportCatalogue.Perturbed(new MultiheadAttention(8, 2, batchFirst: true, generator: new Generator(46)), 47));
        (Padding, Mask) = Masks(2, 5, 48);
    }

    public MultiheadAttention Attn { get; }

    public Tensor Padding { get; set; }

    public Tensor Mask { get; set; }

    /// <summary>Padding masks the last key of every other sequence (never key 0, so no query loses every key); the float mask is random.</summary>
    public static (Tensor Padding, Tensor Mask) Masks(int batch, int length, ulong seed)
    {
        var padding = new bool[batch * length];
        for (int b = 0; b < batch; b += 2) if (length > 1) padding[b * length + length - 1] = true;
        return (Tensor.FromArray(padding, new Shape(batch, length)), Tensor.Randn([length, length], DType.Float32, new Generator(seed)));
    }

    public override Tensor Forward(Tensor input) => Attn.Forward(input, input, input, Padding, needWeights: false, Mask, isCausal: true).Output;

    public OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input)
        => context.SelfAttention("attn", Attn, input, context.Input("key_padding_mask", Padding, OnnxExport.BatchDimName, OnnxExport.SequenceDimName),
                                 context.Input("attn_mask", Mask, OnnxExport.SequenceDimName, OnnxExport.SequenceDimName), causal: true);
}

/// <summary>Non-causal self-attention with an Int64 key padding mask [2, T] and a Bool per-head mask [2·H, T, T] (fixed batch of 2).</summary>
internal sealed class HeadMaskedAttention : Module, IOnnxExportable
{
    public HeadMaskedAttention()
    {
        Attn = RegisterModule("attn", OnnxExportCatalogue.Perturbed(new MultiheadAttention(8, 4, batchFirst: true, generator: new Generator(49)), 50));
        (Padding, Mask) = Masks(5);
    }

    public MultiheadAttention Attn { get; }

    public Tensor Padding { get; set; }

    public Tensor Mask { get; set; }

    /// <summary>
    /// Int64 padding (1 = masked) on the last key of sequence 1; the head mask hides key 0 from query 1 in head rows 1 and 6. At length 2,
    /// query 1 of sequence 1 in head 2 (row 6) has no key left: its weights are 0, as the engine's fused path gives.
    /// </summary>
    public static (Tensor Padding, Tensor Mask) Masks(int length)
    {
        var padding = new long[2 * length];
        padding[length + length - 1] = 1;
        var mask = new bool[8 * length * length];
        if (length > 1)
            foreach (int row in new[] { 1, 6 }) mask[row * length * length + 1 * length + 0] = true;
        return (Tensor.FromArray(padding, new Shape(2, length)), Tensor.FromArray(mask, new Shape(8, length, length)));
    }

    public override Tensor Forward(Tensor input) => Attn.Forward(input, input, input, Padding, needWeights: false, Mask).Output;

    public OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input)
        => context.SelfAttention("attn", Attn, input, context.Input("key_padding_mask", Padding, null, OnnxExport.SequenceDimName),
                                 context.Input("attn_mask", Mask, null, OnnxExport.SequenceDimName, OnnxExport.SequenceDimName));
}

/// <summary>A recurrent layer over a variable-length batch: the graph takes the lengths (int64 [batch]) and gives the output and h_n.</summary>
internal sealed class PackedRecurrent : Module, IOnnxExportable
{
    public PackedRecurrent(RecurrentLayer layer, long[] lengths)
    {
        Layer = RegisterModule("rnn", layer);
        Lengths = Tensor.FromArray(lengths);
    }

    public RecurrentLayer Layer { get; }

    public Tensor Lengths { get; set; }

    /// <summary>The output and final hidden state for <paramref name="input"/> with <see cref="Lengths"/>.</summary>
    public (Tensor Output, Tensor H) Run(Tensor input) => Layer switch
    {
        Lstm lstm when lstm.Forward(input, null, Lengths) is var (o, (h, _)) => (o, h),
        Gru gru => gru.Forward(input, null, Lengths),
        Rnn rnn => rnn.Forward(input, null, Lengths),
        _ => throw new NotSupportedException(Layer.GetType().Name),
    };

    public override Tensor Forward(Tensor input) => Run(input).Output;

    public OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input)
    {
        var (output, h, _) = context.Recurrent("rnn", Layer, input, lengths: context.Input("lengths", Lengths, OnnxExport.BatchDimName));
        context.Output("h_n", h, null, OnnxExport.BatchDimName);
        return output;
    }
}

/// <summary>
/// Causal cross-attention of queries [T, batch, 8] over a memory: key [S, batch, 6] and value [S, batch, 5] (kdim, vdim), with
/// bias_k/bias_v and a zero key appended and a Bool key padding mask [batch, S]; key, value and mask are graph inputs.
/// </summary>
internal sealed class CrossAttention : Module, IOnnxExportable
{
    public CrossAttention()
    {
        Attn = RegisterModule("attn", OnnxExportCatalogue.Perturbed(new MultiheadAttention(8, 2, kdim: 6, vdim: 5, addBiasKv: true, addZeroAttn: true, generator: new Generator(57)), 58));
        (Key, Value, Padding) = Memory(6, 2, 59);
    }

    public MultiheadAttention Attn { get; }

    public Tensor Key { get; set; }

    public Tensor Value { get; set; }

    public Tensor Padding { get; set; }

    /// <summary>A memory of <paramref name="length"/> steps; padding masks its last step in every other sequence (bias_k and the zero key keep every query a key).</summary>
    public static (Tensor Key, Tensor Value, Tensor Padding) Memory(int length, int batch, ulong seed)
    {
        var padding = new bool[batch * length];
        for (int b = 1; b < batch; b += 2) padding[b * length + length - 1] = true;
        return (Tensor.Randn([length, batch, 6], DType.Float32, new Generator(seed)), Tensor.Randn([length, batch, 5], DType.Float32, new Generator(seed + 1)),
                Tensor.FromArray(padding, new Shape(batch, length)));
    }

    public override Tensor Forward(Tensor input) => Attn.Forward(input, Key, Value, Padding, needWeights: false, isCausal: true).Output;

    public OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input)
    {
        const string memory = "memory";
        return context.Attention("attn", Attn, input, context.Input("key", Key, memory, OnnxExport.BatchDimName), context.Input("value", Value, memory, OnnxExport.BatchDimName),
                                 context.Input("key_padding_mask", Padding, OnnxExport.BatchDimName, memory), causal: true);
    }
}
