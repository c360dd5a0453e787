using Backprop.Tensors;

namespace Backprop.NN;

/// <summary>One module call in a <see cref="ModelSummary"/>, in the order the calls began.</summary>
/// <param name="Name">The module's dotted name in the model ("" for the model itself, "blocks.0.attn", …).</param>
/// <param name="Type">The module's class name.</param>
/// <param name="Depth">0 for the model, 1 for its children, ….</param>
/// <param name="OutputShape">The shape the call returned.</param>
/// <param name="Parameters">Values of the parameters registered on this module itself (not its children); 0 for a second call of the same module.</param>
/// <param name="MultiplyAdds">Multiply-adds of this call outside its hooked children (see <see cref="ModelSummary"/> for what is counted).</param>
/// <param name="Repeated">True when the module was already called earlier in the same forward (its parameters are counted once).</param>
public sealed record ModelSummaryRow(string Name, string Type, int Depth, Shape OutputShape, long Parameters, long MultiplyAdds, bool Repeated);
