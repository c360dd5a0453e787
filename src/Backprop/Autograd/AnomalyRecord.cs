using System.Diagnostics;
using System.Globalization;
using System.Text;
using Backprop.Kernels.Reduce;
using Backprop.Tensors;

namespace Backprop.Autograd;

/// <summary>
/// What <see cref="AnomalyMode"/> keeps for a node recorded while it is on: the shapes and dtypes of the
/// op's inputs, and the stack where it was recorded (formatted only if an anomaly is reported). Also
/// holds the two checks: the forward output (<see cref="CheckForward"/>, from <c>Tensor.SetGradFn</c>)
/// and the gradients a node returns (<see cref="CheckBackward"/>, from the engine).
/// </summary>
internal sealed class AnomalyRecord
{
    /// <summary>User frames kept in <see cref="AnomalyException.CreationTrace"/>.</summary>
    private const int MaxUserFrames = 8;

    private static readonly string s_library = typeof(Node).Assembly.GetName().Name!;

    private readonly Shape?[] _shapes;
    private readonly DType[] _dtypes;
    private readonly StackTrace _stack;

    /// <summary>The inputs until the forward check has run (then dropped, so a record keeps no tensor alive).</summary>
    private Tensor?[]? _inputs;

    private (string? Site, string? Via, string? Trace)? _where;

    internal AnomalyRecord(ReadOnlySpan<Tensor?> inputs)
    {
        _shapes = new Shape?[inputs.Length];
        _dtypes = new DType[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            _shapes[i] = inputs[i]?.Shape;
            _dtypes[i] = inputs[i]?.DType ?? default;
        }
        _inputs = inputs.ToArray();
        _stack = new StackTrace(1, fNeedFileInfo: true);
    }

    /// <summary>"Program.Main() in Program.cs:line 12", the first frame outside the library; null if there is none.</summary>
    internal string? Site => Where.Site;

    /// <summary>
    /// Called when the node is attached to its output: raises on a NaN in the output, or on an infinity
    /// in the output when no input holds one (an op that passes a −∞ mask along is not the culprit).
    /// </summary>
    internal void CheckForward(Node node, Tensor output)
    {
        Tensor?[] inputs = _inputs ?? []; // a node attached to a second output: its inputs were already scanned
        _inputs = null;
        NonFiniteCounts counts = Scan(output);
        if (!counts.Any) return;
        var held = new NonFiniteCounts[inputs.Length];
        bool inputNaN = false, inputInfinity = false;
        for (int i = 0; i < inputs.Length; i++)
        {
            held[i] = inputs[i] is { } t ? Scan(t) : default;
            inputNaN |= held[i].HasNaN;
            inputInfinity |= held[i].HasInfinity;
        }
        if (!counts.HasNaN && (inputInfinity || inputNaN)) return;

        string cause = inputNaN || inputInfinity
            ? $"; {InputsHolding(held)} already (from data, a parameter, or an op recorded while anomaly mode was off)"
            : " from finite inputs";
        string op = OpName(node);
        string message = $"Anomaly in forward: {op} produced {Describe(counts, output.Numel)}{cause}. " +
                         $"Op {op} (grad_fn {node.Name}) with inputs {InputText()}, output {output.Shape} {output.DType.Name()}; {SiteText()}.";
        throw Raise(message, node, inBackward: false);
    }

    /// <summary>
    /// Called by the engine with the gradients a node returned: raises on the first NaN or infinity in
    /// one, saying whether the gradient flowing into the node (<paramref name="dy"/>) was already bad.
    /// </summary>
    internal static void CheckBackward(Node node, Tensor dy, ReadOnlySpan<Tensor?> dx)
    {
        for (int i = 0; i < dx.Length; i++)
        {
            if (dx[i] is not { } g || !node.Edges[i].IsActive) continue;
            NonFiniteCounts counts = Scan(g);
            if (!counts.Any) continue;
            NonFiniteCounts incoming = Scan(dy);
            string cause = incoming.Any
                ? $", but the gradient flowing into it already held {Describe(incoming, dy.Numel)} (from the gradient passed to Backward, a hook, or gradients that overflowed when summed)"
                : " from a finite output gradient";
            AnomalyRecord? record = node.Anomaly;
            string inputs = record?.InputText() ?? EdgeText(node);
            string site = record?.SiteText() ?? "recorded while anomaly mode was off, so its creation site is unknown (enable the mode before the forward pass)";
            string message = $"Anomaly in backward: {node.Name} returned {Describe(counts, g.Numel)} in the gradient of input {i} ({g.Shape} {g.DType.Name()}){cause}. " +
                             $"Op {OpName(node)} with inputs {inputs}; {site}.";
            throw record is null
                ? new AnomalyException(message, OpName(node), node.Name, inBackward: true, null, null)
                : record.Raise(message, node, inBackward: true);
        }
    }

