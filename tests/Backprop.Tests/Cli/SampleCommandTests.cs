using System.Text;
using Backprop.Autograd;
using Backprop.Cli;
using Backprop.Cli.Recipes;
using Backprop.IO;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Training;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>Two tiny text models trained once (a gpt with context 16 and an lstm) for the sample tests.</summary>
public sealed class TinyTextModels : IDisposable
{
    public TinyTextModels()
    {
        Dir = Directory.CreateTempSubdirectory("sample").FullName;
        string text = TextCorpusFiles.Write(Path.Combine(Dir, "corpus.txt"));
        string[] common = ["--text", text, "--context", "16", "--batch-size", "4", "--steps-per-epoch", "15", "--warmup", "2", "--lr", "0.01", "--epochs", "2", "--threads", "1"];
        int gpt = CliApp.Run(["train", "--model", "gpt", "--width", "16", "--heads", "2", "--layers", "2", "--out", Path.Combine(Dir, "gpt"), .. common], TextWriter.Null, TextWriter.Null);
        int lstm = CliApp.Run(["train", "--model", "lstm", "--width", "24", "--out", Path.Combine(Dir, "lstm"), .. common], TextWriter.Null, TextWriter.Null);
        if (gpt != 0 || lstm != 0) throw new InvalidOperationException($"training the tiny models failed ({gpt}, {lstm})");
        Gpt = Path.Combine(Dir, "gpt", "checkpoints", "epoch-2.ckpt");
        Lstm = Path.Combine(Dir, "lstm", "checkpoints", "epoch-2.ckpt");
    }

    public string Dir { get; }

    public string Gpt { get; }

    public string Lstm { get; }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}

