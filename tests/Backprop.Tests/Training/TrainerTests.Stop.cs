using Backprop.IO;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>
/// RequestStop ends an epoch after the current step, with an evaluation and a checkpoint of the position;
/// training resumed from it (in a new trainer, or continued in the same one) equals an uninterrupted run.
/// </summary>
public partial class TrainerTests
{
    [Fact]
    public void Stop_MidEpoch_EvaluatesSavesThePositionAndReturns()
    {
        Trainer trainer = Blobs();
        trainer.StepCompleted += p => { if (p.Epoch == 2 && p.Step == 3) trainer.RequestStop(); };
        List<EpochResult> results = trainer.Fit(3, _dir);

        Assert.Equal(2, results.Count);
        EpochResult partial = results[1];
        Assert.False(partial.Complete);
        Assert.True(partial.Stopped);
        Assert.Equal((2, 3, 3), (partial.Epoch, partial.Steps, partial.EpochStep));
        Assert.Equal(3 * BatchSize, partial.Examples);
        Assert.NotNull(partial.Evaluation);
        Assert.True(double.IsFinite(partial.Evaluation!["loss"]));
        Assert.Equal((1, 3, StepsPerEpoch + 3L), (trainer.CompletedEpochs, trainer.EpochStep, trainer.GlobalStep));
        Assert.False(trainer.StopRequested);
        Assert.Equal(["epoch-1.ckpt", "epoch-2-step-3.ckpt"], Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Checkpoint c = Checkpoint.Load(Path.Combine(_dir, "epoch-2-step-3.ckpt"));
        Assert.Equal(("1", "3", "11"), (c.Metadata["epoch"], c.Metadata["epoch_step"], c.Metadata["step"]));
        Assert.False(Checkpoint.Load(Path.Combine(_dir, "epoch-1.ckpt")).Metadata.ContainsKey("epoch_step"));
    }

    [Theory]
    [InlineData("epoch")]
    [InlineData("step")]
    public void Stop_MidEpoch_ThenResume_EqualsAnUninterruptedRun(string schedule)
    {
        Trainer straight = Blobs(schedule);
        List<EpochResult> expected = straight.Fit(3);

        Trainer first = Blobs(schedule);
        first.StepCompleted += p => { if (p.Epoch == 2 && p.Step == 5) first.RequestStop(); };
        first.Fit(3, _dir);

        Trainer resumed = Blobs(schedule);
        resumed.LoadCheckpoint(Path.Combine(_dir, "epoch-2-step-5.ckpt"));
        Assert.Equal((1, 5), (resumed.CompletedEpochs, resumed.EpochStep));
        var steps = new List<int>();
        resumed.StepCompleted += p => steps.Add(p.Step);
        List<EpochResult> rest = resumed.Fit(3);

        Assert.Equal([6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8], steps);
        Assert.Equal((3, StepsPerEpoch), (rest[0].Steps, rest[0].EpochStep));
        Assert.True(rest[0].Complete);
        Assert.Equal(Weights(straight.Model), Weights(resumed.Model));
        Assert.Equal(TrainerState(straight), TrainerState(resumed));
        Assert.Equal(expected[2].Training, rest[1].Training);
        Assert.Equal(expected[2].Evaluation, rest[1].Evaluation);
        // The resumed epoch's training metrics cover only its last 3 steps (documented).
        Assert.Equal(3L * BatchSize - (BatchSize - TrainCount % BatchSize), rest[0].Examples);
    }

    [Fact]
    public void Stop_ThenFitAgain_ContinuesTheEpochInTheSameTrainer()
    {
        Trainer straight = Blobs();
        straight.Fit(2);
        Trainer trainer = Blobs();
        bool asked = false;
        trainer.StepCompleted += p => { if (p.Epoch == 1 && p.Step == 2 && !asked) { asked = true; trainer.RequestStop(); } };
        Assert.Single(trainer.Fit(2));
        Assert.Equal(2, trainer.Fit(2).Count);
        Assert.Equal(Weights(straight.Model), Weights(trainer.Model));
    }

    [Fact]
    public void Stop_AtAnEpochsLastStep_CompletesTheEpochAndEndsFit()
    {
        Trainer trainer = Blobs();
        trainer.StepCompleted += p => { if (p.Epoch == 1 && p.Step == StepsPerEpoch) trainer.RequestStop(); };
        EpochResult r = Assert.Single(trainer.Fit(3, _dir));
        Assert.True(r.Complete && r.Stopped);
        Assert.Equal((1, 0), (trainer.CompletedEpochs, trainer.EpochStep));
        Assert.Equal(["epoch-1.ckpt"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void Stop_RequestedBeforeTraining_StopsAfterTheFirstStep()
    {
        Trainer trainer = Blobs();
        trainer.RequestStop();
        EpochResult r = Assert.Single(trainer.Fit(1));
        Assert.Equal((1, false), (r.Steps, r.Complete));
    }
}
