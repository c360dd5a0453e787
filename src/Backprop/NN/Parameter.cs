using Backprop.Tensors;

namespace Backprop.NN;

/// <summary>
/// A trainable tensor owned by a module: a float leaf that requires grad. Optimizers update
/// <see cref="Data"/> in place, so references held elsewhere stay valid. <see cref="Module.To"/> keeps the
/// parameter object and gives it a new <see cref="Data"/> tensor of the new dtype (PyTorch's <c>param.data = …</c>).
/// </summary>
public sealed class Parameter
{
    /// <summary>Wraps a tensor as a parameter (it becomes a leaf that requires grad).</summary>
    /// <exception cref="ArgumentException">The tensor is not floating point or not a leaf.</exception>
    public Parameter(Tensor data)
    {
        if (!data.DType.IsFloatingPoint())
            throw new ArgumentException($"Parameter: parameters must be floating point, got {data.DType.Name()} (shape {data.Shape})");
        if (!data.IsLeaf)
            throw new ArgumentException($"Parameter: expected a leaf tensor, got the output of {data.GradFn!.Name}; pass tensor.Detach()");
        Data = Memory.Ownership.Escape(data.IsContiguous ? data : data.Contiguous()); // outlives any TensorScope
        Data.RequiresGrad = true;
    }

    /// <summary>The values (a leaf tensor that requires grad); replaced by <see cref="Module.To"/> when the dtype changes.</summary>
    public Tensor Data { get; private set; }

    /// <summary>
    /// Replaces <see cref="Data"/> (and a gradient) by copies converted to <paramref name="dtype"/>, keeping this
    /// object and whether it requires grad; nothing happens if the dtype already matches.
    /// </summary>
    internal void ConvertTo(DType dtype)
    {
        if (Data.DType == dtype) return;
        Tensor old = Data;
        Tensor data;
        Tensor? grad;
        using (Autograd.GradMode.Disable())
        {
            data = old.To(dtype).Contiguous();
            grad = old.Grad?.To(dtype).Contiguous();
        }
        Data = Memory.Ownership.Escape(data);
        Data.RequiresGrad = old.RequiresGrad;
        Data.Grad = grad;
    }

    /// <summary>Gradient accumulated by backward, or null.</summary>
    public Tensor? Grad
    {
        get => Data.Grad;
        set => Data.Grad = value;
    }

    /// <summary>Shape of the values.</summary>
    public Shape Shape => Data.Shape;

    /// <summary>Number of values.</summary>
    public int Numel => Data.Numel;

    /// <summary>Element type.</summary>
    public DType DType => Data.DType;

    /// <summary>Uses the parameter wherever a tensor is expected.</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(p))]
    public static implicit operator Tensor?(Parameter? p) => p?.Data;

    /// <inheritdoc/>
    public override string ToString() => "Parameter " + Data;
}
