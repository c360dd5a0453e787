using Backprop.Memory;
using Backprop.Tensors;

namespace Backprop.Autograd;

/// <summary>
/// Gradient checkpointing: runs a function without keeping its intermediate activations, and computes
/// them again during backward when its gradients are needed, trading about one more forward of the
/// function for its activation memory. PyTorch's <c>torch.utils.checkpoint.checkpoint(fn, *inputs,
/// use_reentrant=False)</c>; named <c>GradientCheckpoint</c> because <c>Backprop.IO.Checkpoint</c> is the
/// checkpoint-file class. <see cref="NN.Layers.Checkpointed"/> wraps a module the same way.
/// </summary>
/// <example>
/// Two checkpointed transformer blocks: only their inputs are stored for backward.
/// <code>
/// Tensor h = GradientCheckpoint.Run(x => block1.Forward(x[0]), embedded);
/// h = GradientCheckpoint.Run(x => block2.Forward(x[0]), h);
/// Functional.CrossEntropy(head.Forward(h), targets).Backward(); // recomputes block2, then block1
/// </code>
/// </example>
/// <remarks>
/// <para><b>Forward.</b> With grad mode on, <c>fn</c> runs under <see cref="GradMode.Disable"/>, so it
/// records no graph and saves nothing; the output gets one node (<c>CheckpointBackward</c>) that keeps only
/// the inputs. Tensors <c>fn</c> makes other than its output are recycled when it returns (it runs in its
/// own <see cref="TensorScope"/>): do not keep them. With grad mode off, <c>fn</c> simply runs.</para>
/// <para><b>Backward.</b> The node runs <c>fn</c> again with grad mode on, on detached copies of the inputs
/// that require grad (the others are passed as they are), backpropagates the incoming gradient through
/// that recomputed graph and returns the inputs' gradients. Parameters and any other leaf tensors
/// <c>fn</c> uses without receiving them as inputs (a module's weights captured by the lambda) get their
/// gradients exactly as without checkpointing: accumulated into <see cref="Tensor.Grad"/> by
/// <c>Backward()</c>, returned by <see cref="Gradients.Grad(Tensor[], Tensor[], Tensor?[], bool?, bool, bool)"/>
/// when requested there (and left alone otherwise). The recomputed activations and their gradients are
/// recycled as soon as the node is done, so at most one checkpointed function's activations are alive at once.</para>
/// <para><b>Random ops.</b> The state of every generator <c>fn</c>'s random ops draw from (dropout, attention
/// dropout, <see cref="Tensor.Rand"/>, <see cref="Tensor.Randn"/>, … , with <see cref="Generator.Default"/>
/// for those given none) is recorded before its first draw and restored for the recompute, which therefore
/// draws the same masks; afterwards the generators continue where they were, as if the recompute had not
/// drawn. Draws made by calling a generator's <c>Next…</c> methods directly inside <c>fn</c> are not replayed.</para>
/// <para><b>Exactness.</b> Values and gradients are bit-identical to running <c>fn</c> plainly, provided
/// <c>fn</c> is deterministic given its inputs, its parameters and the replayed random state (parameters must
/// not change between the forward and the backward). The one difference in arithmetic: gradient
/// contributions reaching an input from inside <c>fn</c> are summed before those from outside it, which can
/// change the last bit when three or more contributions meet at a tensor used both inside and outside.</para>
/// <para><b>Differences from PyTorch and limits.</b> Under grad mode the output always requires grad, even
/// when nothing <c>fn</c> uses does (the parameters it uses are found only when it is recomputed); the
/// gradients are then simply none. A tensor that requires grad and is not a leaf (computed outside
/// <c>fn</c> from parameters) must be passed as an input, not captured: the backward says so if it is.
/// Double backward (<c>createGraph</c>) through a checkpoint is not supported and throws. Module state that
/// <c>fn</c> updates (batch norm running statistics) is updated by both runs, as in PyTorch.</para>
/// </remarks>
public static class GradientCheckpoint
{
    /// <summary>
    /// Runs <paramref name="fn"/> on <paramref name="inputs"/> without storing its activations; they are
    /// recomputed in backward (see the class remarks).
    /// </summary>
    /// <param name="fn">The function to checkpoint; called with the inputs (in the forward) and with copies of them (in the backward).</param>
    /// <param name="inputs">The tensors fn reads that gradients must flow back to (besides parameters, which fn may capture).</param>
    /// <returns>fn's output (a new tensor object over the same values).</returns>
    /// <exception cref="ArgumentNullException">fn, inputs or one of the inputs is null.</exception>
    /// <exception cref="InvalidOperationException">fn returned null.</exception>
    public static Tensor Run(Func<Tensor[], Tensor> fn, params Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(fn);
        ArgumentNullException.ThrowIfNull(inputs);
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is null)
                throw new ArgumentNullException(nameof(inputs), $"GradientCheckpoint.Run: input {i} of {inputs.Length} is null");
        if (!GradMode.IsEnabled)
            return fn([.. inputs]) ?? throw NullOutput("the forward");

