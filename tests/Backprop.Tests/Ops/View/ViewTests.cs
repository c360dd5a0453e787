using Backprop.Autograd;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.View;

public class ViewTests
{
    /// <summary>[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] as float64.</summary>
    private static Tensor Grid() => Tensor.Arange(12, DType.Float64).Reshape(3, 4);

    // ---------------- Reshape / View / Flatten ----------------

    [Fact]
    public void Reshape_GradCheck()
    {
        GradCheck.Verify(x => x[0].Reshape(3, -1, 2), [T.Param(1, 2, 3, 4)]);
        GradCheck.Verify(x => x[0].T().Reshape(-1), [T.Param(2, 3, 4)]); // non-contiguous input copies
        GradCheck.VerifySecondOrder(x => (x[0] * x[0]).Reshape(6), [T.Param(3, 2, 3)]);
    }

    [Fact]
    public void Reshape_Contiguous_SharesStorage_NonContiguous_Copies()
    {
        Tensor x = Grid();
        Tensor v = x.Reshape(4, 3);
        Assert.Same(x.Storage, v.Storage);
        T.Close([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], v);
        Tensor c = x.T().Reshape(12);
        Assert.NotSame(x.Storage, c.Storage);
        T.Close([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], c);
    }

    [Fact]
    public void Reshape_BadSizes_NameShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Grid().Reshape(5, -1));
        Assert.Contains("Reshape", e.Message);
        Assert.Contains("[3, 4]", e.Message);
        Assert.Throws<ArgumentException>(() => Grid().Reshape(-1, -1));
    }

    [Fact]
    public void View_SharesStorage_AndRejectsNonContiguous()
    {
        Tensor x = Grid();
        Tensor v = x.View(2, 6);
        Assert.Same(x.Storage, v.Storage);
        Assert.Equal(new Shape(2, 6), v.Shape);
        var e = Assert.Throws<InvalidOperationException>(() => x.T().View(12));
        Assert.Contains("View", e.Message);
        Assert.Contains("Reshape", e.Message);
        GradCheck.Verify(t => t[0].View(4, 3), [T.Param(1, 3, 4)]);
    }

    [Fact]
    public void View_OfStrideCompatibleSlice_SharesStorage_AsPyTorch()
    {
        // A column block of [2, 3, 12] (strides 36, 12, 1) split into heads, as attention does with q, k, v.
        Tensor qkv = Tensor.Arange(72, DType.Float64).Reshape(2, 3, 12);
        Tensor k = qkv.Narrow(2, 4, 4);                         // [2, 3, 4], not contiguous
        Tensor heads = k.View(2, 3, 2, 2);
        Assert.Same(qkv.Storage, heads.Storage);
        Assert.Equal([36, 12, 2, 1], heads.Strides.ToArray());
        T.Close([4, 5, 6, 7, 16, 17, 18, 19, 28, 29, 30, 31, 40, 41, 42, 43, 52, 53, 54, 55, 64, 65, 66, 67], heads);
        // Merging the batch and time dimensions of the slice is also a view (their strides chain); merging time with features is not.
        Assert.Equal([12, 1], k.View(6, 4).Strides.ToArray());
        var e = Assert.Throws<InvalidOperationException>(() => k.View(2, 12));
        Assert.Contains("[2, 3, 4]", e.Message);
        Assert.Contains("[36, 12, 1]", e.Message);
        Tensor copied = k.Reshape(2, 12);
        Assert.NotSame(qkv.Storage, copied.Storage);
        T.Close([4, 5, 6, 7, 16, 17, 18, 19, 28, 29, 30, 31, 40, 41, 42, 43, 52, 53, 54, 55, 64, 65, 66, 67], copied);
        // Size-1 dimensions take any place.
        Assert.Equal(new Shape(1, 2, 1, 3, 4), k.View(1, 2, 1, 3, 4).Shape);
        GradCheck.Verify(t => t[0].Narrow(2, 4, 4).View(2, 3, 2, 2) * 2.0, [T.Param(7, 2, 3, 12)]);
    }

    [Fact]
    public void Flatten_ShapesAndGradCheck()
    {
        Tensor x = Tensor.Zeros([2, 3, 4, 5]);
        Assert.Equal(new Shape(120), x.Flatten().Shape);
        Assert.Equal(new Shape(2, 60), x.Flatten(1).Shape);
        Assert.Equal(new Shape(2, 12, 5), x.Flatten(1, 2).Shape);
        Assert.Equal(new Shape(1), Tensor.Scalar(3).Flatten().Shape);
        Assert.Throws<ArgumentException>(() => x.Flatten(2, 1));
        GradCheck.Verify(t => t[0].Flatten(0, 1), [T.Param(1, 2, 3, 2)]);
    }

    // ---------------- Expand / BroadcastTo ----------------

    [Fact]
    public void Expand_IsStrideZeroView_WithHandValues()
    {
        Tensor x = T.F64([1, 2, 3], 3, 1);
        Tensor y = x.Expand(2, 3, 4);
        Assert.Same(x.Storage, y.Storage);
        Assert.Equal([0, 1, 0], y.Strides.ToArray());
        Assert.Equal(new Shape(2, 3, 4), y.Shape);
        T.Close([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3], y);
        Assert.Equal(new Shape(3, 5), x.Expand(-1, 5).Shape);
        Assert.Equal(new Shape(2, 3, 1), x.BroadcastTo([2, 3, 1]).Shape);
    }

    [Fact]
    public void Expand_GradCheck_SumsCopies()
    {
        GradCheck.Verify(x => x[0].Expand(2, 3, 4), [T.Param(1, 3, 1)]);
        GradCheck.Verify(x => x[0].BroadcastTo([4, 5]), [T.Param(2, 5)]);
        GradCheck.Verify(x => x[0].Expand(3, 2), [T.Param(3, 2)]);
        GradCheck.VerifySecondOrder(x => x[0].Expand(3, 2) * x[0], [T.Param(4, 3, 1)]);
        Tensor p = T.F64([1, 2]).RequireGrad();
        p.Reshape(2, 1).Expand(2, 3).Sum().Backward();
        T.Close([3, 3], p.Grad!);
    }

    [Fact]
    public void Expand_NonSingletonDim_NamesShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros([2, 3]).Expand(4, 3, 5));
        Assert.Contains("Expand", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Throws<ArgumentException>(() => Tensor.Zeros([2, 3]).Expand(3));
    }

    // ---------------- Clone / Contiguous / To ----------------

    [Fact]
    public void Clone_CopiesStorage_Contiguous_ReturnsSelfWhenContiguous()
    {
        Tensor x = Grid();
        Tensor c = x.Clone();
        Assert.NotSame(x.Storage, c.Storage);
        T.Close(x.ToDoubleArray(), c);
        Assert.Same(x, x.Contiguous());
        Tensor t = x.T().Contiguous();
        Assert.True(t.IsContiguous);
        T.Close([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], t);
        GradCheck.Verify(v => v[0].Clone() * v[0], [T.Param(1, 2, 3)]);
        GradCheck.Verify(v => v[0].T().Contiguous(), [T.Param(2, 2, 3)]);
    }

    [Fact]
    public void To_ConvertsAndGradientKeepsInputDType()
    {
        Tensor x = T.F64([1.5, -2.5, 3.25]).RequireGrad();
        Tensor f = x.To(DType.Float32);
        Assert.Equal(DType.Float32, f.DType);
        T.Close([1.5, -2.5, 3.25], f);
        (f * f).Sum().Backward();
        Assert.Equal(DType.Float64, x.Grad!.DType);
        T.Close([3, -5, 6.5], x.Grad!, 1e-6);
        Assert.Equal(new long[] { 1, -2, 3 }, x.Detach().To(DType.Int64).ToArray<long>());
    }

    // ---------------- Permute / Transpose / T ----------------

    [Fact]
    public void Transpose_Permute_AreViews_WithHandValues()
    {
        Tensor x = Grid();
        Tensor t = x.T();
        Assert.Same(x.Storage, t.Storage);
        Assert.False(t.IsContiguous);
        Assert.Equal([1, 4], t.Strides.ToArray());
        T.Close([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], t);
        Assert.Equal(9.0, x.Transpose(0, 1)[1, 2]);

        Tensor y = Tensor.Arange(24, DType.Float64).Reshape(2, 3, 4);
        Tensor p = y.Permute(2, 0, 1); // [4, 2, 3]: p[k, i, j] = y[i, j, k] = 12i + 4j + k
        Assert.Same(y.Storage, p.Storage);
        Assert.Equal(new Shape(4, 2, 3), p.Shape);
        Assert.Equal(12 + 8 + 3.0, p[3, 1, 2]);
        Assert.Equal(new Shape(2, 4, 3), y.Transpose(-1, -2).Shape);
        Assert.Equal(new Shape(2, 4, 3), y.T().Shape);
        Assert.Equal(new Shape(4, 3, 2), y.Transpose(0, 2).Shape);
    }

    [Fact]
    public void Transpose_WriteThroughView_IsVisibleInBase()
    {
        Tensor x = Grid();
        x.T().Select(0, 1).FillInPlace(-1); // column 1 of x
        T.Close([0, -1, 2, 3, 4, -1, 6, 7, 8, -1, 10, 11], x);
    }

    [Fact]
    public void Permute_Transpose_GradCheck()
    {
        GradCheck.Verify(x => x[0].Permute(2, 0, 1), [T.Param(1, 2, 3, 4)]);
        GradCheck.Verify(x => x[0].Permute(-1, 1, 0), [T.Param(2, 2, 3, 4)]);
        GradCheck.Verify(x => x[0].Transpose(0, 2), [T.Param(3, 2, 3, 4)]);
        GradCheck.Verify(x => x[0].T() * x[1], [T.Param(4, 3, 2), T.Param(5, 2, 3)]);
        GradCheck.VerifySecondOrder(x => x[0].T() * x[0].T(), [T.Param(6, 3, 2)]);
    }

    [Fact]
    public void Permute_BadDims_Throw()
    {
        Tensor x = Tensor.Zeros([2, 3, 4]);
        Assert.Contains("repeats", Assert.Throws<ArgumentException>(() => x.Permute(0, 0, 1)).Message);
        Assert.Contains("[2, 3, 4]", Assert.Throws<ArgumentException>(() => x.Permute(0, 1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Transpose(0, 3));
    }

    // ---------------- Narrow / Slice / Select ----------------

    [Fact]
    public void Narrow_IsView_WithHandValues()
    {
        Tensor x = Grid();
        Tensor n = x.Narrow(1, 1, 2);
        Assert.Same(x.Storage, n.Storage);
        Assert.Equal(1, n.Offset);
        Assert.Equal([4, 1], n.Strides.ToArray());
        T.Close([1, 2, 5, 6, 9, 10], n);
        T.Close([4, 5, 6, 7, 8, 9, 10, 11], x.Narrow(0, -2, 2));
        Assert.Equal(new Shape(3, 0), x.Narrow(1, 4, 0).Shape);
        n.FillInPlace(0);
        T.Close([0, 0, 0, 3, 4, 0, 0, 7, 8, 0, 0, 11], x);
    }

    [Fact]
    public void Narrow_GradCheck()
    {
        GradCheck.Verify(x => x[0].Narrow(1, 1, 2), [T.Param(1, 3, 4)]);
        GradCheck.Verify(x => x[0].Narrow(0, 0, 1), [T.Param(2, 3, 4)]);
        GradCheck.Verify(x => x[0].Narrow(-1, -3, 3), [T.Param(3, 2, 3, 4)]);
        GradCheck.Verify(x => x[0].T().Narrow(0, 1, 2), [T.Param(4, 3, 4)]);
        GradCheck.VerifySecondOrder(x => x[0].Narrow(1, 1, 2) * x[0].Narrow(1, 0, 2), [T.Param(5, 3, 4)]);
        Tensor p = T.Param(6, 3, 4);
        p.Narrow(1, 1, 2).Sum().Backward();
        T.Close([0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0], p.Grad!);
    }

    [Fact]
    public void Narrow_Errors_NameOpDimAndSizes()
    {
        Tensor x = Grid();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => x.Narrow(1, 3, 2));
        Assert.Contains("Narrow", e.Message);
        Assert.Contains("exceeds dimension 1 of size 4", e.Message);
        Assert.Contains("[3, 4]", e.Message);
        Assert.Contains("start 5", Assert.Throws<ArgumentOutOfRangeException>(() => x.Narrow(1, 5, 0)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Narrow(1, 0, -1));
        var d = Assert.Throws<ArgumentOutOfRangeException>(() => x.Narrow(2, 0, 1));
        Assert.Contains("dimension 2 is out of range", d.Message);
        Assert.Throws<ArgumentException>(() => Tensor.Scalar(1).Narrow(0, 0, 1));
    }

    [Theory]
    [InlineData(0, 10, 1, new double[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 })]
    [InlineData(2, 7, 2, new double[] { 2, 4, 6 })]
    [InlineData(1, 9, 3, new double[] { 1, 4, 7 })]
    [InlineData(-3, 10, 1, new double[] { 7, 8, 9 })]
    [InlineData(-100, 3, 1, new double[] { 0, 1, 2 })]     // start clamps to 0
    [InlineData(8, 100, 1, new double[] { 8, 9 })]         // end clamps to size
    [InlineData(0, -1, 4, new double[] { 0, 4, 8 })]
    [InlineData(-2, -5, 1, new double[0])]                 // end before start: empty
    [InlineData(12, 20, 1, new double[0])]                 // start past the end: empty
    public void Slice_PythonSemantics(int start, int end, int step, double[] expected)
    {
        Tensor x = Tensor.Arange(10, DType.Float64);
        Tensor s = x.Slice(0, start, end, step);
        Assert.Same(x.Storage, s.Storage);
        T.Close(expected, s);
    }

    [Fact]
    public void Slice_StepView_AndGradCheck()
    {
        Tensor x = Grid();
        Tensor s = x.Slice(1, 0, 4, 2);
        Assert.Equal([4, 2], s.Strides.ToArray());
        T.Close([0, 2, 4, 6, 8, 10], s);
        T.Close([8, 9, 10, 11], x.Slice(0, -1, int.MaxValue));
        Assert.Contains("step must be positive", Assert.Throws<ArgumentOutOfRangeException>(() => x.Slice(0, 0, 3, 0)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Slice(0, 0, 3, -1));

        GradCheck.Verify(t => t[0].Slice(1, 1, 5, 2), [T.Param(1, 3, 5)]);
        GradCheck.Verify(t => t[0].Slice(0, -2, 100, 1), [T.Param(2, 3, 5)]);
        GradCheck.Verify(t => t[0].Slice(-1, 0, -1, 3).Slice(0, 0, 3, 2), [T.Param(3, 3, 2, 7)]);
        GradCheck.VerifySecondOrder(t => t[0].Slice(1, 0, 5, 2) * t[0].Slice(1, 1, 5, 2).Sum(), [T.Param(4, 2, 5)]);
    }

    [Fact]
    public void Select_DropsDim_IsView_WithHandValues()
    {
        Tensor x = Grid();
        Tensor r = x.Select(0, 1);
        Assert.Same(x.Storage, r.Storage);
        Assert.Equal(new Shape(4), r.Shape);
        T.Close([4, 5, 6, 7], r);
        T.Close([3, 7, 11], x.Select(1, -1));
        Assert.Equal(new Shape(), x.Select(0, 2).Select(0, 1).Shape);
        Assert.Equal(9.0, x.Select(0, 2).Select(0, 1).Item());
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => x.Select(1, 4));
        Assert.Contains("Select: index 4 is out of range for dimension 1 of size 4", e.Message);
    }

    [Fact]
    public void Select_GradCheck()
    {
        GradCheck.Verify(x => x[0].Select(1, 2), [T.Param(1, 3, 4)]);
        GradCheck.Verify(x => x[0].Select(-1, 0) * x[0].Select(0, 1), [T.Param(2, 3, 3)]);
        GradCheck.VerifySecondOrder(x => x[0].Select(0, 1) * x[0].Select(0, 2), [T.Param(3, 3, 4)]);
    }

    // ---------------- Unsqueeze / Squeeze ----------------

    [Fact]
    public void Unsqueeze_Squeeze_ShapesAndViews()
    {
        Tensor x = Grid();
        Assert.Equal(new Shape(1, 3, 4), x.Unsqueeze(0).Shape);
        Assert.Equal(new Shape(3, 1, 4), x.Unsqueeze(1).Shape);
        Assert.Equal(new Shape(3, 4, 1), x.Unsqueeze(-1).Shape);
        Assert.Equal(new Shape(3, 1, 4), x.Unsqueeze(-2).Shape);
        Assert.Equal(new Shape(1), Tensor.Scalar(2).Unsqueeze(0).Shape);
        Assert.True(x.Unsqueeze(1).IsContiguous);
        Assert.Same(x.Storage, x.Unsqueeze(2).Storage);
        Assert.Contains("Unsqueeze: dimension 3", Assert.Throws<ArgumentOutOfRangeException>(() => x.Unsqueeze(3)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Unsqueeze(-4));

        Tensor y = Tensor.Zeros([1, 3, 1, 2, 1]);
        Assert.Equal(new Shape(3, 2), y.Squeeze().Shape);
        Assert.Equal(new Shape(3, 1, 2, 1), y.Squeeze(0).Shape);
        Assert.Equal(new Shape(1, 3, 1, 2), y.Squeeze(-1).Shape);
        Assert.Same(y, y.Squeeze(1)); // size 3: no-op, as PyTorch
        Assert.Same(y.Storage, y.Squeeze().Storage);
        Assert.Equal(new Shape(), Tensor.Zeros([1, 1]).Squeeze().Shape);
        Assert.Throws<ArgumentOutOfRangeException>(() => y.Squeeze(5));

        Tensor t = x.T().Unsqueeze(1); // keeps the transposed strides
        T.Close([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], t);
        T.Close([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], t.Squeeze());
    }

    [Fact]
    public void Unsqueeze_Squeeze_GradCheck()
    {
        GradCheck.Verify(x => x[0].Unsqueeze(1), [T.Param(1, 3, 4)]);
        GradCheck.Verify(x => x[0].Squeeze(), [T.Param(2, 1, 3, 1)]);
        GradCheck.Verify(x => x[0].Squeeze(-1), [T.Param(3, 2, 1)]);
        GradCheck.Verify(x => x[0].T().Unsqueeze(0) * x[1], [T.Param(4, 3, 2), T.Param(5, 2, 1, 3)]);
        GradCheck.VerifySecondOrder(x => x[0].Unsqueeze(0) * x[0].Unsqueeze(1), [T.Param(6, 3)]);
    }

    // ---------------- Cat / Stack ----------------

    [Fact]
    public void Cat_HandValues()
    {
        Tensor a = T.F64([1, 2, 3, 4], 2, 2);
        Tensor b = T.F64([5, 6], 2, 1);
        Tensor c = T.F64([7, 8, 9, 10, 11, 12], 2, 3);
        Tensor y = Tensor.Cat([a, b, c], 1);
        Assert.Equal(new Shape(2, 6), y.Shape);
        T.Close([1, 2, 5, 7, 8, 9, 3, 4, 6, 10, 11, 12], y);
        T.Close([1, 2, 3, 4, 1, 3, 2, 4], Tensor.Cat([a, a.T()], 0));  // a.T() is a strided view
        T.Close([1, 2, 5, 3, 4, 6], Tensor.Cat([a, b], -1));
        // 1-D empty tensors are skipped, as PyTorch's legacy rule.
        T.Close([1, 2, 3, 4], Tensor.Cat([Tensor.Zeros([0], DType.Float64), a]));
        Assert.Equal(new Shape(3), Tensor.Cat([Tensor.Zeros([0]), Tensor.Ones([3])]).Shape);
        Tensor single = Tensor.Cat([a]);
        Assert.NotSame(a.Storage, single.Storage);
    }

    [Fact]
    public void Cat_GradCheck_MiddleAndNegativeDims()
    {
        GradCheck.Verify(x => Tensor.Cat([x[0], x[1], x[2]], 1), [T.Param(1, 2, 3, 4), T.Param(2, 2, 1, 4), T.Param(3, 2, 2, 4)]);
        GradCheck.Verify(x => Tensor.Cat([x[0], x[1], x[2]], -2), [T.Param(4, 2, 3, 4), T.Param(5, 2, 1, 4), T.Param(6, 2, 2, 4)]);
        GradCheck.Verify(x => Tensor.Cat([x[0], x[1], x[2]], -1), [T.Param(7, 2, 3), T.Param(8, 2, 1), T.Param(9, 2, 2)]);
        // The same tensor twice, a non-leaf and a transposed view; only some inputs require grad.
        GradCheck.Verify(x => Tensor.Cat([x[0], x[0] * 2, x[1].T(), Tensor.Ones([2, 3], DType.Float64)], 0), [T.Param(10, 2, 3), T.Param(11, 3, 2)]);
        GradCheck.VerifySecondOrder(x => Tensor.Cat([x[0] * x[0], x[1], x[0] * x[1]], 1), [T.Param(12, 2, 2), T.Param(13, 2, 2)]);
    }

    [Fact]
    public void Cat_MismatchedShapes_NameBothShapesAndDim()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Cat([Tensor.Zeros([2, 3]), Tensor.Zeros([2, 3]), Tensor.Zeros([3, 4])], 1));
        Assert.Contains("Cat", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[3, 4]", e.Message);
        Assert.Contains("dimension 1", e.Message);
        Assert.Contains("tensor 2", e.Message);
        Assert.Contains("[2, 3, 1]", Assert.Throws<ArgumentException>(() => Tensor.Cat([Tensor.Zeros([2, 3]), Tensor.Zeros([2, 3, 1])])).Message);
        Assert.Contains("float64", Assert.Throws<ArgumentException>(() => Tensor.Cat([Tensor.Zeros([2]), Tensor.Zeros([2], DType.Float64)])).Message);
        Assert.Throws<ArgumentException>(() => Tensor.Cat([]));
        Assert.Throws<ArgumentException>(() => Tensor.Cat([Tensor.Scalar(1), Tensor.Scalar(2)]));
        Assert.Contains("dimension 2 is out of range", Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Cat([Tensor.Zeros([2, 3])], 2)).Message);
    }

    [Fact]
    public void Stack_HandValuesAndShapes()
    {
        Tensor a = T.F64([1, 2, 3], 3), b = T.F64([4, 5, 6], 3);
        T.Close([1, 2, 3, 4, 5, 6], Tensor.Stack([a, b]));
        Tensor s = Tensor.Stack([a, b], 1);
        Assert.Equal(new Shape(3, 2), s.Shape);
        T.Close([1, 4, 2, 5, 3, 6], s);
        Assert.Equal(new Shape(3, 2), Tensor.Stack([a, b], -1).Shape);
        Assert.Equal(new Shape(2), Tensor.Stack([Tensor.Scalar(1), Tensor.Scalar(2)]).Shape);
        Tensor[] m = [Tensor.Zeros([2, 3]), Tensor.Zeros([2, 3]), Tensor.Zeros([2, 3])];
        Assert.Equal(new Shape(2, 3, 3), Tensor.Stack(m, 1).Shape);
        Assert.Equal(new Shape(2, 3, 3), Tensor.Stack(m, -2).Shape);
        var e = Assert.Throws<ArgumentException>(() => Tensor.Stack([Tensor.Zeros([2, 3]), Tensor.Zeros([2, 4])]));
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[2, 4]", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Stack([a, b], 2));
    }

    [Fact]
    public void Stack_GradCheck()
    {
        GradCheck.Verify(x => Tensor.Stack([x[0], x[1], x[2]], 1), [T.Param(1, 2, 3), T.Param(2, 2, 3), T.Param(3, 2, 3)]);
        GradCheck.Verify(x => Tensor.Stack([x[0], x[1], x[2]], -1), [T.Param(4, 2, 3), T.Param(5, 2, 3), T.Param(6, 2, 3)]);
        GradCheck.VerifySecondOrder(x => Tensor.Stack([x[0] * x[1], x[1]], 1), [T.Param(7, 2, 2), T.Param(8, 2, 2)]);
    }

    // ---------------- Split / Chunk ----------------

    [Fact]
    public void Split_UnevenSizes_AreViews()
    {
        Tensor x = Tensor.Arange(10, DType.Float64).Reshape(2, 5);
        Tensor[] parts = x.Split(2, 1);
        Assert.Equal(3, parts.Length);
        Assert.Equal(new Shape(2, 2), parts[0].Shape);
        Assert.Equal(new Shape(2, 1), parts[2].Shape);
        T.Close([2, 3, 7, 8], parts[1]);
        T.Close([4, 9], parts[2]);
        foreach (Tensor p in parts) Assert.Same(x.Storage, p.Storage);

        Tensor[] bySizes = x.Split([1, 3, 1], -1);
        T.Close([1, 2, 3, 6, 7, 8], bySizes[1]);
        Assert.Single(x.Split(7, 1));
        Assert.Single(Tensor.Zeros([0]).Split(3));
        Assert.Equal(new Shape(0, 5), x.Split([2, 0], 0)[1].Shape);

        Assert.Contains("sum to 4", Assert.Throws<ArgumentException>(() => x.Split([1, 3], 1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Split(0, 1));
        Assert.Throws<ArgumentException>(() => x.Split([-1, 6], 1));
    }

    [Fact]
    public void Split_GradCheck()
    {
        GradCheck.Verify(x =>
        {
            Tensor[] p = x[0].Split(2, 1); // sizes 2, 2, 1
            return Tensor.Cat([p[2] * 3, p[0] * p[0], p[1]], 1);
        }, [T.Param(1, 3, 5)]);
        GradCheck.Verify(x =>
        {
            Tensor[] p = x[0].Split([3, 1, 3], 0);
            return p[0] * p[2] + p[1];
        }, [T.Param(2, 7, 2)]);
    }

    [Fact]
    public void Chunk_FollowsPyTorchSizes()
    {
        int[] Sizes(Tensor[] ts) => Array.ConvertAll(ts, t => t.Shape[0]);
        Assert.Equal([2, 2, 1], Sizes(Tensor.Zeros([5]).Chunk(3)));
        Assert.Equal([2, 2, 2], Sizes(Tensor.Zeros([6]).Chunk(4)));   // fewer chunks than asked
        Assert.Equal([1, 1], Sizes(Tensor.Zeros([2]).Chunk(5)));
        Assert.Equal([0, 0, 0], Sizes(Tensor.Zeros([0]).Chunk(3)));
        Tensor x = Tensor.Arange(12, DType.Float64).Reshape(3, 4);
        Tensor[] c = x.Chunk(2, -1);
        T.Close([2, 3, 6, 7, 10, 11], c[1]);
        Assert.Same(x.Storage, c[1].Storage);
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Chunk(0));
        GradCheck.Verify(t =>
        {
            Tensor[] p = t[0].Chunk(3, 0); // sizes 3, 3, 1
            return p[0] * p[1] + p[2];
        }, [T.Param(3, 7, 2)]);
    }

    // ---------------- Repeat ----------------

    [Fact]
    public void Repeat_HandValues()
    {
        Tensor a = T.F64([1, 2, 3, 4], 2, 2);
        Tensor r = a.Repeat(2, 3);
        Assert.Equal(new Shape(4, 6), r.Shape);
        T.Close([1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4], r);
        Tensor v = T.F64([1, 2], 2).Repeat(2, 2);
        Assert.Equal(new Shape(2, 4), v.Shape);
        T.Close([1, 2, 1, 2, 1, 2, 1, 2], v);
        Assert.Equal(new Shape(3, 2, 0), a.Repeat(3, 1, 0).Shape);
        Tensor same = a.Repeat(1, 1);
        Assert.NotSame(a.Storage, same.Storage);
        T.Close([1, 3, 1, 3, 2, 4, 2, 4], a.T().Repeat(1, 2));
        Assert.Contains("(1)", Assert.Throws<ArgumentException>(() => a.Repeat(2)).Message);
    }

    [Fact]
    public void Repeat_GradCheck()
    {
        GradCheck.Verify(x => x[0].Repeat(2, 3), [T.Param(1, 2, 3)]);
        GradCheck.Verify(x => x[0].Repeat(2, 1, 3), [T.Param(2, 3, 2)]);
        GradCheck.VerifySecondOrder(x => x[0].Repeat(2) * x[0].Repeat(2), [T.Param(3, 3)]);
    }
}
