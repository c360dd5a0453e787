using Backprop.Ops.View;

namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>Same elements in a new shape (one size may be −1); a view when the strides allow one (always for a contiguous tensor), a copy otherwise.</summary>
    /// <exception cref="ArgumentException">The element counts differ.</exception>
    public Tensor Reshape(params int[] shape) => ReshapeNode.Forward(this, shape, "Reshape");

    /// <summary>Same elements in a new shape, always without copying (PyTorch's view rule: each group of dimensions merged or split must be contiguous in memory).</summary>
    /// <exception cref="InvalidOperationException">The strides allow no such view (use Reshape).</exception>
    public Tensor View(params int[] shape) => ReshapeNode.Forward(this, shape, "View", mustView: true);

    /// <summary>Broadcasts size-1 dimensions to the given sizes without copying (−1 keeps a size).</summary>
    public Tensor Expand(params int[] shape) => ExpandNode.Forward(this, shape);

    /// <summary>Broadcasts to <paramref name="shape"/> without copying.</summary>
    public Tensor BroadcastTo(Shape shape) => ExpandNode.Forward(this, shape.Dims);

    /// <summary>This tensor if already contiguous, else a contiguous copy.</summary>
    public Tensor Contiguous() => IsContiguous ? this : CloneNode.Forward(this);

    /// <summary>A contiguous copy with its own storage (differentiable).</summary>
    public Tensor Clone() => CloneNode.Forward(this);

    /// <summary>Converts to another dtype (differentiable between float32 and float64).</summary>
    public Tensor To(DType dtype) => CastNode.Forward(this, dtype);

    /// <summary>[d0, d1, ...] → [d0 * d1 * ...]; or flattens dims startDim..endDim.</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        if (Rank == 0) return Reshape(1);
        int s = Shape.NormalizeDim(startDim, "Flatten"), e = Shape.NormalizeDim(endDim, "Flatten");
        if (s > e) throw new ArgumentException($"Flatten: startDim {startDim} comes after endDim {endDim} for shape {Shape}");
        var dims = new List<int>();
        for (int d = 0; d < s; d++) dims.Add(Shape[d]);
        int merged = 1;
        for (int d = s; d <= e; d++) merged *= Shape[d];
        dims.Add(merged);
        for (int d = e + 1; d < Rank; d++) dims.Add(Shape[d]);
        return Reshape([.. dims]);
    }
}
