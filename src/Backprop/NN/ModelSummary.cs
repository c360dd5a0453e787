using System.Globalization;
using System.Text;
using Backprop.Autograd;
using Backprop.Memory;
using Backprop.NN.Layers;
using Backprop.Tensors;

namespace Backprop.NN;

/// <summary>
/// A torchinfo-style summary of a model: every module call of one forward pass, with its output shape,
/// its own parameter count and multiply-adds, and the totals. Built with forward pre-hooks and forward
/// hooks on every module during one forward of zeros, in evaluation mode and without recording a graph
/// (nothing in the model changes: the modules' training flags are restored, batch norm statistics are not
/// updated, no random numbers are drawn).
/// </summary>
/// <remarks>
/// <para>Only modules invoked with <see cref="Module.Call"/> (or <see cref="Module.BeginCall"/>) appear, as in
/// torchinfo only modules called through <c>module(x)</c> do; the library's containers, layers and the CLI's
/// models all call their children that way. The parameter total is always <see cref="Module.ParameterCount"/>.</para>
/// <para>Multiply-adds count the products of the large layers for the given input, batch included:
/// Linear (and LinearRelu): rows · in · out, where rows is the input's element count / in (a bias add is
/// not a product); Conv2d: output elements · in/groups · k²; Conv2dReluMaxPool2d: the same for the
/// convolution's output before pooling; MultiheadAttention: the q/k/v projection 3·N·L·E² plus scores and
/// weighted sum 2·N·L²·E (self-attention, every query against every key; the causal half the fused kernel
/// skips is counted; out_proj is its own Linear row); Rnn/Lstm/Gru: per step and batch row,
/// gates·hidden·(input + hidden) for every layer and direction (gates: 1, 4, 3); RnnCell/LstmCell/GruCell: the
/// same for one step. Element-wise layers (activations, normalisation, dropout, pooling, embeddings, the
/// softmax and gate non-linearities) count 0. torchinfo differs in two ways: it adds a bias term per
/// output and counts Linear over the first dimension only.</para>
/// </remarks>
public sealed class ModelSummary
{
    private ModelSummary(string modelType, Shape inputShape, DType inputDType, List<ModelSummaryRow> rows, long total, long trainable)
    {
        ModelType = modelType;
        InputShape = inputShape;
        InputDType = inputDType;
        Rows = rows;
        TotalParameters = total;
        TrainableParameters = trainable;
        foreach (ModelSummaryRow r in rows) TotalMultiplyAdds += r.MultiplyAdds;
    }

    /// <summary>The model's class name.</summary>
    public string ModelType { get; }

    /// <summary>The input the forward ran on.</summary>
    public Shape InputShape { get; }

    /// <summary>The input's dtype.</summary>
    public DType InputDType { get; }

    /// <summary>The module calls, in the order they began (a parent before its children).</summary>
    public IReadOnlyList<ModelSummaryRow> Rows { get; }

    /// <summary>All parameter values of the model (<see cref="Module.ParameterCount"/>).</summary>
    public long TotalParameters { get; }

    /// <summary>Parameter values that require grad.</summary>
    public long TrainableParameters { get; }

    /// <summary>The sum of the rows' multiply-adds.</summary>
    public long TotalMultiplyAdds { get; }

    /// <summary>
    /// Summarises <paramref name="model"/> on an input of zeros of <paramref name="inputShape"/> (batch included)
    /// and <paramref name="dtype"/>; Int64 zeros are valid token indices for models that start with an embedding.
    /// </summary>
    /// <exception cref="ArgumentException">The model's forward refuses the input (the message says why).</exception>
    public static ModelSummary Of(Module model, Shape inputShape, DType dtype = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = TensorScope.Begin();
        return Of(model, Tensor.Zeros(inputShape, dtype));
    }

