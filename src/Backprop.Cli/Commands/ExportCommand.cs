using System.CommandLine;
using Backprop.IO;
using Backprop.IO.Safetensors;
using Backprop.Cli.Reporting;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop export --checkpoint FILE --safetensors OUT</c>: writes a checkpoint's model weights (its
/// "model.*" tensors, prefix removed, so the names are the model's state-dict keys, which are PyTorch's) as a
/// safetensors file, with the checkpoint's metadata (the model's kind and shape) under <c>__metadata__</c> and
/// <c>format: pt</c>, as PyTorch's safetensors files carry. Optimizer state and the random-number state stay behind.
/// </summary>
internal static class ExportCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        Option<string?> checkpoint = CliOptions.Path("--checkpoint", "A checkpoint of `backprop train`.", "file");
        checkpoint.Required = true;
        Option<string?> safetensors = CliOptions.Path("--safetensors", "Write the model's weights to this safetensors file (replaced atomically).", "file");
        var command = new Command("export", "Write a checkpoint's model weights in another format (safetensors).") { checkpoint, safetensors };
        command.SetAction(parse => Run(parse.GetValue(checkpoint)!, parse.GetValue(safetensors), parse.InvocationConfiguration.Output));
        return command;
    }

    private static int Run(string checkpointPath, string? safetensorsPath, TextWriter stdout)
    {
        if (safetensorsPath is null)
            throw new CliException("export: say what to write: --safetensors OUT");
        try
        {
            Checkpoint c = Checkpoint.Load(RunFolder.RequireFile("--checkpoint", checkpointPath));
            List<KeyValuePair<string, Tensors.Tensor>> weights = c.WithPrefix("model.");
            if (weights.Count == 0)
                throw new CliException($"export: {checkpointPath} holds no model weights (no \"model.*\" tensors); is it a checkpoint of `backprop train`?");
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
}