    private AnomalyException Raise(string message, Node node, bool inBackward, Exception? inner = null)
    {
        var (site, _, trace) = Where;
        return new AnomalyException(message, OpName(node), node.Name, inBackward, site, trace, inner);
    }

    /// <summary>
    /// An error a node's backward threw, wrapped (as PyTorch's anomaly mode does) with the op, its input
    /// shapes and where it was created; the original is the inner exception.
    /// </summary>
    internal static AnomalyException BackwardFailed(Node node, Exception error)
    {
        AnomalyRecord? record = node.Anomaly;
        string inputs = record?.InputText() ?? EdgeText(node);
        string site = record?.SiteText() ?? "recorded while anomaly mode was off, so its creation site is unknown (enable the mode before the forward pass)";
        string message = $"Error in backward: {node.Name} threw {error.GetType().Name}: {error.Message} Op {OpName(node)} with inputs {inputs}; {site}.";
        return record is null
            ? new AnomalyException(message, OpName(node), node.Name, inBackward: true, null, null, error)
            : record.Raise(message, node, inBackward: true, error);
    }

    /// <summary>"Log" for LogBackward: the op as its forward is called.</summary>
    internal static string OpName(Node node)
    {
        string name = node.Name;
        return name.Length > 8 && name.EndsWith("Backward", StringComparison.Ordinal) ? name[..^8] : name;
    }

    private static NonFiniteCounts Scan(Tensor t)
    {
        if (!t.DType.IsFloatingPoint() || t.Numel == 0) return default;
        Tensor c = t;
        if (!c.IsContiguous)
            using (GradMode.Disable()) c = t.Contiguous();
        return c.DType == DType.Float32
            ? NonFiniteKernel.Count(c.ReadOnlyElements<float>())
            : NonFiniteKernel.Count(c.ReadOnlyElements<double>());
    }

    /// <summary>"-inf (1 of 4 elements)", "NaN and +inf (3 of 8 elements)".</summary>
    private static string Describe(NonFiniteCounts c, int numel)
    {
        var kinds = new List<string>(3);
        if (c.HasNaN) kinds.Add("NaN");
        if (c.PositiveInfinity != 0) kinds.Add("+inf");
        if (c.NegativeInfinity != 0) kinds.Add("-inf");
        long total = c.NaN + c.PositiveInfinity + c.NegativeInfinity;
        return string.Create(CultureInfo.InvariantCulture, $"{string.Join(" and ", kinds)} ({total} of {numel} elements)");
    }

    private static string InputsHolding(NonFiniteCounts[] held)
    {
        var parts = new List<string>();
        for (int i = 0; i < held.Length; i++)
        {
            if (!held[i].Any) continue;
            string kinds = held[i].HasNaN && held[i].HasInfinity ? "NaN and inf" : held[i].HasNaN ? "NaN" : "inf";
            parts.Add($"input {i} held {kinds}");
        }
        return string.Join(", ", parts);
    }