    /// <summary>Summarises <paramref name="model"/> on one sample input (its values matter only to the model's own checks).</summary>
    /// <exception cref="ArgumentException">The model's forward refuses the input (the message says why).</exception>
    public static ModelSummary Of(Module model, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        var names = new Dictionary<Module, (string Name, int Depth)>(ReferenceEqualityComparer.Instance);
        Name(model, "", 0, names);
        var modules = new List<Module>(names.Keys);
        var training = new bool[modules.Count];
        for (int i = 0; i < modules.Count; i++) training[i] = modules[i].Training;

        var rows = new List<ModelSummaryRow>();
        var open = new Stack<int>();
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        var handles = new List<IDisposable>();
        try
        {
            foreach (Module m in modules)
            {
                handles.Add(m.RegisterForwardPreHook((self, _) =>
                {
                    var (name, depth) = names[self];
                    bool repeated = !seen.Add(self);
                    rows.Add(new ModelSummaryRow(name, self.GetType().Name, depth, Shape.Scalar, repeated ? 0 : OwnParameters(self), 0, repeated));
                    open.Push(rows.Count - 1);
                    return null;
                }));
                handles.Add(m.RegisterForwardHook((self, x, y) =>
                {
                    int row = open.Pop();
                    long macs = MultiplyAdds(self, x.Shape, y.Shape);
                    rows[row] = rows[row] with { OutputShape = y.Shape, MultiplyAdds = macs };
                    return null;
                }));
            }
            model.Eval();
            using (GradMode.Disable())
            {
                try
                {
                    model.Call(input);
                }
                catch (ArgumentException e)
                {
                    throw new ArgumentException($"ModelSummary: {model.GetType().Name} refused an input of shape {input.Shape} ({input.DType.Name()}): {e.Message}", e);
                }
            }
        }
        finally
        {
            foreach (IDisposable h in handles) h.Dispose();
            // Parents first: Train(flag) sets a module's descendants too, each of which then gets its own flag back.
            for (int i = 0; i < modules.Count; i++) modules[i].Train(training[i]);
        }
        long total = 0, trainable = 0;
        foreach (Parameter p in model.Parameters())
        {
            total += p.Numel;
            if (p.Data.RequiresGrad) trainable += p.Numel;
        }
        return new ModelSummary(model.GetType().Name, input.Shape, input.DType, rows, total, trainable);
    }

    /// <summary>Every module under its first dotted name, parents before children.</summary>
    private static void Name(Module m, string name, int depth, Dictionary<Module, (string, int)> names)
    {
        if (!names.TryAdd(m, (name, depth))) return;
        foreach (var (child, module) in m.NamedChildren())
            Name(module, name.Length == 0 ? child : name + "." + child, depth + 1, names);
    }

    private static long OwnParameters(Module m)
    {
        long n = 0;
        foreach (var (name, p) in m.NamedParameters())
            if (!name.Contains('.')) n += p.Numel;
        return n;
    }

