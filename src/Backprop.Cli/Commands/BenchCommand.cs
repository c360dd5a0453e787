using System.CommandLine;
using Backprop.Data;
using Backprop.Threading;
using Backprop.Cli.Bench;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop bench WORKLOAD</c>: the peer-benchmark workloads of ../shared/peers/WORKLOADS.md
/// (gemm, mlp, cnn, transformer, lstm), printed as the same JSON-lines records with peer = "backprop".
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var workload = new Argument<string>("workload") { Description = "gemm, mlp, cnn, transformer or lstm." };
        workload.Validators.Add(r =>
        {
            string? value = r.Tokens is [{ } token] ? token.Value : null;
            if (value is not ("gemm" or "mlp" or "cnn" or "transformer" or "lstm"))
                r.AddError($"bench: the workload must be gemm, mlp, cnn, transformer or lstm, got '{value}'");
        });
        Option<int> threads = CliOptions.Count("--threads", 2, 256, "Compute threads (the peers use 2; gemm runs 1 and 2 unless this is given).");
        Option<string?> dataDir = CliOptions.Path("--data-dir", "Directory with the Fashion-MNIST IDX files.", "dir", FashionMnist.DefaultDirectory);
        var checkpoint = new Option<bool>("--checkpoint")
        {
            Description = "transformer: also run the train step with every block gradient-checkpointed (activations recomputed in backward) and report "
                          + "the peak activation memory and step time of both, the memory saved and the time overhead.",
        };
        var command = new Command("bench", "Run a peer-benchmark workload and print JSON-lines records (see ../shared/peers/WORKLOADS.md).")
        {
            workload, threads, dataDir, checkpoint,
        };
        command.SetAction(parse =>
        {
            string name = parse.GetValue(workload)!;
            int t = parse.GetValue(threads);
            bool checkpointed = parse.GetValue(checkpoint);
            if (checkpointed && name != "transformer")
                throw new CliException($"--checkpoint applies to the transformer workload only, not {name}", CliApp.UsageError);
            var recorder = new BenchRecorder(parse.InvocationConfiguration.Output, t);
            Parallelism.ThreadCount = t;
            try
            {
                switch (name)
                {
                    case "gemm": Workloads.Gemm(recorder, parse.GetResult(threads) is { Implicit: false } ? [t] : [1, 2]); break;
                    case "mlp": Workloads.Mlp(recorder, parse.GetValue(dataDir)!); break;
                    case "cnn": Workloads.Cnn(recorder, parse.GetValue(dataDir)!); break;
                    case "transformer" when checkpointed: TextWorkloads.TransformerCheckpoint(recorder); break;
                    case "transformer": TextWorkloads.Transformer(recorder); break;
                    default: TextWorkloads.Lstm(recorder); break;
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
            {
                throw new CliException(e.Message, inner: e);
            }
            recorder.Emit("memory", "peak_rss", BenchRecorder.PeakRssMiB(), "MiB", null, ("process", name));
            return CliApp.Success;
        });
        return command;
    }
}
