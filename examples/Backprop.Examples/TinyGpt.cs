using Backprop.Data;
using Backprop.Memory;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;

namespace Backprop.Examples;

/// <summary>
/// A character-level GPT written out in full: token and position embeddings, pre-norm transformer
/// blocks with causal attention, a final norm and a head, trained on random windows of a text and then
/// sampled one byte at a time.
/// </summary>
public static class TinyGpt
{
    /// <summary>The model: every layer is a field, found without registration.</summary>
    private sealed class Gpt : Module
    {
        private readonly Embedding _tokens, _positions;
        private readonly TransformerBlock[] _blocks;
        private readonly LayerNorm _norm;
        private readonly Linear _head;

        public Gpt(int context, int width, int heads, int layers, Generator gen)
        {
            Context = context;
            _tokens = new Embedding(TextCorpus.VocabularySize, width, generator: gen);
            _positions = new Embedding(context, width, generator: gen);
            _blocks = new TransformerBlock[layers];
            for (int i = 0; i < layers; i++) _blocks[i] = new TransformerBlock(width, heads, 4 * width, generator: gen);
            _norm = new LayerNorm(width);
            _head = new Linear(width, TextCorpus.VocabularySize, bias: false, generator: gen);
        }

        public int Context { get; }

        /// <summary>[B, T] byte ids (int64) → [B, T, 256] logits.</summary>
        public override Tensor Forward(Tensor ids)
        {
            Tensor h = _tokens.Call(ids) + _positions.Call(Tensor.Arange(ids.Shape[1], DType.Int64));
            foreach (TransformerBlock block in _blocks) h = block.Call(h);
            return _head.Call(_norm.Call(h));
        }
    }

    /// <summary>Trains for <paramref name="steps"/> steps and returns the last training loss (nats per byte).</summary>
    public static double Run(TextWriter console, string textPath, int steps = 200, int sampleBytes = 200)
    {
        TextCorpus corpus = TextCorpus.Load(textPath);
        var gen = new Generator(0);
        var model = new Gpt(context: 64, width: 64, heads: 4, layers: 2, gen);
        var optimizer = new AdamW(model.Parameters(), new AdamOptions(LearningRate: 3e-3));
        var batches = TextWindows.Random(corpus.Training, context: 64, batchSize: 16, seed: 1, batchCount: steps);
        console.WriteLine($"{corpus.TotalBytes:N0} bytes of text, {model.ParameterCount():N0} parameters");

        double loss = double.NaN;
        int step = 0;
        foreach ((Tensor inputs, Tensor targets) in batches.Epoch(0))
        {
            using var scope = TensorScope.Begin(inputs, targets); // the step's temporaries go back to the pool
            optimizer.ZeroGrad();
            Tensor logits = model.Call(inputs);
            Tensor l = Functional.CrossEntropy(logits.Reshape([-1, TextCorpus.VocabularySize]), targets.Reshape([-1]));
            l.Backward();
            optimizer.Step();
            loss = l.Item();
            if (step++ % 50 == 0) console.WriteLine($"step {step - 1,4}: loss {loss:F3} nats/byte");
        }

        // Sampling: feed the last Context bytes, draw the next byte from softmax(logits / 0.8).
        model.Eval();
        var text = new List<long> { '\n' };
        using (Autograd.GradMode.Disable())
        {
            for (int i = 0; i < sampleBytes; i++)
            {
                int start = Math.Max(0, text.Count - model.Context);
                Tensor ids = Tensor.FromArray(text.GetRange(start, text.Count - start).ToArray(), [1, text.Count - start]);
                Tensor last = model.Call(ids).Select(1, -1).Reshape([-1]);
                text.Add(new Distributions.Categorical(last / 0.8).Sample(gen).Item<long>());
            }
        }
        var bytes = new byte[text.Count];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)text[i];
        console.WriteLine(System.Text.Encoding.UTF8.GetString(bytes));
        return loss;
    }
}