        GeneratorStates rng = GeneratorStates.Begin();
        Tensor output;
        try
        {
            using TensorScope scope = TensorScope.Begin(); // what fn makes besides its output dies with it
            using (GradMode.Disable())
                output = fn([.. inputs]) ?? throw NullOutput("the forward");
            scope.Keep(output);
        }
        finally
        {
            rng.End();
        }
        // A fresh tensor object, so that fn returning an input unchanged never rewires that input.
        Tensor result = output.Detach();
        result.SetGradFn(new CheckpointNode(fn, inputs, rng));
        return result;
    }

    private static InvalidOperationException NullOutput(string when) =>
        new($"GradientCheckpoint.Run: fn returned null in {when}; it must return a tensor");

    /// <summary>The one node of a checkpointed function: keeps its inputs, recomputes it to backpropagate.</summary>
    private sealed class CheckpointNode : Node
    {
        private readonly Func<Tensor[], Tensor> _fn;
        private readonly SavedTensor[] _inputs;
        private readonly GeneratorStates _rng;

        public CheckpointNode(Func<Tensor[], Tensor> fn, Tensor[] inputs, GeneratorStates rng) : base(inputs)
        {
            _fn = fn;
            _rng = rng;
            _inputs = new SavedTensor[inputs.Length];
            for (int i = 0; i < inputs.Length; i++) _inputs[i] = Save(inputs[i]);
        }

        public override string Name => "CheckpointBackward";

        // The recompute runs user code: a hook or custom function inside fn may keep a gradient it is given. Until
        // the backward has looked at the recomputed graph (and if it finds any), the engine must assume so.
        internal override bool MayRetainGradients => _userCodeSeesGradients;

        private bool _userCodeSeesGradients = true;

        // Recompute fn with a graph on detached copies of the inputs, then backpropagate dy through it:
        // d(inputs) come back through the capture, parameters' gradients go where the enclosing backward sends leaves'.
        protected internal override Tensor?[] Backward(Tensor dy)
        {
            if (GradMode.IsEnabled)
                throw new InvalidOperationException(
                    "CheckpointBackward: double backward (createGraph: true) through a function run by GradientCheckpoint.Run is not supported; " +
                    "run that function without checkpointing to take higher-order gradients");
            var capture = new Engine.Capture
            {
                Results = new Tensor?[_inputs.Length],
                ForwardsOtherLeaves = true,
                Outer = Engine.RunningCapture,
            };
            var args = new Tensor[_inputs.Length];
            for (int i = 0; i < args.Length; i++)
            {
                Tensor x = _inputs[i].Value;
                if (!NeedsInputGrad(i))
                {
                    args[i] = x;
                    continue;
                }
                args[i] = x.Detach().RequireGrad();
                capture.Leaves[args[i]] = i;
            }

            using TensorScope scope = TensorScope.Begin(); // the recomputed activations die with this backward
            long mark = Node.LastSerial;
            Tensor y;
            _rng.Swap();
            try
            {
                using (GradMode.Enable())
                    y = _fn(args) ?? throw NullOutput("the recompute during backward");
            }
            finally
            {
                _rng.Swap();
            }
            if (y.Shape != OutputShape || y.DType != OutputDType)
                throw new InvalidOperationException(
                    $"CheckpointBackward: recomputing the checkpointed function gave {y.DType.Name()} {y.Shape}, but its forward gave {OutputDType.Name()} {OutputShape}; " +
                    "the function must compute the same thing every time it is called with the same inputs");
            _userCodeSeesGradients = y.RequiresGrad && SeesGradients(y, mark);
            if (y.RequiresGrad)
                Engine.Run([y], [dy], retainGraph: false, createGraph: false, capture);
            // The results (and parameter gradients an enclosing Gradients.Grad collects) outlive this scope.
            for (Engine.Capture? c = capture; c is not null; c = c.Outer)
                foreach (Tensor? g in c.Results)
                    if (g is not null) scope.Keep(g);
            return capture.Results;
        }

        /// <summary>
        /// Walks the recomputed graph: refuses one that reaches into the graph outside fn (fn captured a tensor
        /// that requires grad and is not a leaf, instead of receiving it as an input; the backward around this
        /// node does not know that this node feeds that part of its graph, so it could run it before this node
        /// delivered its share), and says whether any user code will see a gradient in it (a hook, a retained
        /// gradient, a custom function). The recompute's nodes are the ones created after <paramref name="mark"/>.
        /// </summary>
        private static bool SeesGradients(Tensor y, long mark)
        {
            if (y.GradFn is not { } root) return y.LeafHooks is not null;
            var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance) { root };
            var stack = new Stack<Node>();
            Visit(root, stack, mark);
            bool sees = false;
            while (stack.Count > 0)
            {
                Node n = stack.Pop();
                sees |= n.MayRetainGradients || n.OutputHooks is not null || n.RetainGradTarget is not null;
                foreach (Edge e in n.Edges)
                {
                    if (e.Node is { } next && seen.Add(next)) Visit(next, stack, mark);
                    sees |= e.Leaf?.LeafHooks is not null;
                }
            }
            return sees;
        }

        private static void Visit(Node node, Stack<Node> stack, long mark)
        {
            if (node.Serial <= mark)
                throw new InvalidOperationException(
                    $"CheckpointBackward: the checkpointed function uses a tensor of shape {node.OutputShape} that requires grad and was computed " +
                    $"outside it (by {node.Name}) without receiving it as an input; pass that tensor to GradientCheckpoint.Run as one of the inputs " +
                    "so its gradient can flow (leaf tensors such as parameters may be captured)");
            stack.Push(node);
        }
    }
}
