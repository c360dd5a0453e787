using Backprop.IO;
using Backprop.Tensors;
using Backprop.Tests.Support;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>
/// Resume validates the whole state before changing any: each corrupted entry of a checkpoint is refused
/// with the documented exception naming it (InvalidDataException for the trainer's own entries,
/// ArgumentException for "model." and "optimizer."), and the trainer is left exactly as it was.
/// </summary>
public partial class TrainerTests
{
    /// <summary>Everything a load can change: model, optimizer (with its groups' rates), generator, counters and schedule positions.</summary>
    private static string TrainerState(Trainer t) => string.Join("\n",
        StateSnapshot.Of(t.Model.StateDict()), StateSnapshot.Of(t.Optimizer.StateDict()),
        string.Join(",", t.Generator!.GetState()), t.CompletedEpochs, t.GlobalStep,
        t.EpochScheduler?.StepCount, t.StepScheduler?.StepCount, string.Join(",", t.Optimizer.ParamGroups.Select(g => g.LearningRate.ToString("R"))));

    private static void SetTensor(Checkpoint c, string name, Tensor t)
    {
        int i = c.Tensors.FindIndex(kv => kv.Key == name);
        if (i < 0) c.Tensors.Add(new(name, t));
        else c.Tensors[i] = new(name, t);
    }

    private static void RemoveTensor(Checkpoint c, string name) => Assert.Equal(1, c.Tensors.RemoveAll(kv => kv.Key == name));

    private static Tensor F64Scalar(double v) => Tensor.Scalar(v, DType.Float64);

    private static Tensor Words(params long[] words) => Tensor.FromArray(words);

