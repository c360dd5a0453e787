using System.Diagnostics;
using Backprop.Autograd;
using Backprop.Memory;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;

namespace Backprop.Cli.Bench;

/// <summary>
/// The `transformer` and `lstm` workloads of ../shared/peers/WORKLOADS.md: the same 16 batches of
/// GPL-3 text (token = byte &amp; 127), the same models, optimizers, phases and metric names. The
/// transformer's attention is the library's MultiheadAttention (one q/k/v GEMM, the fused
/// scaled-dot-product op), which computes exactly the workload's explicit softmax(q·kᵀ/√32, future
/// masked)·v (the record says so in "implementation").
/// </summary>
internal static class TextWorkloads
{
    /// <summary>The workloads' text: Debian base-files' GPL-3, 35,149 ASCII bytes.</summary>
    public const string TextPath = "/usr/share/common-licenses/GPL-3";

    private const int Batch = 32, Context = 64, Vocab = 128, Warm = 5, FwdSteps = 30, TrainSteps = 40, PoolSize = 16;

    /// <summary>Batch j, row b starts at ((j·32 + b)·9973) mod (L − 65); targets are the inputs shifted by one.</summary>
    private static ((Tensor X, Tensor Y)[] Pool, int Length, double LoadSeconds) TextBatches()
    {
        long t0 = Stopwatch.GetTimestamp();
        byte[] bytes = File.ReadAllBytes(TextPath);
        int length = bytes.Length;
        if (length < Context + 2)
            throw new InvalidDataException($"bench: {TextPath} holds {length} bytes; the text workloads need at least {Context + 2}");
        var pool = new (Tensor, Tensor)[PoolSize];
        for (int j = 0; j < PoolSize; j++)
        {
            var x = new long[Batch * Context];
            var y = new long[Batch * Context];
            for (int b = 0; b < Batch; b++)
            {
                int start = (int)((long)(j * Batch + b) * 9973 % (length - 65));
                for (int t = 0; t < Context; t++)
                {
                    x[b * Context + t] = bytes[start + t] & 127;
                    y[b * Context + t] = bytes[start + t + 1] & 127;
                }
            }
            pool[j] = (Tensor.FromArray(x, [Batch, Context]), Tensor.FromArray(y, [Batch, Context]));
        }
        return (pool, length, Stopwatch.GetElapsedTime(t0).TotalSeconds);
    }

    private static Tensor Loss(Module model, (Tensor X, Tensor Y) batch)
        => Functional.CrossEntropy(model.Call(batch.X).Reshape(Batch * Context, Vocab), batch.Y.Reshape(Batch * Context));

    public static void Transformer(BenchRecorder r) => Run(r, "transformer", g => new WorkloadGpt(g),
        m => new AdamW(m.Parameters(), new AdamOptions(LearningRate: 3e-4, WeightDecay: 0.01)),
        "NN.Layers.TransformerBlock: MultiheadAttention with the fused causal scaled-dot-product op, same math as the explicit softmax(q·kᵀ/√32)·v");

    public static void Lstm(BenchRecorder r) => Run(r, "lstm", g => new WorkloadLstm(g),
        m => new Adam(m.Parameters(), new AdamOptions(LearningRate: 1e-3)),
        "NN.Layers.Lstm: one input-projection GEMM, fused recurrent step");

    /// <summary>The `fwd` phase (5 warm-up + 30 timed no-grad steps), then the `train` phase (5 + 40) on the same model.</summary>
    private static void Run(BenchRecorder r, string workload, Func<Generator, Module> build, Func<Module, Optimizer> optimizer, string implementation)
    {
        var (pool, length, loadSeconds) = TextBatches();
        Module model = build(new Generator(0));
        Optimizer opt = optimizer(model);
        Tensor Fwd(int s)
        {
            using var noGrad = GradMode.Disable();
            return Loss(model, pool[s % PoolSize]);
        }
        Tensor Train(int s)
        {
            opt.ZeroGrad();
            Tensor loss = Loss(model, pool[s % PoolSize]);
            loss.Backward();
            opt.Step();
            return loss;
        }
        Workloads.Timed(Fwd, 0, Warm);
        var (tF, _, mF) = Workloads.Timed(Fwd, Warm, Warm + FwdSteps);
        var (_, lossFirst, _) = Workloads.Timed(Train, 0, 1);
        Workloads.Timed(Train, 1, Warm);
        var (tTr, lossLast, mTr) = Workloads.Timed(Train, Warm, Warm + TrainSteps);
        (string, object)[] d = [("batch", Batch), ("context", Context), ("warmup", Warm), ("params", model.ParameterCount()),
                                ("text", TextPath), ("text_bytes", length), ("load_seconds", loadSeconds), ("implementation", implementation)];
        r.Emit(workload, "train_tokens_per_s", TrainSteps * Batch * Context / tTr, "tokens/s", null,
            [.. d, ("steps", TrainSteps), ("seconds", tTr), ("loss_first", lossFirst), ("loss_last", lossLast), .. mTr.Details("")]);
        r.Emit(workload, "fwd_tokens_per_s", FwdSteps * Batch * Context / tF, "tokens/s", null,
            [.. d, ("steps", FwdSteps), ("seconds", tF), .. mF.Details("")]);
        r.Emit(workload, "step_over_fwd", (tTr / TrainSteps) / (tF / FwdSteps), "ratio", null, d);
    }

