using System.Text;
using Backprop.Autograd;
using Backprop.Data;
using Backprop.IO;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>
/// Truncated backpropagation through time in the trainer: an <see cref="IStatefulModel"/> starts each step
/// from the state the previous step ended in, gradients stop at the step boundary, epochs start from zeros,
/// and a checkpoint taken inside an epoch carries the state so the resumed run is exact.
/// </summary>
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class TruncatedBpttTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tbptt").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly byte[] Text = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("the cat sat on the mat; ", 12)));

    /// <summary>Embedding → LSTM (batch first) → linear head over bytes, carrying (h, c) between forwards.</summary>
    private sealed class StreamLstm : Module, IStatefulModel
    {
        private Tensor? _h, _c;
        private (Tensor H, Tensor C)? _last;

        public StreamLstm(Generator g)
        {
            Embed = RegisterModule("embed", new Embedding(256, 4, generator: g));
            Lstm = RegisterModule("lstm", new Lstm(4, 6, batchFirst: true, generator: g));
            Head = RegisterModule("head", new Linear(6, 256, generator: g));
        }

        public Embedding Embed { get; }
        public Lstm Lstm { get; }
        public Linear Head { get; }

        /// <summary>The h each forward started from (null: zeros), as values.</summary>
        public List<double[]?> Starts { get; } = [];

        public override Tensor Forward(Tensor input)
        {
            Starts.Add(_h?.ToDoubleArray());
            var (output, state) = Lstm.Forward(Embed.Forward(input), _h is null ? null : (_h, _c!));
            _last = state;
            return Head.Forward(output);
        }

        public void ResetState() => (_h, _c, _last) = (null, null, null);

        public void DetachState()
        {
            if (_last is not var (h, c)) return;
            _h = StateBuffer.Carry(_h, h);
            _c = StateBuffer.Carry(_c, c);
            _last = null;
        }

        public IReadOnlyList<Tensor> State => _h is null ? [] : [_h, _c!];

        public void LoadState(IReadOnlyList<Tensor> state)
        {
            if (state.Count == 0) { ResetState(); return; }
            if (state.Count != 2 || state[0].Rank != 3 || state[0].Shape[2] != 6 || state[1].Shape != state[0].Shape)
                throw new ArgumentException($"StreamLstm: expected h and c of shape [1, batch, 6], got {state.Count} tensors");
            _h = StateBuffer.Carry(null, state[0]);
            _c = StateBuffer.Carry(null, state[1]);
            _last = null;
        }
    }

    private static Tensor Loss(Tensor logits, Tensor targets) => Functional.CrossEntropy(logits.Reshape(-1, 256), targets.Reshape(-1));

    private static TextStreams Streams() => new(Text, streams: 2, length: 5, seed: 3, batchCount: 6);

    private static double[][] Grads(Module m) => [.. m.Parameters().Select(p => p.Grad!.ToDoubleArray())];

    [Fact]
    public void TheStateOfStepKCarriesIntoStepKPlus1_WithoutGradientsFlowingBack()
    {
        var model = new StreamLstm(new Generator(1));
        // Learning rate 0 keeps the weights, so the steps can be recomputed by hand afterwards.
        var trainer = new Trainer(model, new Sgd(model.Parameters(), new SgdOptions(LearningRate: 0)), Loss, Streams());
        var gradients = new List<double[][]>();
        trainer.StepCompleted += _ => gradients.Add(Grads(model));
        trainer.Fit(2);

        var batches = Streams().Epoch(0).Take(2).ToList();
        Tensor x0 = model.Embed.Forward(batches[0].Inputs);
        (Tensor H, Tensor C) afterStep1;
        using (GradMode.Disable()) afterStep1 = model.Lstm.Forward(x0, null).State;

        // Step 2 started from the values step 1 ended in ...
        Assert.Null(model.Starts[0]);
        Assert.Equal(afterStep1.H.ToDoubleArray(), model.Starts[1]);
        // ... and its gradient is that of batch 2 alone from that state held constant,
        model.ZeroGrad();
        var (out1, _) = model.Lstm.Forward(model.Embed.Forward(batches[1].Inputs), (afterStep1.H.Detach(), afterStep1.C.Detach()));
        Loss(model.Head.Forward(out1), batches[1].Targets).Backward();
        double[][] truncated = Grads(model);
        Assert.Equal(truncated, gradients[1]);
        // ... which is not the gradient of backpropagating through both batches.
        model.ZeroGrad();
        var (_, state0) = model.Lstm.Forward(x0, null);
        var (out1Full, _) = model.Lstm.Forward(model.Embed.Forward(batches[1].Inputs), state0);
        Loss(model.Head.Forward(out1Full), batches[1].Targets).Backward();
        double[][] full = Grads(model);
        Assert.NotEqual(full[1], truncated[1]); // lstm.weight_ih_l0: batch 1's inputs reach batch 2's loss through the state

        // Every epoch starts from zeros; every other step from the previous one.
        int steps = Streams().BatchCount;
        Assert.Equal(2 * steps, model.Starts.Count);
        for (int i = 0; i < model.Starts.Count; i++)
            Assert.Equal(i % steps == 0, model.Starts[i] is null);
    }

    [Fact]
    public void Evaluation_CarriesStateAcrossItsBatches_AndTheTrainerPutsTheTrainingStateBack()
    {
        var model = new StreamLstm(new Generator(2));
        var validation = new TextStreams(Text, streams: 2, length: 5);
        var trainer = new Trainer(model, new Adam(model.Parameters(), new AdamOptions(LearningRate: 0.01)), Loss, Streams())
        {
            EvaluationData = validation.Epoch(0),
        };
        double[]? before = null, after = null;
        trainer.StepCompleted += p =>
        {
            if (p.Step != 2) return;
            before = model.State[0].ToDoubleArray();
            trainer.Evaluate();
            after = model.State[0].ToDoubleArray();
        };
        trainer.TrainEpoch();
        Assert.Equal(before, after);
        // The evaluation pass: its first batch from zeros, the others from the previous batch's state.
        List<double[]?> evalStarts = model.Starts.Skip(2).Take(validation.BatchCount).ToList();
        Assert.Null(evalStarts[0]);
        Assert.All(evalStarts.Skip(1), s => Assert.NotNull(s));
    }

    private Trainer Adam(StreamLstm model) =>
        new(model, new Adam(model.Parameters(), new AdamOptions(LearningRate: 0.02)), Loss, Streams())
        {
            EvaluationData = new TextStreams(Text, streams: 2, length: 5).Epoch(0),
            Generator = new Generator(9),
        };

    private static double[][] Weights(Module m) => [.. m.StateDict().Select(kv => kv.Value.ToDoubleArray())];

    [Fact]
    public void StopInsideAnEpoch_SavesTheCarriedState_AndTheResumedRunIsExact()
    {
        Trainer straight = Adam(new StreamLstm(new Generator(4)));
        straight.Fit(2);

        Trainer first = Adam(new StreamLstm(new Generator(4)));
        first.StepCompleted += p => { if (p.Epoch == 1 && p.Step == 4) first.RequestStop(); };
        first.Fit(2, _dir);
        Checkpoint c = Checkpoint.Load(Path.Combine(_dir, "epoch-1-step-4.ckpt"));
        Assert.Equal(new Shape(1, 2, 6), c.Get("carried.0").Shape);
        Assert.Equal(((StreamLstm)first.Model).State[0].ToDoubleArray(), c.Get("carried.0").ToDoubleArray());

        Trainer resumed = Adam(new StreamLstm(new Generator(77)));
        resumed.LoadCheckpoint(c);
        resumed.Fit(2);
        Assert.Equal(Weights(straight.Model), Weights(resumed.Model));
    }

    [Fact]
    public void ACarriedStateThatDoesNotFit_IsRefused_AndChangesNothing()
    {
        Trainer first = Adam(new StreamLstm(new Generator(4)));
        first.StepCompleted += p => { if (p.Step == 2) first.RequestStop(); };
        first.Fit(1, _dir);
        Checkpoint c = Checkpoint.Load(Path.Combine(_dir, "epoch-1-step-2.ckpt"));
        c.Tensors.RemoveAll(kv => kv.Key == "carried.1");

        var target = new StreamLstm(new Generator(5));
        Trainer resumed = Adam(target);
        string before = string.Join(",", Weights(target).SelectMany(w => w));
        var e = Assert.Throws<ArgumentException>(() => resumed.LoadCheckpoint(c));
        Assert.Contains("'carried.'", e.Message);
        Assert.Equal(before, string.Join(",", Weights(target).SelectMany(w => w)));
        Assert.Equal((0, 0), (resumed.CompletedEpochs, resumed.EpochStep));
        Assert.Empty(target.State);
    }
}
