using Backprop.Kernels.Elementwise;

namespace Backprop.Tests.Kernels.Elementwise;

/// <summary><see cref="StridedLayout.BroadcastStrides"/> on plain dims and strides, no tensors involved.</summary>
[Trait("Category", "Kernels")]
public class BroadcastStridesTests
{
    [Fact]
    public void MissingLeadingDimsAndSizeOneDims_GetStrideZero()
    {
        Span<int> strides = stackalloc int[3];
        // [4, 1] with strides [1, 7] (a transposed column) broadcast to [2, 4, 5].
        StridedLayout.BroadcastStrides([4, 1], [1, 7], [2, 4, 5], strides);
        Assert.Equal([0, 1, 0], strides.ToArray());
    }

    [Fact]
    public void SameShape_KeepsTheStrides()
    {
        Span<int> strides = stackalloc int[2];
        StridedLayout.BroadcastStrides([3, 5], [1, 3], [3, 5], strides);
        Assert.Equal([1, 3], strides.ToArray());
    }

    [Fact]
    public void ScalarOperand_IsZeroEverywhere()
    {
        Span<int> strides = stackalloc int[2];
        strides.Fill(-1);
        StridedLayout.BroadcastStrides([], [], [3, 5], strides);
        Assert.Equal([0, 0], strides.ToArray());
    }
}
