using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Ops.Elementwise;
using Backprop.Ops.Reduce;
using Backprop.Tensors;

namespace Backprop.Ops.View;

/// <summary>
/// Rotates elements along dims (torch.roll): element i moves to (i + shift) mod size; elements pushed off the end
/// come back at the start. Without dims the tensor is rolled as if flattened and keeps its shape. Always a copy.
/// </summary>
internal sealed class RollNode(Tensor x, int[] shifts, int[] dims) : Node(x)
{
    /// <summary>Rolls by <paramref name="shifts"/>[i] along <paramref name="dims"/>[i]; empty dims with one shift rolls the flattened tensor.</summary>
    public static Tensor Forward(Tensor x, ReadOnlySpan<int> shifts, ReadOnlySpan<int> dims)
    {
        const string op = "Roll"; // every dtype, bool too: elements only move
        if (dims.Length == 0 && shifts.Length != 1)
            throw new ArgumentException($"{op}: without dims the tensor is rolled flattened and takes exactly one shift, got {shifts.Length} shifts [{string.Join(", ", shifts.ToArray())}] (shape {x.Shape})");
        if (dims.Length != 0 && shifts.Length != dims.Length)
            throw new ArgumentException($"{op}: shifts and dims must align, got {shifts.Length} shifts [{string.Join(", ", shifts.ToArray())}] and {dims.Length} dims [{string.Join(", ", dims.ToArray())}] (shape {x.Shape})");
        var normalized = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++) normalized[i] = x.Shape.NormalizeDim(dims[i], op);

        Tensor y = ElementwiseMap.Packed(x);
        if (dims.Length == 0)
            y = RollOnce(y, 1, x.Numel, 1, shifts[0]);
        else
            for (int i = 0; i < normalized.Length; i++)
            {
                ReduceLayout.AroundDim(x.Shape, normalized[i], out int outer, out int n, out int inner);
                y = RollOnce(y, outer, n, inner, shifts[i]);
            }
        if (ReferenceEquals(y, x) || ReferenceEquals(y.Storage, x.Storage)) y = x.Detach().Clone(); // nothing moved: still a copy
        if (GradMode.Records(x)) y.SetGradFn(new RollNode(x, shifts.ToArray(), normalized));
        return y;
    }

    /// <summary>One roll of a contiguous [outer, n, inner] tensor into a new tensor (or the same one when nothing moves).</summary>
    private static Tensor RollOnce(Tensor x, int outer, int n, int inner, int shift)
    {
        if (n == 0 || x.Numel == 0) return x;
        int s = (int)(((long)shift % n + n) % n);
        if (s == 0) return x;
        var y = Tensor.Uninitialized(x.Shape, x.DType); // the kernel writes every element
        DTypeSwitch.Element(x.DType, new Kernel(x, outer, n, inner, s, y));
        return y;
    }

    // A permutation of the elements: rolling dy back by the negated shifts returns each gradient to its element.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        var back = new int[shifts.Length];
        for (int i = 0; i < back.Length; i++)
        {
            int n = dims.Length == 0 || dy.Rank == 0 ? dy.Numel : dy.Shape[dims[i]];
            back[i] = n == 0 ? 0 : (int)(-((long)shifts[i] % n)); // reduced first, so int.MinValue negates too
        }
        return [Forward(dy, back, dims)];
    }

    private readonly struct Kernel(Tensor x, int outer, int n, int inner, int shift, Tensor y) : IElementAction
    {
        public void Run<T>() where T : unmanaged
            => FlipRollKernels.Roll(x.ReadOnlyElements<T>(), outer, n, inner, shift, y.Elements<T>());
    }
}
