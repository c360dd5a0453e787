using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.NN;

public abstract partial class Module
{
    /// <summary>
    /// Converts every floating-point parameter and buffer of this module and its descendants to
    /// <paramref name="dtype"/> in place, as PyTorch's <c>module.to(dtype)</c>: each <see cref="Parameter"/> stays
    /// the same object (references held by layers and optimizers stay valid) and gets a converted
    /// <see cref="Parameter.Data"/> and gradient; buffers are replaced by converted copies, and fields of the
    /// modules that held the old buffer tensors (such as <c>BatchNorm.RunningMean</c>) are pointed at the new ones.
    /// Integer buffers (<c>num_batches_tracked</c>) keep their dtype. Returns this module.
    /// </summary>
    /// <remarks>
    /// Build the optimizer after <c>To</c>, as PyTorch advises. An optimizer built before still updates the
    /// same parameters; the state it already holds (momentum, Adam's moments) is converted on its next step,
    /// so float32 state continues exactly in float64. Hooks registered on a parameter's old
    /// <see cref="Parameter.Data"/> tensor (<see cref="Tensor.RegisterHook"/>) stay with that tensor: register them
    /// after <c>To</c>. Modules held in <see cref="NotAMemberAttribute"/> fields are converted too.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="dtype"/> is not floating point (PyTorch refuses those too).</exception>
    public Module To(DType dtype)
    {
        if (!dtype.IsFloatingPoint())
            throw new ArgumentException($"Module.To: only floating-point dtypes can be converted to, got {dtype.Name()} ({GetType().Name}'s integer buffers keep their dtype)", nameof(dtype));
        var modules = new List<Module>();
        CollectForConversion(this, new HashSet<Module>(ReferenceEqualityComparer.Instance), modules);
        var parameters = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        var buffers = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance); // old → converted
        foreach (Module m in modules)
        {
            foreach (var (_, p) in m._parameters)
                if (p is not null && p.DType.IsFloatingPoint() && parameters.Add(p)) p.ConvertTo(dtype);
            for (int i = 0; i < m._buffers.Count; i++)
            {
                var (name, b) = m._buffers[i];
                if (b is null || !b.DType.IsFloatingPoint() || b.DType == dtype) continue;
                if (!buffers.TryGetValue(b, out Tensor? converted))
                {
                    using (GradMode.Disable()) converted = b.To(dtype).Contiguous();
                    buffers[b] = converted = Memory.Ownership.Escape(converted);
                }
                m._buffers[i] = new(name, converted);
            }
        }
        if (buffers.Count > 0)
            foreach (Module m in modules) m.RebindTensorFields(buffers);
        return this;
    }

    /// <summary>The module tree below <paramref name="m"/>, plus modules held in fields marked <see cref="NotAMemberAttribute"/>.</summary>
    private static void CollectForConversion(Module m, HashSet<Module> visited, List<Module> modules)
    {
        if (!visited.Add(m)) return;
        m.DiscoverMembers();
        modules.Add(m);
        foreach (var (_, child) in m._modules) CollectForConversion(child, visited, modules);
        foreach (var field in (m._members ??= ModuleMembers.For(m.GetType())).UnownedModuleFields)
            if (field.GetValue(m) is Module other) CollectForConversion(other, visited, modules);
    }

    /// <summary>Points this module's <see cref="Tensor"/> fields that held a converted buffer at its conversion.</summary>
    private void RebindTensorFields(Dictionary<Tensor, Tensor> converted)
    {
        foreach (var field in (_members ??= ModuleMembers.For(GetType())).TensorFields)
            if (field.GetValue(this) is Tensor old && converted.TryGetValue(old, out Tensor? now))
                field.SetValue(this, now);
    }
}