    /// <summary>Each case: the trainer's schedule, the corruption, the exception type and the entry the message names.</summary>
    private static readonly Dictionary<string, (string Schedule, Action<Checkpoint> Corrupt, Type Exception, string Names)> ResumeCases = new()
    {
        ["missing format"] = ("none", c => c.Metadata.Remove("format"), typeof(InvalidDataException), "'format'"),
        ["other format"] = ("none", c => c.Metadata["format"] = "backprop-train-0", typeof(InvalidDataException), "'format'"),
        ["missing epoch"] = ("none", c => c.Metadata.Remove("epoch"), typeof(InvalidDataException), "'epoch'"),
        ["epoch abc"] = ("none", c => c.Metadata["epoch"] = "abc", typeof(InvalidDataException), "'epoch'"),
        ["negative epoch"] = ("none", c => c.Metadata["epoch"] = "-1", typeof(InvalidDataException), "'epoch'"),
        ["fractional epoch"] = ("none", c => c.Metadata["epoch"] = "1.5", typeof(InvalidDataException), "'epoch'"),
        ["NaN epoch"] = ("none", c => c.Metadata["epoch"] = "NaN", typeof(InvalidDataException), "'epoch'"),
        ["signed epoch"] = ("none", c => c.Metadata["epoch"] = "+1", typeof(InvalidDataException), "'epoch'"),
        ["epoch beyond int"] = ("none", c => c.Metadata["epoch"] = "2147483648", typeof(InvalidDataException), "'epoch'"),
        ["empty epoch"] = ("none", c => c.Metadata["epoch"] = "", typeof(InvalidDataException), "'epoch'"),
        ["step abc"] = ("none", c => c.Metadata["step"] = "abc", typeof(InvalidDataException), "'step'"),
        ["negative step"] = ("none", c => c.Metadata["step"] = "-3", typeof(InvalidDataException), "'step'"),
        ["fractional step"] = ("none", c => c.Metadata["step"] = "2.5", typeof(InvalidDataException), "'step'"),
        ["step beyond the epochs"] = ("none", c => c.Metadata["step"] = "9", typeof(InvalidDataException), "'step'"),
        ["epoch_step of a whole epoch"] = ("none", c => c.Metadata["epoch_step"] = "8", typeof(InvalidDataException), "'epoch_step'"),
        ["epoch_step abc"] = ("none", c => c.Metadata["epoch_step"] = "abc", typeof(InvalidDataException), "'epoch_step'"),
        ["carried state for a model without one"] = ("none", c => SetTensor(c, "carried.0", Tensor.Zeros([1, 2])), typeof(InvalidDataException), "'carried.0'"),
        ["epoch schedule position abc"] = ("epoch", c => c.Metadata["epoch_schedule_steps"] = "x", typeof(InvalidDataException), "'epoch_schedule_steps'"),
        ["step schedule position past OneCycle"] = ("step", c => c.Metadata["step_schedule_steps"] = "25", typeof(InvalidDataException), "'step_schedule_steps'"),
        ["step schedule position ill-formed without a step schedule"] = ("epoch", c => c.Metadata["step_schedule_steps"] = "-1", typeof(InvalidDataException), "'step_schedule_steps'"),
        ["missing rng"] = ("none", c => RemoveTensor(c, "rng"), typeof(InvalidDataException), "'rng'"),
        ["float64 rng"] = ("none", c => SetTensor(c, "rng", Tensor.Zeros([6], DType.Float64)), typeof(InvalidDataException), "'rng'"),
        ["short rng"] = ("none", c => SetTensor(c, "rng", Words(1, 2, 3, 4, 0)), typeof(InvalidDataException), "'rng'"),
        ["rng of rank 2"] = ("none", c => SetTensor(c, "rng", Tensor.FromArray(new long[] { 1, 2, 3, 4, 0, 0 }, new Shape(2, 3))), typeof(InvalidDataException), "'rng'"),
        ["rng spare flag 7"] = ("none", c => SetTensor(c, "rng", Words(1, 2, 3, 4, 7, 0)), typeof(InvalidDataException), "'rng'"),
        ["all-zero rng"] = ("none", c => SetTensor(c, "rng", Words(0, 0, 0, 0, 0, 0)), typeof(InvalidDataException), "'rng'"),
        ["repeated rng"] = ("none", c => c.Tensors.Add(new("rng", Words(1, 2, 3, 4, 0, 0))), typeof(InvalidDataException), "'rng'"),
        ["unknown tensor"] = ("none", c => SetTensor(c, "extra", F64Scalar(1)), typeof(InvalidDataException), "'extra'"),
        ["missing model weight"] = ("none", c => RemoveTensor(c, "model.3.weight"), typeof(ArgumentException), "'3.weight'"),
        ["model weight of the wrong dtype"] = ("none", c => SetTensor(c, "model.0.bias", Tensor.Zeros([16], DType.Float64)), typeof(ArgumentException), "'0.bias'"),
        ["model weight of the wrong shape"] = ("none", c => SetTensor(c, "model.0.weight", Tensor.Zeros([2, 16])), typeof(ArgumentException), "'0.weight'"),
        ["unknown model entry"] = ("none", c => SetTensor(c, "model.9.weight", Tensor.Zeros([1])), typeof(ArgumentException), "'9.weight'"),
        ["repeated model entry"] = ("none", c => c.Tensors.Add(new("model.3.bias", Tensor.Zeros([3]))), typeof(ArgumentException), "'3.bias'"),
        ["missing exp_avg_sq"] = ("none", c => RemoveTensor(c, "optimizer.state.2.exp_avg_sq"), typeof(ArgumentException), "'state.2.exp_avg_sq'"),
        ["fractional optimizer step"] = ("none", c => SetTensor(c, "optimizer.state.0.step", F64Scalar(7.5)), typeof(ArgumentException), "'state.0.step'"),
        ["negative optimizer step"] = ("none", c => SetTensor(c, "optimizer.state.1.step", F64Scalar(-8)), typeof(ArgumentException), "'state.1.step'"),
        ["NaN optimizer step"] = ("none", c => SetTensor(c, "optimizer.state.3.step", F64Scalar(double.NaN)), typeof(ArgumentException), "'state.3.step'"),
        ["non-scalar optimizer step"] = ("none", c => SetTensor(c, "optimizer.state.0.step", Tensor.Full([2], 8, DType.Float64)), typeof(ArgumentException), "'state.0.step'"),
        ["int64 optimizer step"] = ("none", c => SetTensor(c, "optimizer.state.0.step", Tensor.FromArray(new long[] { 8 }, Shape.Scalar)), typeof(ArgumentException), "'state.0.step'"),
        ["non-scalar lr"] = ("epoch", c => SetTensor(c, "optimizer.param_groups.0.lr", Tensor.Full([1], 0.05, DType.Float64)), typeof(ArgumentException), "'param_groups.0.lr'"),
        ["NaN lr"] = ("none", c => SetTensor(c, "optimizer.param_groups.0.lr", F64Scalar(double.NaN)), typeof(ArgumentException), "'param_groups.0.lr'"),
        ["negative weight decay"] = ("none", c => SetTensor(c, "optimizer.param_groups.0.weight_decay", F64Scalar(-0.01)), typeof(ArgumentException), "'param_groups.0.weight_decay'"),
        ["exp_avg of the wrong shape"] = ("none", c => SetTensor(c, "optimizer.state.1.exp_avg", Tensor.Zeros([3])), typeof(ArgumentException), "'state.1.exp_avg'"),
        ["NaN in exp_avg"] = ("none", c => SetTensor(c, "optimizer.state.3.exp_avg", Tensor.Full([3], double.NaN)), typeof(ArgumentException), "'state.3.exp_avg'"),
        ["unknown optimizer state key"] = ("none", c => SetTensor(c, "optimizer.state.0.foo", Tensor.Zeros([16, 2])), typeof(ArgumentException), "'state.0.foo'"),
        ["unknown optimizer entry"] = ("none", c => SetTensor(c, "optimizer.bogus", F64Scalar(1)), typeof(ArgumentException), "'bogus'"),
    };

