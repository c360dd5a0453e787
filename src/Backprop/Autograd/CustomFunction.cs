using Backprop.Tensors;

namespace Backprop.Autograd;

/// <summary>
/// A user-defined differentiable function: write the forward with any tensor code (it runs
/// without recording) and the backward that maps the output gradient to input gradients.
/// </summary>
/// <example>
/// The straight-through estimator: round in the forward pass, identity gradient in the backward pass.
/// <code>
/// sealed class RoundSte : CustomFunction
/// {
///     protected override Tensor Forward(FunctionContext ctx, Tensor[] x) => x[0].Round();
///     protected override Tensor?[] Backward(FunctionContext ctx, Tensor dy) => [dy];
/// }
/// Tensor y = new RoundSte().Apply(x);
/// </code>
/// </example>
public abstract class CustomFunction
{
    /// <summary>Runs the forward pass and, if any input requires grad, records this function in the graph.</summary>
    public Tensor Apply(params Tensor[] inputs)
    {
        var needs = new bool[inputs.Length];
        bool any = false;
        for (int i = 0; i < inputs.Length; i++)
            any |= needs[i] = GradMode.Records(inputs[i]);
        var ctx = new FunctionContext(needs);
        Tensor output;
        using (GradMode.Disable())
            output = Forward(ctx, inputs);
        if (!any) return output;
        // A fresh tensor object, so that returning an input unchanged never rewires that input.
        Tensor result = output.Detach();
        result.SetGradFn(new CustomFunctionNode(this, ctx, inputs));
        return result;
    }

    /// <summary>The forward computation. Runs with grad mode off.</summary>
    protected abstract Tensor Forward(FunctionContext ctx, Tensor[] inputs);

    /// <summary>Gradient of each input given the output gradient <paramref name="dy"/>; null where not needed.</summary>
    protected abstract Tensor?[] Backward(FunctionContext ctx, Tensor dy);

    internal Tensor?[] RunBackward(FunctionContext ctx, Tensor dy) => Backward(ctx, dy);

    /// <summary>Name shown in the graph.</summary>
    public virtual string Name => GetType().Name + "Backward";

    private sealed class CustomFunctionNode : Node
    {
        internal override bool MayRetainGradients => true;

        private readonly CustomFunction _function;
        private readonly FunctionContext _ctx;

        public CustomFunctionNode(CustomFunction function, FunctionContext ctx, Tensor[] inputs) : base(inputs)
        {
            _function = function;
            _ctx = ctx;
            foreach (Tensor t in ctx.ToSave) ctx.Saved.Add(Save(t));
            ctx.ToSave.Clear();
        }

        public override string Name => _function.Name;

        protected internal override Tensor?[] Backward(Tensor dy) => _function.RunBackward(_ctx, dy);
    }
}

/// <summary>Per-call state shared between a custom function's forward and backward.</summary>
public sealed class FunctionContext
{
    private readonly bool[] _needsInputGrad;

    internal FunctionContext(bool[] needsInputGrad) => _needsInputGrad = needsInputGrad;

    internal List<Tensor> ToSave { get; } = [];

    internal List<SavedTensor> Saved { get; } = [];

    /// <summary>Keeps tensors for the backward pass (checked against later in-place changes).</summary>
    public void SaveForBackward(params Tensor[] tensors) => ToSave.AddRange(tensors);

    /// <summary>The tensors passed to <see cref="SaveForBackward"/>, in order.</summary>
    public Tensor[] SavedTensors
    {
        get
        {
            var result = new Tensor[Saved.Count];
            for (int i = 0; i < result.Length; i++) result[i] = Saved[i].Value;
            return result;
        }
    }

    /// <summary>Whether input <paramref name="index"/> needs a gradient.</summary>
    public bool NeedsInputGrad(int index) => _needsInputGrad[index];

    /// <summary>Any non-tensor values the backward needs (sizes, flags).</summary>
    public object? State { get; set; }
}
