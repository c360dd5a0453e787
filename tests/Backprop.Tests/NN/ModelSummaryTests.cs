using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Cli.Recipes;

namespace Backprop.Tests.NN;

/// <summary>Model summaries against hand-computed shapes, parameter counts and multiply-adds.</summary>
public class ModelSummaryTests
{
    private static string[] Lines(ModelSummary s) => [.. s.Rows.Select(r => $"{r.Name}|{r.Type}|{r.Depth}|{r.OutputShape}|{r.Parameters}|{r.MultiplyAdds}")];

    [Fact]
    public void Mlp_RowsAndTotals_AreTheHandCountedOnes()
    {
        Sequential mlp = Models.Mlp(new Generator(0));
        ModelSummary s = ModelSummary.Of(mlp, [4, 784]);
        // Linear: rows · in · out multiply-adds; params in·out + out.
        Assert.Equal(
        [
            "|Sequential|0|[4, 10]|0|0",
            "0|Linear|1|[4, 512]|401920|1605632",   // 784·512 + 512; 4·784·512
            "1|Relu|1|[4, 512]|0|0",
            "2|Linear|1|[4, 256]|131328|524288",    // 512·256 + 256; 4·512·256
            "3|Relu|1|[4, 256]|0|0",
            "4|Linear|1|[4, 10]|2570|10240",        // 256·10 + 10; 4·256·10
        ], Lines(s));
        Assert.Equal(535_818, s.TotalParameters);
        Assert.Equal(mlp.ParameterCount(), s.TotalParameters);
        Assert.Equal(s.TotalParameters, s.Rows.Sum(r => r.Parameters));
        Assert.Equal(s.TotalParameters, s.TrainableParameters);
        Assert.Equal(4 * 535_040, s.TotalMultiplyAdds);
    }

    [Fact]
    public void Cnn_FusedAndPlain_CountTheSameConvolutions()
    {
        // conv1: 28·28 outputs × 32 channels × (1·5·5) = 627,200; conv2: 14·14 × 64 × (32·5·5) = 10,035,200;
        // fc1: 3136·128 = 401,408; fc2: 128·10 = 1,280. Parameters: 832 + 51,264 + 401,536 + 1,290.
        const long Macs = 627_200 + 10_035_200 + 401_408 + 1_280;
        Sequential fused = Models.Create("cnn", new Generator(0));
        ModelSummary s = ModelSummary.Of(fused, [1, 1, 28, 28]);
        Assert.Equal(
        [
            "|Sequential|0|[1, 10]|0|0",
            "0|Conv2dReluMaxPool2d|1|[1, 32, 14, 14]|832|627200",
            "1|Identity|1|[1, 32, 14, 14]|0|0",
            "2|Identity|1|[1, 32, 14, 14]|0|0",
            "3|Conv2dReluMaxPool2d|1|[1, 64, 7, 7]|51264|10035200",
            "4|Identity|1|[1, 64, 7, 7]|0|0",
            "5|Identity|1|[1, 64, 7, 7]|0|0",
            "6|Flatten|1|[1, 3136]|0|0",
            "7|LinearRelu|1|[1, 128]|401536|401408",
            "8|Identity|1|[1, 128]|0|0",
            "9|Linear|1|[1, 10]|1290|1280",
        ], Lines(s));
        Assert.Equal(Macs, s.TotalMultiplyAdds);
        Assert.Equal(fused.ParameterCount(), s.TotalParameters);
        Assert.Equal(s.TotalParameters, s.Rows.Sum(r => r.Parameters));

        ModelSummary plain = ModelSummary.Of(Models.Cnn(new Generator(0)), [2, 1, 28, 28]);
        Assert.Equal(2 * Macs, plain.TotalMultiplyAdds);
        Assert.Equal("[2, 32, 28, 28]", plain.Rows[1].OutputShape.ToString());
        Assert.Equal(2 * 627_200, plain.Rows[1].MultiplyAdds);
    }

    [Fact]
    public void TextModel_TakesInt64Indices_AndCountsRecurrentAndAttentionLayers()
    {
        var lstm = new Sequential(new Embedding(16, 8), new Lstm(8, 12, numLayers: 2, batchFirst: true), new Linear(12, 16));
        ModelSummary s = ModelSummary.Of(lstm, [2, 5], DType.Int64);
        Assert.Equal("[2, 5, 12]", s.Rows[2].OutputShape.ToString());
        // Per step and row: layer 0 4·12·(8 + 12) = 960, layer 1 4·12·(12 + 12) = 1,152; 10 steps·rows.
        Assert.Equal(10 * (960 + 1152), s.Rows[2].MultiplyAdds);
        Assert.Equal(0, s.Rows[1].MultiplyAdds);                  // the embedding looks rows up
        Assert.Equal(10 * 12 * 16, s.Rows[3].MultiplyAdds);
        Assert.Equal(lstm.ParameterCount(), s.Rows.Sum(r => r.Parameters));

        var block = new TransformerBlock(8, 2, 32);
        ModelSummary b = ModelSummary.Of(block, [1, 4, 8]);
        Assert.Equal(["", "ln1", "attn", "attn.out_proj", "ln2", "fc1", "fc2"], b.Rows.Select(r => r.Name));
        // q/k/v projection 3·4·8·8 = 768, scores and weighted sum 2·4·4·8 = 256; in_proj 3·8·8 + 3·8 = 216 parameters.
        ModelSummaryRow attn = b.Rows[2];
        Assert.Equal((768 + 256, 216L), (attn.MultiplyAdds, attn.Parameters));
        Assert.Equal(2, b.Rows[3].Depth);
        Assert.Equal(block.ParameterCount(), b.TotalParameters);
        Assert.Equal(block.ParameterCount(), b.Rows.Sum(r => r.Parameters));
    }

    [Fact]
    public void Summary_LeavesTheModelAsItWas_AndRemovesItsHooks()
    {
        var model = new Sequential(new Linear(4, 4), new BatchNorm1d(4), new Dropout(0.5));
        model[2].Train(false); // a mixed state is restored module by module; batch norm stays in training mode
        double[] runningMean = model.NamedBuffers().First(kv => kv.Key.EndsWith("running_mean", StringComparison.Ordinal)).Value.ToDoubleArray();
        ModelSummary.Of(model, [3, 4]);
        Assert.True(model.Training && model[0].Training && model[1].Training);
        Assert.False(model[2].Training);
        Assert.Equal(runningMean, model.NamedBuffers().First(kv => kv.Key.EndsWith("running_mean", StringComparison.Ordinal)).Value.ToDoubleArray());
        Assert.All(model.Modules(), m => Assert.False(m.HasHooks));
    }

    [Fact]
    public void ToString_IsATableWithTotals()
    {
        string text = ModelSummary.Of(Models.Mlp(new Generator(0)), [1, 784]).ToString();
        Assert.Contains("Layer (type)", text);
        Assert.Contains("  0 (Linear)", text);
        Assert.Contains("401,920", text);
        Assert.Contains("Total params: 535,818", text);
        Assert.Contains("Total mult-adds: 535,040 (0.54 M)", text);
        Assert.Contains("Input: [1, 784] float32", text);
    }

    [Fact]
    public void BadInput_NamesTheModelAndTheShape()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelSummary.Of(Models.Mlp(), [1, 100]));
        Assert.Contains("Sequential", e.Message);
        Assert.Contains("[1, 100]", e.Message);
    }
}