    public static TheoryData<string> ResumeCaseNames => [.. ResumeCases.Keys];

    [Theory]
    [MemberData(nameof(ResumeCaseNames))]
    public void LoadCheckpoint_CorruptedEntry_IsRefusedByName_AndChangesNothing(string name)
    {
        var (schedule, corrupt, exception, names) = ResumeCases[name];
        Trainer source = Blobs(schedule);
        source.Fit(1);
        Checkpoint c = source.ToCheckpoint();
        corrupt(c);
        Trainer target = Blobs(schedule);
        target.Fit(2);
        string before = TrainerState(target);

        Exception e = Assert.Throws(exception, () => target.LoadCheckpoint(c));
        Assert.Contains(names, e.Message);
        Assert.StartsWith("Trainer.LoadCheckpoint: ", e.Message);
        Assert.Equal(before, TrainerState(target));
    }

    [Fact]
    public void LoadCheckpoint_FromAFile_RefusesTheSameWay()
    {
        Trainer source = Blobs();
        source.Fit(1);
        Checkpoint c = source.ToCheckpoint();
        SetTensor(c, "optimizer.state.0.step", F64Scalar(0.5));
        string path = Path.Combine(_dir, "bad.ckpt");
        c.Save(path);
        Trainer target = Blobs();
        string before = TrainerState(target);
        var e = Assert.Throws<ArgumentException>(() => target.LoadCheckpoint(path));
        Assert.Contains("'state.0.step'", e.Message);
        Assert.Equal(before, TrainerState(target));
    }

    [Fact]
    public void LoadCheckpoint_StepsBeyondTheEpochsWithoutAnEpochStep_AreRefused()
    {
        // Step 11 after 1 epoch of 8 is only consistent with "epoch_step" = 3, which a checkpoint taken inside epoch 2 records.
        Trainer source = Blobs();
        Checkpoint? mid = null;
        source.StepCompleted += p => { if (p.Epoch == 2 && p.Step == 3) mid = source.ToCheckpoint(); };
        source.Fit(2);
        Assert.Equal("3", mid!.Metadata["epoch_step"]);
        mid.Metadata.Remove("epoch_step");
        Trainer target = Blobs();
        var e = Assert.Throws<InvalidDataException>(() => target.LoadCheckpoint(mid));
        Assert.Contains("'step' = '11'", e.Message);
        Assert.Equal(0, target.CompletedEpochs);
    }

    [Theory]
    [InlineData("epoch")]
    [InlineData("step")]
    public void LoadCheckpoint_AfterARefusal_StillResumesBitIdentically(string schedule)
    {
        Trainer straight = Blobs(schedule);
        List<EpochResult> expected = straight.Fit(2);

        Trainer first = Blobs(schedule);
        first.Fit(1);
        Checkpoint good = first.ToCheckpoint();
        Checkpoint bad = first.ToCheckpoint();
        RemoveTensor(bad, "optimizer.state.3.exp_avg_sq");

        Trainer resumed = Blobs(schedule);
        Assert.Throws<ArgumentException>(() => resumed.LoadCheckpoint(bad));
        resumed.LoadCheckpoint(good);
        EpochResult second = Assert.Single(resumed.Fit(2));

        Assert.Equal(Weights(straight.Model), Weights(resumed.Model));
        Assert.Equal(expected[1].Training, second.Training);
        Assert.Equal(expected[1].Evaluation, second.Evaluation);
        Assert.Equal(TrainerState(straight), TrainerState(resumed));
    }
}
