using Backprop.Autograd;
using Backprop.Memory;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;

namespace Backprop.Cli.Recipes;

/// <summary>
/// Generates bytes from a text model, one at a time: the logits of the last position are divided by the
/// temperature, cut to the <c>topK</c> largest, turned into probabilities and sampled with a seeded
/// <see cref="Generator"/> (temperature 0 picks the most likely byte). The GPT reuses the keys and values
/// of earlier positions (<see cref="KeyValueCache"/>), so each new byte costs one position of work; the
/// LSTM carries its state. Deterministic for a given seed and thread count.
/// </summary>
/// <remarks>
/// The GPT sees at most its context: when the sequence fills it, the window restarts from the last half
/// of the context (one forward over those bytes refills the caches) and grows again byte by byte, so the
/// cost stays one position per byte on average. Without the cache (<c>useCache: false</c>, for checking)
/// every byte runs the whole current window through the model and gives the same bytes.
/// </remarks>
internal sealed class TextSampler
{
    private readonly Module _model;
    private readonly double[] _probabilities = new double[256];
    private readonly int[] _order = new int[256];

    public TextSampler(Module model, TextModelConfig config)
    {
        _model = model;
        Config = config;
    }

    public TextModelConfig Config { get; }

    /// <summary>
    /// The bytes the GPT conditions on at most (its context); prompts longer than this are cropped to their last
    /// bytes. Null for the LSTM, which reads any length.
    /// </summary>
    public int? MaxPrompt => Config.Kind == "gpt" ? Config.Context : null;

    /// <summary>Generates <paramref name="tokens"/> bytes after <paramref name="prompt"/> (non-empty, at most <see cref="MaxPrompt"/> bytes), calling <paramref name="emit"/> with each.</summary>
    public void Generate(ReadOnlySpan<byte> prompt, int tokens, double temperature, int? topK, Generator generator, Action<byte> emit, bool useCache = true)
    {
        if (prompt.IsEmpty) throw new ArgumentException("sample: the prompt must hold at least one byte");
        if (MaxPrompt is int max && prompt.Length > max) throw new ArgumentException($"sample: the prompt of {prompt.Length} bytes is longer than the context of {max}");
        _model.Eval();
        using var grad = GradMode.Disable();
        if (_model is CharGpt gpt) Gpt(gpt, prompt, tokens, temperature, topK, generator, emit, useCache);
        else Lstm((CharLstm)_model, prompt, tokens, temperature, topK, generator, emit);
    }

    private void Gpt(CharGpt gpt, ReadOnlySpan<byte> prompt, int tokens, double temperature, int? topK, Generator generator, Action<byte> emit, bool useCache)
    {
        int context = Config.Context;
        var window = new List<byte>(context);
        window.AddRange(prompt);
        KeyValueCache[] caches = KeyValueCache.ForLayers(Config.Layers, context);
        int cached = 0; // positions of the window already in the caches
        for (int n = 0; n < tokens; n++)
        {
            byte next;
            using (TensorScope.Begin())
            {
                Tensor logits;
                if (useCache)
                {
                    // Feed what the caches lack: the whole window after a restart, else the one new byte.
                    logits = gpt.Forward(Tokens(window, cached), caches, cached);
                    cached = window.Count;
                }
                else
                    logits = gpt.Forward(Tokens(window, 0));
                next = Pick(logits, temperature, topK, generator);
            }
            emit(next);
            if (window.Count == context)
            {
                // The window is full: keep its last half (the caches are refilled from it on the next step).
                window.RemoveRange(0, context - context / 2);
                foreach (KeyValueCache cache in caches) cache.Reset();
                cached = 0;
            }
            window.Add(next);
        }
    }

    private void Lstm(CharLstm lstm, ReadOnlySpan<byte> prompt, int tokens, double temperature, int? topK, Generator generator, Action<byte> emit)
    {
        lstm.ResetState();
        var feed = new List<byte>(prompt.Length);
        feed.AddRange(prompt);
        for (int n = 0; n < tokens; n++)
        {
            byte next;
            using (TensorScope.Begin())
            {
                Tensor logits = lstm.Forward(Tokens(feed, 0));
                lstm.DetachState(); // carry the state to the next byte
                next = Pick(logits, temperature, topK, generator);
            }
            emit(next);
            feed.Clear();
            feed.Add(next);
        }
        lstm.ResetState();
    }

    /// <summary>bytes[from..] as int64 [1, n].</summary>
    private static Tensor Tokens(List<byte> bytes, int from)
    {
        var values = new long[bytes.Count - from];
        for (int i = 0; i < values.Length; i++) values[i] = bytes[from + i];
        return Tensor.WrapArray(values, new Shape(1, values.Length));
    }

    /// <summary>Samples the byte after the last position of logits [1, T, 256].</summary>
    private byte Pick(Tensor logits, double temperature, int? topK, Generator generator)
    {
        ReadOnlySpan<float> last = logits.Contiguous().AsReadOnlySpan<float>()[^256..];
        double[] p = _probabilities;
        for (int i = 0; i < 256; i++) p[i] = last[i];
        return Pick(p, temperature, topK, generator, _order);
    }

    /// <summary>
    /// Samples an index from <paramref name="logits"/> (overwritten): temperature 0 is the arg max (lowest index
    /// on ties); otherwise softmax(logits / temperature) over the <paramref name="topK"/> largest (all when
    /// null; ties at the cut are kept), sampled by inverting one uniform draw over the indices in order.
    /// </summary>
    internal static byte Pick(double[] logits, double temperature, int? topK, Generator generator, int[] scratch)
    {
        int n = logits.Length;
        if (temperature == 0)
        {
            int best = 0;
            for (int i = 1; i < n; i++) if (logits[i] > logits[best]) best = i;
            return (byte)best;
        }
        double cut = double.NegativeInfinity;
        if (topK is int k && k < n)
        {
            for (int i = 0; i < n; i++) scratch[i] = i;
            // The k-th largest logit: sort indices by logit, descending (stable, so the result is deterministic).
            Array.Sort(scratch, 0, n, Comparer<int>.Create((a, b) => logits[b].CompareTo(logits[a]) is int c && c != 0 ? c : a.CompareTo(b)));
            cut = logits[scratch[k - 1]];
        }
        double max = double.NegativeInfinity;
        for (int i = 0; i < n; i++) if (logits[i] >= cut) max = Math.Max(max, logits[i]);
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            logits[i] = logits[i] >= cut ? Math.Exp((logits[i] - max) / temperature) : 0;
            sum += logits[i];
        }
        double u = generator.NextDouble() * sum, acc = 0;
        int chosen = -1;
        for (int i = 0; i < n; i++)
        {
            if (logits[i] == 0) continue;
            chosen = i;
            acc += logits[i];
            if (u < acc) break;
        }
        return (byte)chosen;
    }
}
