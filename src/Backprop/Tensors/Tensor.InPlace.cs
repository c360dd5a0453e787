using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Ops.Elementwise;
using Backprop.Ops.View;

namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>this += alpha · other (other broadcasts to this shape). Not recorded by autograd.</summary>
    /// <exception cref="InvalidOperationException">This tensor requires grad and grad mode is on.</exception>
    public Tensor AddInPlace(Tensor other, double alpha = 1)
    {
        CheckInPlace("AddInPlace");
        CheckSameDType(this, other, "AddInPlace");
        CheckWritable("AddInPlace");
        using (GradMode.Disable())
        {
            Tensor addend = alpha == 1 ? other : other * Scalar(alpha, DType); // stays in this dtype (int64: alpha truncated)
            if (ReadsOtherPositionsOfThis(addend)) addend = addend.Clone(); // x += x.T(): read all of x before writing any
            if (!Shape.TryBroadcast(Shape, addend.Shape, out Shape b) || b != Shape)
                throw new ArgumentException($"AddInPlace: cannot add shape {other.Shape} into shape {Shape}");
            if (IsContiguous)
                DTypeSwitch.Number(DType, new AddInto(this, addend));
            else
                WriteFrom(this + addend);
        }
        BumpVersion();
        return this;
    }

    /// <summary>this *= factor. Not recorded by autograd.</summary>
    public Tensor MulInPlace(double factor)
    {
        CheckInPlace("MulInPlace");
        CheckWritable("MulInPlace");
        Tensor product;
        using (GradMode.Disable()) product = this * Scalar(factor, DType); // stays in this dtype (int64: factor truncated)
        WriteFrom(product);
        BumpVersion();
        return this;
    }

    /// <summary>Sets every element to <paramref name="value"/>. Not recorded by autograd.</summary>
    public Tensor FillInPlace(double value)
    {
        CheckInPlace("FillInPlace");
        CheckWritable("FillInPlace");
        WriteFrom(Full(Shape.Scalar, value, DType));
        BumpVersion();
        return this;
    }

    /// <summary>Sets every element to zero.</summary>
    public Tensor ZeroInPlace() => FillInPlace(0);

    /// <summary>Copies <paramref name="source"/> (broadcast to this shape) into this tensor's elements.</summary>
    public Tensor CopyFrom(Tensor source)
    {
        CheckInPlace("CopyFrom");
        CheckSameDType(this, source, "CopyFrom");
        CheckWritable("CopyFrom");
        if (!Shape.TryBroadcast(Shape, source.Shape, out Shape b) || b != Shape)
            throw new ArgumentException($"CopyFrom: cannot copy shape {source.Shape} into shape {Shape}");
        WriteFrom(source);
        BumpVersion();
        return this;
    }

    /// <summary>
    /// True when <paramref name="source"/> views this tensor's storage other than element for element,
    /// so writing this tensor while reading the source could read already-overwritten values.
    /// </summary>
    private bool ReadsOtherPositionsOfThis(Tensor source)
        => ReferenceEquals(source.Storage, Storage)
           && !(source.Offset == Offset && source.Shape == Shape && source.Strides.SequenceEqual(Strides));

    /// <summary>Refuses in-place writes through a tensor in which several elements share one memory location (an expanded view).</summary>
    private void CheckWritable(string op)
    {
        if (HasOverlap())
            throw new InvalidOperationException(
                $"{op}: cannot write in place into a tensor of shape {Shape} with strides [{string.Join(", ", Strides.ToArray())}]: " +
                "several of its elements share one memory location (it is an expanded view); call Contiguous() or Clone() first");
    }

    /// <summary>y += addend in y's own (contiguous) storage.</summary>
    private readonly struct AddInto(Tensor y, Tensor addend) : INumberAction
    {
        public void Run<T>() where T : unmanaged, INumber<T> => ElementwiseDispatch.Run<T, AddOp<T>>(y, addend, y);
    }

    /// <summary>Writes values (broadcast to this shape) into this tensor's positions in storage.</summary>
    private void WriteFrom(Tensor source)
    {
        Tensor packed;
        using (GradMode.Disable())
        {
            packed = (source.Shape == Shape ? source : source.Expand(Shape.ToArray())).Contiguous();
            if (ReadsOtherPositionsOfThis(packed)) packed = packed.Clone(); // overlapping slices of one storage
        }
        if (ReferenceEquals(packed.Storage, Storage) && packed.Offset == Offset && IsContiguous) return;
        StridedCopy.Scatter(packed, this, Offset, Strides, Shape.Dims);
    }
}