    /// <summary>The multiply-adds of one call of <paramref name="m"/> from <paramref name="input"/> to <paramref name="output"/>, outside hooked children.</summary>
    public static long MultiplyAdds(Module m, Shape input, Shape output)
    {
        ArgumentNullException.ThrowIfNull(m);
        switch (m)
        {
            case Linear l:
                return Numel(input) / l.InFeatures * l.InFeatures * l.OutFeatures;
            case LinearRelu l:
                return Numel(input) / l.InFeatures * l.InFeatures * l.OutFeatures;
            case Conv2d c:
                return Numel(output) * (c.InChannels / c.Groups) * c.KernelSize.H * c.KernelSize.W;
            case Conv1d c:
                return Numel(output) * (c.InChannels / c.Groups) * c.KernelSize;
            case ConvTranspose2d c: // every input pixel feeds outC/groups·kh·kw outputs
                return Numel(input) * (c.OutChannels / c.Groups) * c.KernelSize.H * c.KernelSize.W;
            case Conv2dReluMaxPool2d f:
            {
                Conv2d c = f.Conv;
                if (input.Rank < 3) return 0;
                var (h, w) = c.OutputSize(input[input.Rank - 2], input[input.Rank - 1]);
                long images = input.Rank == 4 ? input[0] : 1;
                return images * c.OutChannels * h * w * (c.InChannels / c.Groups) * c.KernelSize.H * c.KernelSize.W;
            }
            case MultiheadAttention a:
            {
                if (input.Rank < 2) return 0;
                long e = a.EmbedDim, rows = Numel(input) / e;                       // N·L
                long length = input.Rank == 2 ? input[0] : a.BatchFirst ? input[1] : input[0];
                return 3 * rows * e * e + 2 * rows * length * e;
            }
            case RecurrentLayer r:
            {
                long stepsTimesBatch = Numel(input) / r.InputSize;                   // seq · batch
                long perRow = 0;
                int gates = r switch { Lstm => 4, Gru => 3, _ => 1 };
                for (int layer = 0; layer < r.NumLayers; layer++)
                {
                    long inputs = layer == 0 ? r.InputSize : (long)r.HiddenSize * r.Directions;
                    perRow += r.Directions * gates * (long)r.HiddenSize * (inputs + r.HiddenSize);
                }
                return stepsTimesBatch * perRow;
            }
            case RecurrentCell cell:
            {
                int gates = cell switch { LstmCell => 4, GruCell => 3, _ => 1 };
                return Numel(input) / cell.InputSize * gates * (long)cell.HiddenSize * (cell.InputSize + cell.HiddenSize);
            }
            default:
                return 0;
        }
    }

    private static long Numel(Shape s)
    {
        long n = 1;
        for (int i = 0; i < s.Rank; i++) n *= s[i];
        return n;
    }

    /// <summary>The table: one line per module call, indented by depth, then the totals and the input.</summary>
    public override string ToString()
    {
        var lines = new List<string[]>();
        foreach (ModelSummaryRow r in Rows)
        {
            string layer = new string(' ', 2 * r.Depth) + (r.Name.Length == 0 ? r.Type : $"{r.Name} ({r.Type})");
            string parameters = r.Repeated ? "(repeated)" : r.Parameters == 0 ? "--" : Count(r.Parameters);
            lines.Add([layer, r.OutputShape.ToString(), parameters, r.MultiplyAdds == 0 ? "--" : Count(r.MultiplyAdds)]);
        }
        string[] header = ["Layer (type)", "Output shape", "Params", "Mult-adds"];
        var width = new int[header.Length];
        foreach (string[] l in lines.Prepend(header))
            for (int i = 0; i < l.Length; i++) width[i] = Math.Max(width[i], l[i].Length);
        int total = width.Sum() + 3 * (width.Length - 1);
        string rule = new('=', total);
        var sb = new StringBuilder();
        void Line(string[] cells)
        {
            sb.Append(cells[0].PadRight(width[0]));
            for (int i = 1; i < cells.Length; i++) sb.Append("   ").Append(i == 1 ? cells[i].PadRight(width[i]) : cells[i].PadLeft(width[i]));
            sb.Append('\n');
        }
        sb.Append(rule).Append('\n');
        Line(header);
        sb.Append(rule).Append('\n');
        foreach (string[] l in lines) Line(l);
        sb.Append(rule).Append('\n');
        sb.Append("Total params: ").Append(Count(TotalParameters)).Append('\n');
        sb.Append("Trainable params: ").Append(Count(TrainableParameters)).Append('\n');
        sb.Append("Non-trainable params: ").Append(Count(TotalParameters - TrainableParameters)).Append('\n');
        sb.Append("Total mult-adds: ").Append(Count(TotalMultiplyAdds))
          .Append(string.Create(CultureInfo.InvariantCulture, $" ({TotalMultiplyAdds / 1e6:F2} M)")).Append('\n');
        sb.Append(rule).Append('\n');
        sb.Append("Input: ").Append(InputShape.ToString()).Append(' ').Append(InputDType.Name()).Append('\n');
        sb.Append(rule);
        return sb.ToString();
    }

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
