using Backprop.Autograd;
using Backprop.Memory;
using Backprop.Tensors;

namespace Backprop.Training;

/// <summary>Storage for state a model carries across training steps (<see cref="IStatefulModel"/>).</summary>
public static class StateBuffer
{
    /// <summary>
    /// Copies the values of <paramref name="state"/>, without its graph, into <paramref name="buffer"/> and
    /// returns the buffer; a new buffer is made when <paramref name="buffer"/> is null or of another shape or
    /// dtype. The buffer belongs to no <see cref="TensorScope"/> (it lives as long as the model holds it), so a
    /// steady loop allocates nothing here.
    /// </summary>
    public static Tensor Carry(Tensor? buffer, Tensor state)
    {
        ArgumentNullException.ThrowIfNull(state);
        using (GradMode.Disable())
        {
            if (buffer is null || buffer.Shape != state.Shape || buffer.DType != state.DType)
                buffer = Tensor.Zeros(state.Shape, state.DType);
            Ownership.Escape(buffer);
            buffer.CopyFrom(state);
        }
        return buffer;
    }
}
