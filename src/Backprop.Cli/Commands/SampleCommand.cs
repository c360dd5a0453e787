using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Backprop.IO;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Threading;
using Backprop.Cli.Recipes;
using Backprop.Cli.Reporting;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop sample</c>: generates text from a checkpoint of <c>train --model gpt</c> or <c>--model lstm</c>.
/// The checkpoint records the model's kind and shape, so nothing else is needed; the GPT caches keys and
/// values so each new byte costs one position, the LSTM carries its state. The prompt and the generated
/// bytes go to stdout as UTF-8 (invalid sequences become U+FFFD); notes and the speed go to stderr.
/// </summary>
internal static class SampleCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        Option<string?> checkpoint = CliOptions.Path("--checkpoint", "A checkpoint of `backprop train --model gpt` or `--model lstm`.", "file");
        checkpoint.Required = true;
        var prompt = new Option<string>("--prompt")
        {
            Description = "Text to continue (UTF-8; default: none, the model starts after a line break). A gpt prompt longer than the context keeps its last bytes.",
            DefaultValueFactory = _ => "",
            HelpName = "text",
        };
        Option<int> tokens = CliOptions.Count("--tokens", 500, 10_000_000, "Bytes to generate.");
        var temperature = new Option<double>("--temperature")
        {
            Description = "Sampling temperature: logits are divided by it (0 = always the most likely byte; default 0.8).",
            DefaultValueFactory = _ => 0.8,
            HelpName = "number",
            CustomParser = result =>
            {
                string? text = result.Tokens.Count == 1 ? result.Tokens[0].Value : null;
                if (text is null)
                {
                    result.AddError("--temperature needs one value");
                    return 0;
                }
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double t) || !double.IsFinite(t))
                    result.AddError($"--temperature expects a finite number, got '{text}'");
                else if (t < 0)
                    result.AddError($"--temperature must be 0 or more, got {text}");
                return t;
            },
        };
        Option<int?> topK = CliOptions.OptionalCount("--top-k", 256, "Sample only among the K most likely bytes (1 to 256; default: all).");
        Option<ulong> seed = CliOptions.UInt64("--seed", 0, "Seed of the sampling.");
        Option<int> threads = CliOptions.Count("--threads", 1, 256, "Compute threads (default 1).");
        var command = new Command("sample", "Generate text from a gpt or lstm checkpoint.")
        {
            checkpoint, prompt, tokens, temperature, topK, seed, threads,
        };
        command.SetAction(parse => Run(parse.GetValue(checkpoint)!, parse.GetValue(prompt) ?? "", parse.GetValue(tokens), parse.GetValue(temperature),
                                       parse.GetValue(topK), parse.GetValue(seed), parse.GetValue(threads),
                                       parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }

    private static int Run(string path, string prompt, int tokens, double temperature, int? topK, ulong seed, int threads, TextWriter stdout, TextWriter stderr)
    {
        Parallelism.ThreadCount = threads;
        TextModelConfig config;
        Module model;
        try
        {
            Checkpoint c = Checkpoint.Load(RunFolder.RequireFile("--checkpoint", path));
            config = TextModelConfig.FromMetadata(c.Metadata, path);
            model = config.Create(null);
            model.LoadStateDict(c.WithPrefix("model."));
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            throw new CliException(e.Message, inner: e);
        }

        var sampler = new TextSampler(model, config);
        byte[] bytes = Encoding.UTF8.GetBytes(prompt);
        byte[] feed = bytes.Length == 0 ? "\n"u8.ToArray() : bytes;
        if (sampler.MaxPrompt is int max && feed.Length > max)
        {
            stderr.WriteLine($"sample: note: the prompt is {feed.Length} bytes, longer than the model's context of {max}; the model sees its last {max} bytes");
            feed = feed[^max..];
        }

        // Bytes are decoded as they come; a character split across bytes is printed once complete.
        Decoder decoder = new UTF8Encoding(false, throwOnInvalidBytes: false).GetDecoder();
        var chars = new char[4];
        var one = new byte[1];
        void Print(byte b)
        {
            one[0] = b;
            int n = decoder.GetChars(one, chars, flush: false);
            stdout.Write(chars, 0, n);
        }
        foreach (byte b in bytes) Print(b);
        var clock = Stopwatch.StartNew();
        sampler.Generate(feed, tokens, temperature, topK, new Generator(seed), Print);
        double seconds = clock.Elapsed.TotalSeconds;
        int tail = decoder.GetChars(Array.Empty<byte>(), chars, flush: true);
        stdout.Write(chars, 0, tail);
        stdout.WriteLine();
        stdout.Flush();
        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sample: {tokens} bytes from {config} in {seconds:F2} s ({tokens / seconds:N0} tokens/s, {Parallelism.ThreadCount} thread{(Parallelism.ThreadCount == 1 ? "" : "s")})"));
        return CliApp.Success;
    }
}
