using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Ops.View;

/// <summary>
/// Reshape and View: a view whenever the input's strides allow one (as PyTorch: contiguous inputs, and
/// also non-contiguous ones whose regrouped dimensions are each laid out contiguously, such as a
/// column slice [B, T, 128] of a [B, T, 384] tensor viewed as [B, T, 4, 32]); otherwise Reshape copies
/// and View refuses.
/// </summary>
internal sealed class ReshapeNode(Tensor x) : Node(x)
{
    private readonly Shape _inputShape = x.Shape;

    public static Tensor Forward(Tensor x, ReadOnlySpan<int> sizes, string op, bool mustView = false)
    {
        Shape shape = InferShape(x.Shape, sizes, op);
        Tensor y;
        if (ViewStrides(x.Shape, x.Strides, shape) is { } strides)
            y = x.Strided(shape, strides, x.Offset);
        else if (mustView)
            throw new InvalidOperationException($"{op}: a tensor of shape {x.Shape} with strides [{string.Join(", ", x.Strides.ToArray())}] cannot be viewed as {shape} without copying; use Reshape (copies) or Contiguous() first");
        else
        {
            Tensor source = x.Detach().Contiguous();
            y = source.Strided(shape, shape.ContiguousStrides(), source.Offset);
        }
        if (GradMode.Records(x)) y.SetGradFn(new ReshapeNode(x));
        return y;
    }

    /// <summary>
    /// Strides that show the elements of a tensor (<paramref name="shape"/>, <paramref name="strides"/>)
    /// in <paramref name="target"/> shape without moving them, or null when none exist. The input's
    /// dimensions fall into chunks that are each contiguous in memory; every chunk must be split or
    /// merged into whole target dimensions.
    /// </summary>
    internal static int[]? ViewStrides(Shape shape, ReadOnlySpan<int> strides, Shape target)
    {
        int rank = shape.Rank, targetRank = target.Rank;
        var result = new int[targetRank];
        if (rank == 0 || shape.Numel == 0)
            return target.ContiguousStrides().ToArray();
        int t = targetRank - 1;
        long chunkStride = strides[rank - 1], chunkElements = 1, viewElements = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            chunkElements *= shape[d];
            bool chunkEnds = d == 0 || (shape[d - 1] != 1 && strides[d - 1] != chunkElements * chunkStride);
            if (!chunkEnds) continue;
            while (t >= 0 && (viewElements < chunkElements || target[t] == 1))
            {
                result[t] = (int)(viewElements * chunkStride);
                viewElements *= target[t];
                t--;
            }
            if (viewElements != chunkElements) return null;
            if (d > 0) (chunkStride, chunkElements, viewElements) = (strides[d - 1], 1, 1);
        }
        return t == -1 ? result : null;
    }

    /// <summary>Resolves one −1 entry and checks the element count.</summary>
    public static Shape InferShape(Shape input, ReadOnlySpan<int> sizes, string op)
    {
        int[] dims = sizes.ToArray();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"{op}: only one dimension can be -1, got [{string.Join(", ", dims)}]");
                infer = i;
            }
            else if (dims[i] < 0) throw new ArgumentException($"{op}: invalid size {dims[i]} in [{string.Join(", ", dims)}]");
            else known *= dims[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || input.Numel % known != 0)
                throw new ArgumentException($"{op}: cannot reshape a tensor of shape {input} ({input.Numel} elements) into [{string.Join(", ", dims)}]");
            dims[infer] = (int)(input.Numel / known);
        }
        else if (known != input.Numel)
            throw new ArgumentException($"{op}: cannot reshape a tensor of shape {input} ({input.Numel} elements) into [{string.Join(", ", dims)}] ({known} elements)");
        return new Shape(dims);
    }

    // Reshape only moves elements' indices: the gradient is reshaped back.
    protected internal override Tensor?[] Backward(Tensor dy) => [dy.Reshape(_inputShape.ToArray())];
}

/// <summary>Expand: broadcast size-1 dims to larger sizes as a stride-0 view (no copy).</summary>
internal sealed class ExpandNode(Tensor x) : Node(x)
{
    private readonly Shape _inputShape = x.Shape;

    public static Tensor Forward(Tensor x, ReadOnlySpan<int> sizes)
    {
        if (sizes.Length < x.Rank)
            throw new ArgumentException($"Expand: target [{string.Join(", ", sizes.ToArray())}] has fewer dimensions than the input shape {x.Shape}");
        var dims = new int[sizes.Length];
        var strides = new int[sizes.Length];
        int shift = sizes.Length - x.Rank;
        for (int d = 0; d < sizes.Length; d++)
        {
            int sd = d - shift;
            int inSize = sd >= 0 ? x.Shape[sd] : 1;
            int want = sizes[d] == -1 && sd >= 0 ? inSize : sizes[d];
            if (want < 0 || (inSize != 1 && want != inSize))
                throw new ArgumentException($"Expand: cannot expand shape {x.Shape} to [{string.Join(", ", sizes.ToArray())}]: dimension {d} has size {inSize}, which is not 1");
            dims[d] = want;
            strides[d] = sd >= 0 && inSize == want ? x.Strides[sd] : 0;
        }
        Tensor y = x.Strided(new Shape(dims), strides, x.Offset);
        if (GradMode.Records(x)) y.SetGradFn(new ExpandNode(x));
        return y;
    }

    // Each input element fed every copy of itself: sum the copies' gradients.
    protected internal override Tensor?[] Backward(Tensor dy) => [dy.SumToShape(_inputShape)];
}

/// <summary>Contiguous copy (Clone, Contiguous): identity gradient.</summary>
internal sealed class CloneNode(Tensor x) : Node(x)
{
    public static Tensor Forward(Tensor x)
    {
        var y = new Tensor(x.Shape, x.DType);
        StridedCopy.Pack(x, y);
        if (GradMode.Records(x)) y.SetGradFn(new CloneNode(x));
        return y;
    }

    // A copy passes the gradient through unchanged.
    protected internal override Tensor?[] Backward(Tensor dy) => [dy];
}

/// <summary>Conversion between dtypes (bool included); gradients flow between float types only.</summary>
internal sealed class CastNode(Tensor x) : Node(x)
{
    private readonly DType _inputDType = x.DType;

    public static Tensor Forward(Tensor x, DType dtype)
    {
        if (x.DType == dtype) return x;
        var y = Tensor.Uninitialized(x.Shape, dtype); // Cast writes every element
        Ops.Elementwise.Cast.Into(x, y); // floats to int64 truncate toward zero, as PyTorch; to bool: nonzero
        if (dtype.IsFloatingPoint() && GradMode.Records(x)) y.SetGradFn(new CastNode(x));
        return y;
    }

    // Identity, converted back to the input's precision.
    protected internal override Tensor?[] Backward(Tensor dy) => [dy.To(_inputDType)];
}