/// <summary>
/// `backprop sample`: argument errors, checkpoints that are not text models, prompt cropping, seeded
/// determinism, the key/value cache giving the bytes a full re-run gives, and the LSTM's carried state
/// giving what reading the whole prefix gives.
/// </summary>
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class SampleCommandTests(TinyTextModels models) : IClassFixture<TinyTextModels>
{
    private (int Code, string Out, string Err) Sample(string checkpoint, params string[] args) => Run(["sample", "--checkpoint", checkpoint, .. args]);

    [Theory]
    [InlineData("--tokens", "0")]
    [InlineData("--tokens", "-5")]
    [InlineData("--tokens", "many")]
    [InlineData("--temperature", "-0.5")]
    [InlineData("--temperature", "NaN")]
    [InlineData("--temperature", "warm")]
    [InlineData("--top-k", "0")]
    [InlineData("--top-k", "257")]
    [InlineData("--top-k", "ten")]
    [InlineData("--seed", "-1")]
    public void BadArguments_AreUsageErrors(string flag, string value)
    {
        var (code, output, err) = Sample(models.Gpt, flag, value);
        Assert.Equal(CliApp.UsageError, code);
        AssertShortError(err, 2, flag, value);
        Assert.Contains("Usage: backprop sample", err);
        Assert.Equal("", output);
    }

    [Fact]
    public void MissingCheckpointFlag_IsAUsageError()
    {
        var (code, _, err) = Run("sample", "--tokens", "5");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("--checkpoint", err);
    }

    [Fact]
    public void ACheckpointThatIsNotATextModel_IsOneLine()
    {
        string mlp = Path.Combine(models.Dir, "mlp.ckpt");
        new Checkpoint([new("model.0.weight", Tensor.Zeros([2, 2]))], new() { ["format"] = Trainer.CheckpointFormat, ["model"] = "mlp" }).Save(mlp);
        var (code, output, err) = Sample(mlp);
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, 1, mlp, "'mlp' model, not a text model");
        Assert.Equal("", output);

        string bare = Path.Combine(models.Dir, "bare.ckpt");
        new Checkpoint([], []).Save(bare);
        AssertShortError(Sample(bare).Err, 1, bare, "not a text model's checkpoint");

        string damaged = Path.Combine(models.Dir, "damaged.ckpt");
        byte[] bytes = File.ReadAllBytes(models.Gpt);
        File.WriteAllBytes(damaged, bytes[..(bytes.Length / 2)]);
        var d = Sample(damaged);
        Assert.Equal(CliApp.Failure, d.Code);
        AssertShortError(d.Err, 1, damaged);

        var missing = Sample(Path.Combine(models.Dir, "none.ckpt"));
        Assert.Equal(CliApp.Failure, missing.Code);
        AssertShortError(missing.Err, 1, "no such file", "none.ckpt");
    }

    [Theory]
    [InlineData("gpt")]
    [InlineData("lstm")]
    public void Output_IsThePromptAndTheGeneratedBytes_AndTheSameSeedGivesTheSameText(string kind)
    {
        string checkpoint = kind == "gpt" ? models.Gpt : models.Lstm;
        var a = Sample(checkpoint, "--prompt", "Thé cat", "--tokens", "60", "--seed", "3", "--top-k", "20");
        var b = Sample(checkpoint, "--prompt", "Thé cat", "--tokens", "60", "--seed", "3", "--top-k", "20");
        var c = Sample(checkpoint, "--prompt", "Thé cat", "--tokens", "60", "--seed", "4", "--top-k", "20");
        Assert.True(a.Code == 0, a.Err);
        Assert.StartsWith("Thé cat", a.Out);
        Assert.Equal(a.Out, b.Out);
        Assert.NotEqual(a.Out, c.Out);
        Assert.Contains($"sample: 60 bytes from {kind}", a.Err);
        Assert.Contains("tokens/s, 1 thread)", a.Err);
        Assert.DoesNotContain("note", a.Err);
    }

    [Fact]
    public void APromptLongerThanTheContext_IsCroppedWithANote()
    {
        string prompt = "The old man who saw it ran to the mat."; // 38 bytes, context 16
        var (code, output, err) = Sample(models.Gpt, "--prompt", prompt, "--tokens", "10");
        Assert.True(code == 0, err);
        Assert.Contains("note: the prompt is 38 bytes, longer than the model's context of 16; the model sees its last 16 bytes", err);
        Assert.StartsWith(prompt, output);

        // The model saw only the last 16 bytes: the same continuation as prompting with them.
        var cropped = Sample(models.Gpt, "--prompt", prompt[^16..], "--tokens", "10");
        Assert.Equal(output[prompt.Length..], cropped.Out[16..]);
        Assert.DoesNotContain("note", Sample(models.Lstm, "--prompt", prompt, "--tokens", "5").Err); // the lstm reads any length
    }

    private static (Module Model, TextModelConfig Config) Load(string path)
    {
        Checkpoint c = Checkpoint.Load(path);
        TextModelConfig config = TextModelConfig.FromMetadata(c.Metadata, path);
        Module model = config.Create(null);
        model.LoadStateDict(c.WithPrefix("model."));
        return (model, config);
    }

    private static byte[] Generate(TextSampler sampler, string prompt, int tokens, double temperature, int? topK, ulong seed, bool useCache)
    {
        var bytes = new List<byte>();
        sampler.Generate(Encoding.UTF8.GetBytes(prompt), tokens, temperature, topK, new Generator(seed), bytes.Add, useCache);
        return [.. bytes];
    }

    [Theory]
    [InlineData(1.0, null)]
    [InlineData(0.7, 5)]
    [InlineData(0.0, null)]
    public void TheKeyValueCache_GivesTheBytesOfAFullRerun(double temperature, int? topK)
    {
        var (model, config) = Load(models.Gpt);
        var sampler = new TextSampler(model, config);
        // 70 bytes after a 5-byte prompt: the 16-byte window fills and restarts several times.
        byte[] cached = Generate(sampler, "The c", 70, temperature, topK, 11, useCache: true);
        byte[] full = Generate(sampler, "The c", 70, temperature, topK, 11, useCache: false);
        Assert.Equal(70, cached.Length);
        Assert.Equal(full, cached);
    }

    [Fact]
    public void TheLstmsCarriedState_GivesWhatReadingTheWholePrefixGives()
    {
        var (model, config) = Load(models.Lstm);
        byte[] sampled = Generate(new TextSampler(model, config), "A dog ", 40, 0, null, 0, useCache: true);

        // Greedy decoding by hand: every byte from a fresh state over the whole sequence so far.
        var lstm = (CharLstm)model;
        var sequence = new List<byte>(Encoding.ASCII.GetBytes("A dog "));
        using (GradMode.Disable())
            for (int i = 0; i < 40; i++)
            {
                lstm.ResetState();
                Tensor logits = lstm.Forward(Tensor.FromArray(sequence.Select(b => (long)b).ToArray(), new Shape(1, sequence.Count)));
                sequence.Add((byte)(long)logits.Select(1, sequence.Count - 1).Reshape(-1).ArgMax(0).Item());
            }
        Assert.Equal(sequence.Skip(6), sampled);
    }

    [Fact]
    public void Pick_FollowsTemperatureAndTopK()
    {
        var scratch = new int[4];
        double[] Logits() => [1.0, 3.0, 2.0, 3.0];
        Assert.Equal(1, TextSampler.Pick(Logits(), 0, null, new Generator(1), scratch)); // arg max, lowest index on ties
        var g = new Generator(5);
        var seen = new HashSet<byte>();
        for (int i = 0; i < 200; i++) seen.Add(TextSampler.Pick(Logits(), 1, 2, g, scratch));
        Assert.Equal([(byte)1, (byte)3], seen.Order()); // top-2 keeps the two largest
        int ones = 0;
        for (int i = 0; i < 2000; i++) ones += TextSampler.Pick(Logits(), 1, null, g, scratch) == 0 ? 1 : 0;
        double expected = Math.Exp(1) / (Math.Exp(1) + 2 * Math.Exp(3) + Math.Exp(2));
        Assert.InRange(ones / 2000.0, expected - 0.02, expected + 0.02);
    }
}