    private const int CheckpointRounds = 4, CheckpointRoundSteps = 10;

    /// <summary>
    /// `bench transformer --checkpoint`: the transformer workload's train step with every block run through
    /// <see cref="GradientCheckpoint"/>, beside the plain step in the same process. Two models with the same
    /// initialisation take the same batches; after 5 warm-up steps each, they alternate in 4 rounds of 10 timed
    /// steps (so drift in the machine's speed hits both alike). Per step the scope-owned memory is read
    /// (<see cref="MemoryStats"/>): held for backward = bytes the step's scope owns once the loss is computed;
    /// peak = the most it owns at any point of the step (forward, backward with its recomputes, optimizer step).
    /// Reports both, the step times, the saved fractions and the time overhead, and whether the two models'
    /// losses stayed bit-identical.
    /// </summary>
    public static void TransformerCheckpoint(BenchRecorder r)
    {
        var (pool, length, loadSeconds) = TextBatches();
        var plain = new CheckpointRun(new WorkloadGpt(new Generator(0)));
        var checkpointed = new CheckpointRun(new WorkloadGpt(new Generator(0)) { CheckpointBlocks = true });
        foreach (CheckpointRun run in (CheckpointRun[])[plain, checkpointed])
            Workloads.Timed(s => run.Step(pool[s % PoolSize]), 0, Warm);
        for (int round = 0; round < CheckpointRounds; round++)
        {
            int from = Warm + round * CheckpointRoundSteps;
            foreach (CheckpointRun run in (CheckpointRun[])[plain, checkpointed])
                run.Seconds += Workloads.Timed(s => run.Step(pool[s % PoolSize]), from, from + CheckpointRoundSteps).Seconds;
        }
        const int steps = CheckpointRounds * CheckpointRoundSteps;
        bool identical = plain.Losses.SequenceEqual(checkpointed.Losses);
        const double mib = 1 << 20;
        (string, object)[] d = [("batch", Batch), ("context", Context), ("params", plain.Model.ParameterCount()), ("text", TextPath), ("text_bytes", length),
                                ("load_seconds", loadSeconds), ("steps", steps), ("warmup", Warm), ("rounds", CheckpointRounds)];
        foreach (var (mode, run) in (ValueTuple<string, CheckpointRun>[])[("plain", plain), ("checkpoint", checkpointed)])
            r.Emit("transformer", "peak_activation_mib", run.PeakBytes / mib, "MiB", null,
                [.. d, ("mode", mode), ("held_for_backward_mib", run.HeldBytes / mib), ("step_s", run.Seconds / steps),
                 ("train_tokens_per_s", steps * Batch * Context / run.Seconds)]);
        r.Emit("transformer", "checkpoint_memory_saved", 1 - (double)checkpointed.PeakBytes / plain.PeakBytes, "fraction", null,
            [.. d, ("plain_peak_mib", plain.PeakBytes / mib), ("checkpoint_peak_mib", checkpointed.PeakBytes / mib),
             ("held_for_backward_saved", 1 - (double)checkpointed.HeldBytes / plain.HeldBytes), ("target", "at least 0.60")]);
        r.Emit("transformer", "checkpoint_time_overhead", checkpointed.Seconds / plain.Seconds - 1, "fraction", null,
            [.. d, ("plain_step_s", plain.Seconds / steps), ("checkpoint_step_s", checkpointed.Seconds / steps), ("target", "at most 0.35"),
             ("losses_identical", identical)]);
    }

