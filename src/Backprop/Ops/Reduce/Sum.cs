using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Reduce;
using Backprop.Tensors;

namespace Backprop.Ops.Reduce;

/// <summary>Sum over all elements or over given dims, optionally keeping them as size 1.</summary>
internal sealed class SumNode(Tensor x, bool[] reduced, bool keepDim) : Node(x)
{
    private readonly Shape _inputShape = x.Shape;

    public static Tensor Forward(Tensor x, ReadOnlySpan<int> dims, bool keepDim)
    {
        if (x.DType == DType.Bool) x = x.To(DType.Int64); // a sum of bools counts the trues, in int64 as PyTorch
        bool[] reduced = ReduceDims.Mask(x.Shape, dims, "Sum");
        Shape keptShape = ReduceDims.KeptShape(x.Shape, reduced);
        var y = new Tensor(keptShape, x.DType);
        DTypeSwitch.Number(x.DType, new SumKernelCall(x, reduced, y));
        if (!keepDim) y = y.Strided(ReduceDims.DroppedShape(x.Shape, reduced), ReduceDims.DroppedShape(x.Shape, reduced).ContiguousStrides(), 0);
        if (GradMode.Records(x)) y.SetGradFn(new SumNode(x, reduced, keepDim));
        return y;
    }

    private readonly struct SumKernelCall(Tensor x, bool[] reduced, Tensor y) : INumberAction
    {
        public void Run<T>() where T : unmanaged, INumber<T>
        {
            // A contiguous run of reduced dims sums in place as [outer, reduce, inner];
            // anything else is permuted so the reduced dims come last.
            if (ReduceDims.TryBlock(x.Shape, reduced, out int outer, out int reduce, out int inner))
            {
                SumKernel.SumMiddle(x.Contiguous().ReadOnlyElements<T>(), outer, reduce, inner, y.Elements<T>());
                return;
            }
            int[] order = ReduceDims.KeptFirstOrder(reduced);
            Tensor permuted;
            using (GradMode.Disable()) permuted = x.Permute(order).Contiguous();
            int kept = y.Numel;
            SumKernel.SumMiddle(permuted.ReadOnlyElements<T>(), kept, kept == 0 ? 0 : x.Numel / Math.Max(kept, 1), 1, y.Elements<T>());
        }
    }

    // d(sum)/dx = 1 for every summed element: broadcast dy back over the reduced dims.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor g = keepDim ? dy : dy.Reshape(ReduceDims.KeptShape(_inputShape, reduced).ToArray());
        return [g.Expand(_inputShape.ToArray())];
    }
}

/// <summary>Shape bookkeeping shared by reductions.</summary>
internal static class ReduceDims
{
    /// <summary>Which dims are reduced; no dims means all.</summary>
    public static bool[] Mask(Shape shape, ReadOnlySpan<int> dims, string op)
    {
        var mask = new bool[shape.Rank];
        if (dims.Length == 0)
        {
            Array.Fill(mask, true);
            return mask;
        }
        foreach (int d in dims)
        {
            int n = shape.NormalizeDim(d, op);
            if (shape.Rank == 0) continue;
            if (mask[n]) throw new ArgumentException($"{op}: dimension {d} appears twice in the reduction dims for shape {shape}");
            mask[n] = true;
        }
        return mask;
    }

    /// <summary>The input shape with reduced dims set to 1.</summary>
    public static Shape KeptShape(Shape shape, bool[] reduced)
    {
        var dims = shape.ToArray();
        for (int d = 0; d < dims.Length; d++) if (reduced[d]) dims[d] = 1;
        return new Shape(dims);
    }

    /// <summary>The input shape without the reduced dims.</summary>
    public static Shape DroppedShape(Shape shape, bool[] reduced)
    {
        var dims = new List<int>();
        for (int d = 0; d < shape.Rank; d++) if (!reduced[d]) dims.Add(shape[d]);
        return new Shape([.. dims]);
    }

    /// <summary>Number of elements folded into each output element.</summary>
    public static int ReducedCount(Shape shape, bool[] reduced)
    {
        int n = 1;
        for (int d = 0; d < shape.Rank; d++) if (reduced[d]) n *= shape[d];
        return n;
    }

    /// <summary>True when the reduced dims (ignoring size-1 ones) are adjacent: then the input is [outer, reduce, inner].</summary>
    public static bool TryBlock(Shape shape, bool[] reduced, out int outer, out int reduce, out int inner)
    {
        int first = -1, last = -1;
        for (int d = 0; d < shape.Rank; d++)
        {
            if (!reduced[d] || shape[d] == 1) continue;
            if (first < 0) first = d;
            last = d;
        }
        outer = 1; reduce = 1; inner = 1;
        if (first < 0)
        {
            outer = shape.Numel;
            return true;
        }
        for (int d = first; d <= last; d++)
            if (!reduced[d] && shape[d] != 1) return false;
        for (int d = 0; d < first; d++) outer *= shape[d];
        for (int d = first; d <= last; d++) reduce *= shape[d];
        for (int d = last + 1; d < shape.Rank; d++) inner *= shape[d];
        return true;
    }

    /// <summary>A permutation putting kept dims first, reduced dims last (each group in order).</summary>
    public static int[] KeptFirstOrder(bool[] reduced)
    {
        var order = new List<int>();
        for (int d = 0; d < reduced.Length; d++) if (!reduced[d]) order.Add(d);
        for (int d = 0; d < reduced.Length; d++) if (reduced[d]) order.Add(d);
        return [.. order];
    }
}
