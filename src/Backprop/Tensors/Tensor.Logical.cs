using Backprop.Ops.Elementwise;
using Backprop.Ops.Reduce;

namespace Backprop.Tensors;

// Bool tensors: logical ops (any dtype in, nonzero is true, bool out), bitwise ops (bool or int64),
// any/all reductions, and typed element access. None of these is differentiable.
public sealed partial class Tensor
{
    /// <summary>True where both this and other are nonzero (broadcasting; any dtypes), as torch.logical_and.</summary>
    /// <exception cref="ArgumentException">Shapes cannot broadcast.</exception>
    public Tensor LogicalAnd(Tensor other) => Logical.And(this, other);

    /// <summary>True where this or other is nonzero, as torch.logical_or.</summary>
    /// <exception cref="ArgumentException">Shapes cannot broadcast.</exception>
    public Tensor LogicalOr(Tensor other) => Logical.Or(this, other);

    /// <summary>True where exactly one of this and other is nonzero, as torch.logical_xor.</summary>
    /// <exception cref="ArgumentException">Shapes cannot broadcast.</exception>
    public Tensor LogicalXor(Tensor other) => Logical.Xor(this, other);

    /// <summary>True where this is zero, as torch.logical_not; a bool tensor of this shape.</summary>
    public Tensor LogicalNot() => Logical.Not(this);

    /// <summary>Element-wise and of two bool tensors (logical) or int64 tensors (bitwise), as torch.bitwise_and and <c>&amp;</c>.</summary>
    /// <exception cref="ArgumentException">An operand is floating point, or shapes cannot broadcast.</exception>
    public Tensor BitwiseAnd(Tensor other) => Logical.Bitwise<Kernels.Elementwise.BitwiseAndOp<byte>, Kernels.Elementwise.BitwiseAndOp<long>>(this, other, "BitwiseAnd");

    /// <summary>Element-wise or of bool (logical) or int64 (bitwise) tensors, as torch.bitwise_or and <c>|</c>.</summary>
    /// <exception cref="ArgumentException">An operand is floating point, or shapes cannot broadcast.</exception>
    public Tensor BitwiseOr(Tensor other) => Logical.Bitwise<Kernels.Elementwise.BitwiseOrOp<byte>, Kernels.Elementwise.BitwiseOrOp<long>>(this, other, "BitwiseOr");

    /// <summary>Element-wise exclusive or of bool (logical) or int64 (bitwise) tensors, as torch.bitwise_xor and <c>^</c>.</summary>
    /// <exception cref="ArgumentException">An operand is floating point, or shapes cannot broadcast.</exception>
    public Tensor BitwiseXor(Tensor other) => Logical.Bitwise<Kernels.Elementwise.BitwiseXorOp<byte>, Kernels.Elementwise.BitwiseXorOp<long>>(this, other, "BitwiseXor");

    /// <summary>Logical not of a bool tensor, bitwise not (~x = −x − 1) of an int64 one, as torch.bitwise_not and <c>~</c>.</summary>
    /// <exception cref="ArgumentException">The tensor is floating point.</exception>
    public Tensor BitwiseNot() => Logical.BitwiseNot(this);

#pragma warning disable CS1591 // operators are documented by the named methods above
    public static Tensor operator &(Tensor a, Tensor b) => a.BitwiseAnd(b);
    public static Tensor operator |(Tensor a, Tensor b) => a.BitwiseOr(b);
    public static Tensor operator ^(Tensor a, Tensor b) => a.BitwiseXor(b);
    public static Tensor operator ~(Tensor a) => a.BitwiseNot();
    public static Tensor operator !(Tensor a) => a.LogicalNot();
#pragma warning restore CS1591

    /// <summary>Whether any element is nonzero (true for bool), as a 0-d bool tensor; false for an empty tensor.</summary>
    public Tensor Any() => AnyAll.Whole(this, all: false);

    /// <summary>Whether any element along <paramref name="dim"/> is nonzero, as a bool tensor (the dim dropped unless <paramref name="keepDim"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The dim is out of range.</exception>
    public Tensor Any(int dim, bool keepDim = false) => AnyAll.AlongDim(this, dim, keepDim, all: false);

    /// <summary>Whether every element is nonzero (true for bool), as a 0-d bool tensor; true for an empty tensor.</summary>
    public Tensor All() => AnyAll.Whole(this, all: true);

    /// <summary>Whether every element along <paramref name="dim"/> is nonzero, as a bool tensor (the dim dropped unless <paramref name="keepDim"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The dim is out of range.</exception>
    public Tensor All(int dim, bool keepDim = false) => AnyAll.AlongDim(this, dim, keepDim, all: true);

    /// <summary>The value of a one-element tensor in its own element type: <c>Item&lt;bool&gt;()</c>, <c>Item&lt;long&gt;()</c>, …</summary>
    /// <exception cref="InvalidOperationException">The tensor has more than one element, or T does not match the dtype.</exception>
    public T Item<T>() where T : unmanaged
    {
        if (Numel != 1)
            throw new InvalidOperationException($"Item: only a one-element tensor can be converted to a number, this one has shape {Shape}");
        CheckElementType<T>("Item");
        return Data<T>()[Offset];
    }
}