    /// <summary>One model of <see cref="TransformerCheckpoint"/>: its optimizer, losses, time and memory high-water marks.</summary>
    private sealed class CheckpointRun(WorkloadGpt model)
    {
        private readonly AdamW _opt = new(model.Parameters(), new AdamOptions(LearningRate: 3e-4, WeightDecay: 0.01));

        public WorkloadGpt Model { get; } = model;
        public List<double> Losses { get; } = [];
        public double Seconds;
        public long HeldBytes, PeakBytes;

        /// <summary>The workload's train step (run inside the step scope <see cref="Workloads.Timed"/> opens), with its memory read.</summary>
        public Tensor Step((Tensor X, Tensor Y) batch)
        {
            MemoryStats.ResetPeak();
            long start = MemoryStats.ScopedBytes;
            _opt.ZeroGrad();
            Tensor loss = Loss(Model, batch);
            HeldBytes = Math.Max(HeldBytes, MemoryStats.ScopedBytes - start);
            loss.Backward();
            _opt.Step();
            PeakBytes = Math.Max(PeakBytes, MemoryStats.PeakScopedBytes - start);
            Losses.Add(loss.Item());
            return loss;
        }
    }

    /// <summary>Embedding(128, 128) → LSTM(128, 256, batch first, zero state) → Linear(256, 128).</summary>
    private sealed class WorkloadLstm : Module
    {
        private readonly Embedding _embedding;
        private readonly Lstm _lstm;
        private readonly Linear _head;

        public WorkloadLstm(Generator g)
        {
            _embedding = RegisterModule("emb", new Embedding(Vocab, 128, generator: g));
            _lstm = RegisterModule("lstm", new Lstm(128, 256, batchFirst: true, generator: g));
            _head = RegisterModule("head", new Linear(256, Vocab, generator: g));
        }

        public override Tensor Forward(Tensor input) => _head.Call(_lstm.Call(_embedding.Call(input)));
    }

    /// <summary>
    /// The workload's GPT: token + learned position embeddings, 2 pre-LN blocks, final LayerNorm, a
    /// bias-free head. Each block is the library's TransformerBlock (ln1, attn, ln2, fc1, fc2: the same
    /// parameters as the workload's qkv/proj/fc1/fc2), its attention re-initialised as the workload's
    /// nn.Linear(128, 384) and nn.Linear(128, 128) are, U(±1/√128) for weights and biases.
    /// </summary>
    internal sealed class WorkloadGpt : Module
    {
        private readonly Embedding _tokens, _positions;
        private readonly TransformerBlock[] _blocks;
        private readonly LayerNorm _norm;
        private readonly Linear _head;
        private readonly Tensor _positionIndex;

        public WorkloadGpt(Generator g)
        {
            _tokens = RegisterModule("tok", new Embedding(Vocab, 128, generator: g));
            _positions = RegisterModule("pos", new Embedding(Context, 128, generator: g));
            _blocks = [RegisterModule("block0", Block(g)), RegisterModule("block1", Block(g))];
            _norm = RegisterModule("ln_f", new LayerNorm(128));
            _head = RegisterModule("head", new Linear(128, Vocab, bias: false, generator: g));
            _positionIndex = Tensor.Arange(Context, DType.Int64);
            _blockForward = Array.ConvertAll(_blocks, b => (Func<Tensor[], Tensor>)(x => b.Forward(x[0])));
        }

        private readonly Func<Tensor[], Tensor>[] _blockForward;

        private static TransformerBlock Block(Generator g)
        {
            var block = new TransformerBlock(128, 4, 512, generator: g);
            double bound = 1 / Math.Sqrt(128);
            using (GradMode.Disable())
                foreach (Tensor? p in (Tensor?[])[block.Attn.InProjWeight, block.Attn.InProjBias, block.Attn.OutProj.Weight, block.Attn.OutProj.Bias])
                    p!.CopyFrom(Init.Uniform(p.Shape, -bound, bound, g));
            return block;
        }

        /// <summary>Run every block through <see cref="GradientCheckpoint.Run"/> (`bench transformer --checkpoint`).</summary>
        public bool CheckpointBlocks { get; init; }

        public override Tensor Forward(Tensor idx)
        {
            Tensor x = _tokens.Call(idx) + _positions.Call(_positionIndex);
            for (int i = 0; i < _blocks.Length; i++)
                x = CheckpointBlocks ? GradientCheckpoint.Run(_blockForward[i], x) : _blocks[i].Call(x);
            return _head.Call(_norm.Call(x));
        }
    }
}
