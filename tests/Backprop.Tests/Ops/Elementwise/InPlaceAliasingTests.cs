using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Elementwise;

/// <summary>In-place writes whose source overlaps the destination read every source value before writing.</summary>
public class InPlaceAliasingTests
{
    [Fact]
    public void AddInPlace_OfItsOwnTranspose_GivesTheRightAnswer()
    {
        Tensor x = T.F64([1, 2, 3, 4], 2, 2);
        x.AddInPlace(x.T());
        T.Close([2, 5, 5, 8], x, 0);
    }

    [Fact]
    public void AddInPlace_OfABroadcastRowOfItself_UsesTheOriginalRow()
    {
        Tensor x = T.F64([1, 2, 3, 4, 5, 6], 3, 2);
        x.AddInPlace(x.Narrow(0, 0, 1), alpha: 1); // every row += the original first row
        T.Close([2, 4, 4, 6, 6, 8], x, 0);
    }

    [Fact]
    public void CopyFrom_AnOverlappingShiftedSliceOfItself_CopiesTheOriginalValues()
    {
        Tensor x = T.F64([1, 2, 3, 4, 5], 5);
        x.Narrow(0, 1, 4).CopyFrom(x.Narrow(0, 0, 4)); // PyTorch would refuse; we copy as if from a snapshot
        T.Close([1, 1, 2, 3, 4], x, 0);
        Tensor y = T.F64([1, 2, 3, 4], 2, 2);
        y.CopyFrom(y.T());
        T.Close([1, 3, 2, 4], y, 0);
    }

    [Fact]
    public void AddInPlace_OfItself_DoublesIt()
    {
        Tensor x = T.F64([1, 2, 3, 4], 2, 2);
        x.AddInPlace(x);
        T.Close([2, 4, 6, 8], x, 0);
    }

    [Fact]
    public void InPlaceWrite_IntoAnExpandedView_IsRefusedWithTheShapeAndStrides()
    {
        Tensor row = T.F64([1, 2], 1, 2);
        Tensor expanded = row.Expand(3, 2);
        var e = Assert.Throws<InvalidOperationException>(() => expanded.AddInPlace(T.F64([1, 1, 1, 1, 1, 1], 3, 2)));
        Assert.Contains("AddInPlace", e.Message);
        Assert.Contains("[3, 2]", e.Message);
        Assert.Contains("[0, 1]", e.Message);
        Assert.Throws<InvalidOperationException>(() => expanded.FillInPlace(0));
        T.Close([1, 2], row, 0);
    }
}
