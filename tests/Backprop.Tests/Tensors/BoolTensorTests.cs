using Backprop.IO;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Tensors;

/// <summary>The bool dtype and C# int arrays: making, reading, converting, printing, saving; values from PyTorch 2.x.</summary>
public class BoolTensorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bool-tests").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Tensor B(params bool[] v) => Tensor.FromArray(v);

    [Fact]
    public void FromArray_Bool_IsOneBytePerElement()
    {
        Tensor t = B(true, false, true);
        Assert.Equal(DType.Bool, t.DType);
        Assert.Equal(1, DType.Bool.ElementSize());
        Assert.Equal("bool", DType.Bool.Name());
        Assert.False(DType.Bool.IsFloatingPoint());
        Assert.Equal([true, false, true], t.ToArray<bool>());
        Assert.Equal([1.0, 0, 1], t.ToDoubleArray());
        Assert.True(t.Select(0, 2).Item<bool>());
        Assert.Equal(0.0, t[1]);
        Assert.Equal([false, false], Tensor.Zeros([2], DType.Bool).ToArray<bool>());
        Assert.Equal([true, true], Tensor.Ones([2], DType.Bool).ToArray<bool>());
        Assert.Equal([true], Tensor.Full([1], double.NaN, DType.Bool).ToArray<bool>()); // nonzero, as torch.full
        Assert.Equal([true, true], Tensor.Full([2], true).ToArray<bool>());
    }

    [Fact]
    public void FromArray_Int_BecomesInt64()
    {
        Tensor t = Tensor.FromArray(new[] { 2, 0, -1 });
        Assert.Equal(DType.Int64, t.DType);
        Assert.Equal([2L, 0, -1], t.ToArray<long>());
        Tensor m = Tensor.FromArray(new[,] { { 1, 2 }, { 3, 4 } });
        Assert.Equal(DType.Int64, m.DType);
        Assert.Equal(new Shape(2, 2), m.Shape);
        Assert.Equal([1L, 2, 3, 4], m.ToArray<long>());
        Assert.Equal(DType.Int64, Tensor.FromArray(new[] { 1, 2, 3, 4 }, [2, 2]).DType);
        Assert.Equal(7L, Tensor.FromArray(new[] { 7 }).Item<long>());
    }

    [Fact]
    public void IntIndices_WorkInEveryIndexOp()
    {
        Tensor x = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, [3, 2]);
        Assert.Equal([5f, 6, 1, 2], x.IndexSelect(0, Tensor.FromArray(new[] { 2, 0 })).ToArray<float>());
        Assert.Equal([5f, 6, 1, 2], x.IndexSelect(0, [2, 0]).ToArray<float>());
        Assert.Equal([2f, 3, 6], x.Gather(1, Tensor.FromArray(new[,] { { 1 }, { 0 }, { 1 } })).ToArray<float>());
        var embedding = new Embedding(4, 2);
        Assert.Equal(new Shape(2, 3, 2), embedding.Forward(Tensor.FromArray(new[] { 0, 1, 2, 3, 3, 0 }, [2, 3])).Shape);
        Assert.Equal([true, false], B(false, true, false).IndexSelect(0, [1, 2]).ToArray<bool>()); // bool data too
    }

    [Fact]
    public void UnsupportedElementTypes_AreRefusedAtCreation()
    {
        var e = Assert.Throws<NotSupportedException>(() => Tensor.FromArray(new short[] { 1 }));
        Assert.Contains("Int16", e.Message);
        Assert.Contains("FromArray", e.Message);
        var w = Assert.Throws<NotSupportedException>(() => Tensor.WrapArray(new[] { 1, 2 }, [2]));
        Assert.Contains("Int64", w.Message);
        var index = Assert.Throws<ArgumentException>(() => Tensor.Zeros([3]).IndexSelect(0, B(true, false)));
        Assert.Contains("MaskedSelect", index.Message);
    }

    [Fact]
    public void To_ConvertsToAndFromBool_AsPyTorch()
    {
        // torch: tensor([0, -0., 0.5, nan, inf]).to(bool) = [False, False, True, True, True]
        Tensor f = Tensor.FromArray(new[] { 0f, -0f, 0.5f, float.NaN, float.PositiveInfinity });
        Assert.Equal([false, false, true, true, true], f.To(DType.Bool).ToArray<bool>());
        Assert.Equal([1f, 0f], B(true, false).To(DType.Float32).ToArray<float>());
        Assert.Equal([1L, 0L], B(true, false).To(DType.Int64).ToArray<long>());
        Assert.Equal([1.0, 0.0], B(true, false).To(DType.Float64).ToArray<double>());
        Assert.Equal([false, true, true], Tensor.FromArray(new long[] { 0, 5, -1 }).To(DType.Bool).ToArray<bool>());
        Assert.Equal([2L, -2L, 10000000000L], Tensor.FromArray(new[] { 2.7, -2.7, 1e10 }).To(DType.Int64).ToArray<long>());
        // a strided view converts in row-major order
        Tensor t = Tensor.FromArray(new[] { 0.0, 1, 2, 0 }, [2, 2]).T();
        Assert.Equal([false, true, true, false], t.To(DType.Bool).ToArray<bool>());
        // long enough for the vector paths
        double[] many = Enumerable.Range(0, 300).Select(i => (double)(i % 3)).ToArray();
        Assert.Equal(many.Select(v => v != 0).ToArray(), Tensor.FromArray(many).To(DType.Bool).ToArray<bool>());
    }

    [Fact]
    public void Printing_MatchesTorch()
    {
        Assert.Equal("tensor([ True, False,  True], shape=[3], dtype=bool)", B(true, false, true).ToString());
        Assert.Equal("tensor([[ True],\n        [False]], shape=[2, 1], dtype=bool)", B(true, false).Reshape(2, 1).ToString());
    }

    [Fact]
    public void Reductions_SumCountsTrues_MeanRefusesNonFloat()
    {
        Tensor s = B(true, false, true, true).Sum();
        Assert.Equal(DType.Int64, s.DType);
        Assert.Equal(3L, s.Item<long>());
        Assert.Equal([1L, 2L], B(true, false, true, true).Reshape(2, 2).Sum(1).ToArray<long>());
        // torch: mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Long
        var e = Assert.Throws<ArgumentException>(() => Tensor.FromArray(new long[] { 1, 2 }).Mean());
        Assert.Contains("int64", e.Message);
        Assert.Contains("To(DType.Float32)", e.Message);
        var b = Assert.Throws<ArgumentException>(() => B(true).Mean());
        Assert.Contains("bool", b.Message);
        Assert.Equal(0.75, B(true, false, true, true).To(DType.Float32).Mean().Item());
    }

    [Fact]
    public void ViewsAndCopies_WorkOnBool()
    {
        Tensor m = B(true, false, false, true, true, false).Reshape(2, 3);
        Assert.Equal([true, true, false, true, false, false], m.T().Contiguous().ToArray<bool>());
        Assert.Equal([true, false, false, true, true, false, true, false, false, true, true, false], Tensor.Cat([m, m], 0).ToArray<bool>());
        Assert.Equal(new Shape(2, 2, 3), Tensor.Stack([m, m]).Shape);
        Assert.Equal([false, true], m.Narrow(1, 1, 1).Contiguous().ToArray<bool>());
        Tensor causal = Tensor.Ones([3, 3], DType.Bool).Triu(1);
        Assert.Equal([false, true, true, false, false, true, false, false, false], causal.ToArray<bool>());
        Assert.Throws<InvalidOperationException>(() => B(true).RequiresGrad = true);
    }

    [Fact]
    public void TensorDataset_BatchesBoolTargets()
    {
        var data = new Backprop.Data.TensorDataset(Tensor.Arange(3).Reshape(3, 1), B(true, false, true));
        Assert.Equal([true, true], data.GetBatch([2, 0]).Targets.ToArray<bool>());
    }

    [Fact]
    public void Checkpoint_RoundTripsBool_AndRefusesOtherBytes()
    {
        string path = Path.Combine(_dir, "mask.ckpt");
        Tensor mask = B(true, false, false, true, true, false).Reshape(3, 2).T(); // saved contiguous
        new Checkpoint([new("mask", mask), new("w", Tensor.FromArray(new[] { 1f }))], new()).Save(path);
        Checkpoint c = Checkpoint.Load(path);
        Assert.Equal(DType.Bool, c.Get("mask").DType);
        Assert.Equal(new Shape(2, 3), c.Get("mask").Shape);
        Assert.Equal(mask.Contiguous().ToArray<bool>(), c.Get("mask").ToArray<bool>());

        byte[] file = new CheckpointBytes().Int(1).Tensor("mask", 3, [3], [1, 2, 0]).Int(0).Signed();
        File.WriteAllBytes(path, file);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.Contains("mask", e.Message);
        Assert.Contains("byte 2", e.Message);
    }
}