    /// <summary>"[2, 3] float32, [3] float32, none".</summary>
    private string InputText()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < _shapes.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(_shapes[i] is { } s ? $"{s} {_dtypes[i].Name()}" : "none");
        }
        return _shapes.Length == 0 ? "(none)" : sb.ToString();
    }

    /// <summary>For a node recorded with the mode off: the shapes of the inputs that require grad.</summary>
    private static string EdgeText(Node node)
    {
        var parts = new string[node.Edges.Length];
        for (int i = 0; i < parts.Length; i++)
            parts[i] = node.Edges[i].InputShape is { } s ? s.ToString() : "(no grad)";
        return string.Join(", ", parts);
    }

    private string SiteText()
    {
        var (site, via, _) = Where;
        if (site is null) return "created outside user code (no frame outside the Backprop library)";
        return via is null ? $"created at {site}" : $"created at {site} (via {via})";
    }

    /// <summary>The first user frame, the library method it called, and the user frames as a trace.</summary>
    private (string? Site, string? Via, string? Trace) Where => _where ??= Locate(_stack);

    private static (string? Site, string? Via, string? Trace) Locate(StackTrace stack)
    {
        string? site = null, via = null, layer = null;
        var trace = new StringBuilder();
        int kept = 0;
        foreach (StackFrame frame in stack.GetFrames())
        {
            if (DiagnosticMethodInfo.Create(frame) is not { } method) continue;
            bool library = IsLibrary(method.DeclaringAssemblyName);
            if (site is null)
            {
                if (library)
                {
                    via = MethodText(method, parentheses: false); // the outermost library frame so far: what the user called
                    if (layer is null && method.Name == "Forward" && method.DeclaringTypeName?.StartsWith("Backprop.NN.", StringComparison.Ordinal) == true)
                        layer = via;                              // the innermost module: which kind of layer
                    continue;
                }
                string? file = frame.GetFileName();
                site = file is null ? MethodText(method) : $"{MethodText(method)} in {Path.GetFileName(file)}:line {frame.GetFileLineNumber()}";
            }
            if (library || kept == MaxUserFrames) continue;
            string? path = frame.GetFileName();
            trace.Append("   at ").Append(MethodText(method));
            if (path is not null) trace.Append(" in ").Append(path).Append(":line ").Append(frame.GetFileLineNumber());
            trace.AppendLine();
            kept++;
        }
        if (layer is not null && layer != via) via = $"{via}, in {layer}";
        return (site, via, site is null ? null : trace.ToString().TrimEnd());
    }

    private static bool IsLibrary(string? assembly)
        => assembly is not null && assembly.StartsWith(s_library, StringComparison.Ordinal)
           && (assembly.Length == s_library.Length || assembly[s_library.Length] == ',');

    /// <summary>
    /// "AnomalyTests.Forward()" without the namespace; compiler-generated names read as the source:
    /// a lambda as "Type.Method() (lambda)", a local function as "Type.Method.Local()", an async
    /// method's state machine as the method.
    /// </summary>
    internal static string MethodText(DiagnosticMethodInfo method, bool parentheses = true)
    {
        string type = method.DeclaringTypeName ?? "";
        int cut = type.IndexOfAny(['[', '`']);
        if (cut >= 0) type = type[..cut];
        string[] parts = type.Split('+');
        var sb = new StringBuilder(parts[0][(parts[0].LastIndexOf('.') + 1)..]);
        string name = method.Name;
        for (int i = 1; i < parts.Length; i++)
        {
            string part = parts[i];
            if (!part.StartsWith('<')) sb.Append('.').Append(part);
            else if (part.Contains(">d__", StringComparison.Ordinal) && name == "MoveNext") name = Between(part); // async or iterator
        }
        string suffix = parentheses ? "()" : "";
        if (name.StartsWith('<'))
        {
            string host = Between(name);
            int local = name.IndexOf(">g__", StringComparison.Ordinal);
            if (local >= 0)
            {
                string localName = name[(local + 4)..];
                int bar = localName.IndexOf('|');
                return $"{sb}.{host}.{(bar >= 0 ? localName[..bar] : localName)}{suffix}";
            }
            return $"{sb}.{host}{suffix} (lambda)";
        }
        return $"{sb}.{name}{suffix}";
    }

    /// <summary>"Main" from "&lt;Main&gt;b__0_0".</summary>
    private static string Between(string s)
    {
        int close = s.IndexOf('>');
        return close > 1 ? s[1..close] : s;
    }
}
