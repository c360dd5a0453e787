using System.Runtime.InteropServices;
using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>
/// Logical and bitwise ops. Logical ones take any dtype (nonzero is true) and return bool; bitwise
/// ones take bool (where they are the logical ones) or int64, as PyTorch's <c>&amp;</c>, <c>|</c>, <c>^</c>, <c>~</c>.
/// None is differentiable. Bool tensors are computed as their bytes 0/1.
/// </summary>
internal static class Logical
{
    public static Tensor And(Tensor a, Tensor b) => Bitwise<BitwiseAndOp<byte>, BitwiseAndOp<long>>(AsBool(a), AsBool(b), "LogicalAnd");

    public static Tensor Or(Tensor a, Tensor b) => Bitwise<BitwiseOrOp<byte>, BitwiseOrOp<long>>(AsBool(a), AsBool(b), "LogicalOr");

    public static Tensor Xor(Tensor a, Tensor b) => Bitwise<BitwiseXorOp<byte>, BitwiseXorOp<long>>(AsBool(a), AsBool(b), "LogicalXor");

    /// <summary>y = x == 0, as bool.</summary>
    public static Tensor Not(Tensor x)
    {
        Tensor b = AsBool(x);
        Tensor y = Tensor.Uninitialized(b.Shape, DType.Bool);
        Tensor c = ElementwiseMap.Packed(b);
        System.Numerics.Tensors.TensorPrimitives.Xor<byte>(Bytes(c), 1, Bytes(y));
        return y;
    }

    /// <summary>~x: logical not for bool, two's complement not for int64.</summary>
    public static Tensor BitwiseNot(Tensor x)
    {
        if (x.DType == DType.Bool) return Not(x);
        CheckBitwise(x, x, "BitwiseNot");
        Tensor c = ElementwiseMap.Packed(x);
        Tensor y = Tensor.Uninitialized(x.Shape, DType.Int64);
        System.Numerics.Tensors.TensorPrimitives.OnesComplement(c.ReadOnlyElements<long>(), y.Elements<long>());
        return y;
    }

    /// <summary>
    /// A bitwise op with broadcasting on two bool tensors (result bool) or on int64 and bool tensors
    /// (result int64). Floating-point operands are refused, as PyTorch.
    /// </summary>
    public static Tensor Bitwise<TB, TL>(Tensor a, Tensor b, string op)
        where TB : IBinaryOp<byte> where TL : IBinaryOp<long>
    {
        CheckBitwise(a, b, op);
        ElementwiseDispatch.Promote(ref a, ref b);
        Shape shape = a.Shape == b.Shape ? a.Shape : Shape.Broadcast(a.Shape, b.Shape, op);
        Tensor y = Tensor.Uninitialized(shape, a.DType); // every element is written below
        int rank = shape.Rank;
        Span<int> sa = stackalloc int[rank];
        Span<int> sb = stackalloc int[rank];
        ElementwiseDispatch.BroadcastStrides(a, shape, sa);
        ElementwiseDispatch.BroadcastStrides(b, shape, sb);
        if (a.DType == DType.Bool)
            BinaryKernel.Run<byte, TB>(StorageBytes(a), a.Offset, sa, StorageBytes(b), b.Offset, sb, Bytes(y), shape.Dims);
        else
            BinaryKernel.Run<long, TL>(a.Data<long>(), a.Offset, sa, b.Data<long>(), b.Offset, sb, y.Elements<long>(), shape.Dims);
        return y;
    }

    /// <summary>x itself when bool, else x ≠ 0 (NaN is true).</summary>
    public static Tensor AsBool(Tensor x) => x.DType == DType.Bool ? x : x.Detach().To(DType.Bool);

    /// <summary>The bytes 0/1 of a contiguous bool tensor.</summary>
    public static Span<byte> Bytes(Tensor t) => MemoryMarshal.Cast<bool, byte>(t.Elements<bool>());

    /// <summary>The bytes 0/1 of a bool tensor's whole storage (read it with the tensor's offset and strides).</summary>
    public static ReadOnlySpan<byte> StorageBytes(Tensor t) => MemoryMarshal.Cast<bool, byte>(t.Data<bool>().AsSpan());

    private static void CheckBitwise(Tensor a, Tensor b, string op)
    {
        if (a.DType.IsFloatingPoint() || b.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: bitwise ops need bool or int64 tensors, got {a.DType.Name()} {a.Shape} and {b.DType.Name()} {b.Shape} (as PyTorch); " +
                "for masks compare first (x.Gt(0)), or use LogicalAnd/LogicalOr/LogicalXor/LogicalNot, which take any dtype");
    }
}
