using System.CommandLine;
using Backprop.IO;
using Backprop.IO.Onnx;
using Backprop.IO.Safetensors;
using Backprop.Cli.Recipes;
using Backprop.Cli.Reporting;
using Backprop.NN;
using Backprop.Tensors;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop export --checkpoint FILE --safetensors OUT</c>: writes a checkpoint's model weights (its
/// "model.*" tensors, prefix removed, so the names are the model's state-dict keys, which are PyTorch's) as a
/// safetensors file, with the checkpoint's metadata (the model's kind and shape) under <c>__metadata__</c> and
/// <c>format: pt</c>, as PyTorch's safetensors files carry. Optimizer state and the random-number state stay behind.
/// <c>--onnx OUT.onnx</c> rebuilds the model the checkpoint was trained as (a Fashion-MNIST preset, or the model of
/// <c>train --data</c> for images or a CSV file, or a gpt or lstm text model), loads its weights and writes it as ONNX
/// (<see cref="OnnxExport"/>) with a symbolic batch dim; the graph takes the model's input as training fed it (normalised,
/// not raw pixels or values; for a text model int64 byte values [batch, sequence], the sequence dim symbolic too, at most
/// the context for a gpt) and gives what the model's forward gives (a text model's logits [batch, sequence, 256]; an lstm
/// from zero states).
/// </summary>
internal static class ExportCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        Option<string?> checkpoint = CliOptions.Path("--checkpoint", "A checkpoint of `backprop train`.", "file");
        checkpoint.Required = true;
        Option<string?> safetensors = CliOptions.Path("--safetensors", "Write the model's weights to this safetensors file (replaced atomically).", "file");
        Option<string?> onnx = CliOptions.Path("--onnx", "Write the model as an ONNX graph (IR 8, opset 17, dynamic batch; text models also a dynamic sequence length) to this file (replaced atomically).", "file");
        var command = new Command("export", "Write a checkpoint's model in another format (safetensors weights, ONNX graph).") { checkpoint, safetensors, onnx };
        command.SetAction(parse => Run(parse.GetValue(checkpoint)!, parse.GetValue(safetensors), parse.GetValue(onnx), parse.InvocationConfiguration.Output));
        return command;
    }

    private static int Run(string checkpointPath, string? safetensorsPath, string? onnxPath, TextWriter stdout)
    {
        if (safetensorsPath is null && onnxPath is null)
            throw new CliException("export: say what to write: --safetensors OUT and/or --onnx OUT.onnx");
        try
        {
            Checkpoint c = Checkpoint.Load(RunFolder.RequireFile("--checkpoint", checkpointPath));
            List<KeyValuePair<string, Tensors.Tensor>> weights = c.WithPrefix("model.");
            if (weights.Count == 0)
                throw new CliException($"export: {checkpointPath} holds no model weights (no \"model.*\" tensors); is it a checkpoint of `backprop train`?");
            if (onnxPath is not null) WriteOnnx(checkpointPath, c, weights, onnxPath, stdout);
            if (safetensorsPath is null) return CliApp.Success;
            var metadata = new Dictionary<string, string>(c.Metadata, StringComparer.Ordinal);
            metadata.TryAdd("format", "pt");
            SafetensorsWriter.Save(safetensorsPath, weights, metadata);
            long values = 0;
            foreach (var (_, t) in weights) values += t.Numel;
            stdout.WriteLine($"export: wrote {weights.Count} tensors ({values:N0} values) to {safetensorsPath}");
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or NotSupportedException or UnauthorizedAccessException)
        {
            throw new CliException(e.Message, inner: e);
        }
        return CliApp.Success;
    }

    private static void WriteOnnx(string checkpointPath, Checkpoint c, List<KeyValuePair<string, Tensor>> weights, string onnxPath, TextWriter stdout)
    {
        Module model;
        int[] inputShape;
        if (c.Metadata.GetValueOrDefault("model") is { } kind && TextModelConfig.Kinds.Contains(kind))
        {
            TextModelConfig config = TextModelConfig.FromMetadata(c.Metadata, checkpointPath);
            model = config.Create(null);
            model.LoadStateDict(weights);
            // Token indices [batch, T]; both dims symbolic (the graph reads T from its input, a gpt's up to its context).
            OnnxExport.Save(model, Tensor.Zeros([1, Math.Min(config.Context, 8)], DType.Int64), onnxPath, [OnnxExport.BatchDimName, OnnxExport.SequenceDimName]);
            stdout.WriteLine($"export: wrote an ONNX graph (IR {OnnxExport.IrVersion}, opset {OnnxExport.OpsetVersion}, input int64 bytes [batch, sequence" +
                             $"{(kind == "gpt" ? $" ≤ {config.Context}" : "")}], output logits [batch, sequence, 256]) to {onnxPath}");
            return;
        }
        if (c.Metadata.ContainsKey(ImageModelInfo.MetadataKey))
        {
            ImageModelInfo info = ImageModelInfo.FromMetadata(c.Metadata, checkpointPath);
            (model, inputShape) = (info.CreateModel(), [1, info.Channels, info.Height, info.Width]);
        }
        else if (c.Metadata.ContainsKey(CsvModelInfo.MetadataKey))
        {
            CsvModelInfo info = CsvModelInfo.FromMetadata(c.Metadata, checkpointPath);
            (model, inputShape) = (info.CreateModel(), [1, info.Features]);
        }
        else
        {
            string name = c.Metadata.GetValueOrDefault("model")
                ?? throw new CliException($"export: {checkpointPath} has no model name; it was not written by `backprop train`");
            if (Array.IndexOf(Models.Names, name) < 0)
                throw new CliException($"export --onnx: {checkpointPath} holds a '{name}' model, which ONNX export does not cover yet " +
                                       $"(it exports the {string.Join(", ", Models.Names)}, {string.Join(" and ", TextModelConfig.Kinds)} models and the models of `train --data`)");
            (model, inputShape) = (Models.Create(name), Models.InputShape(name, 1));
        }
        model.LoadStateDict(weights);
        OnnxExport.Save(model, Tensor.Zeros(inputShape), onnxPath);
        stdout.WriteLine($"export: wrote an ONNX graph (IR {OnnxExport.IrVersion}, opset {OnnxExport.OpsetVersion}, input [batch, {string.Join(", ", inputShape[1..])}]) to {onnxPath}");
    }
}
