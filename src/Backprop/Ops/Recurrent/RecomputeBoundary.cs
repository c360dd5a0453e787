using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Ops.Recurrent;

/// <summary>
/// An identity (an alias of x) for recomputing part of a graph inside a backward that is itself being
/// recorded: while <see cref="Cut"/> is set, its backward returns nothing, so a backward run from the
/// recomputed outputs stops here and captures the gradient of the alias (nothing upstream of x runs or
/// is freed); once cleared, it passes gradients to x like any identity, so the recorded gradients
/// remain functions of x for the next order of differentiation.
/// </summary>
internal sealed class RecomputeBoundaryNode : Node
{
    private RecomputeBoundaryNode(Tensor x) : base(x) { }

    /// <summary>While true, the backward does not continue past this node.</summary>
    internal bool Cut { get; set; } = true;

    /// <summary>An alias of <paramref name="x"/> (same storage and layout) recorded through a new boundary, which starts cut.</summary>
    public static (Tensor Alias, RecomputeBoundaryNode Node) Forward(Tensor x)
    {
        Tensor alias = x.Detach();
        var node = new RecomputeBoundaryNode(x);
        alias.SetGradFn(node);
        return (alias, node);
    }

    // d(x)/dx = 1.
    protected internal override Tensor?[] Backward(Tensor dy) => [Cut ? null : dy];
}
