using Backprop.Autograd;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Autograd;

/// <summary>GraphExport.ToDot: the DOT text parsed back (DotGraph) and its structure checked node by node.</summary>
public class GraphExportTests
{
    private static readonly KeyValuePair<string, Tensor>[] NoNames = [];

    /// <summary>y = (x·w + b).Relu().Sum() with x [2, 3] a constant, w and b [3] leaves.</summary>
    private static (Tensor Y, Tensor X, Tensor W, Tensor B) SmallGraph(bool xRequiresGrad = false)
    {
        Tensor x = Tensor.FromArray(new float[,] { { 1, -2, 3 }, { -4, 5, -6 } }).RequireGrad(xRequiresGrad);
        Tensor w = T.F32([0.5f, -1f, 2f]).RequireGrad();
        Tensor b = T.F32([0.1f, 0.2f, -0.3f]).RequireGrad();
        return ((x * w + b).Relu().Sum(), x, w, b);
    }

    [Fact]
    public void SmallGraph_HasOneNodePerOpLeafAndSavedTensor_AndEdgesFollowTheForwardFlow()
    {
        var (y, x, w, b) = SmallGraph();
        DotGraph g = DotGraph.Parse(GraphExport.ToDot(y, [new("w", w), new("b", b), new("x", x)]));

        Assert.Equal("autograd", g.Name);
        Assert.Equal(7, g.Nodes.Count); // Sum, Relu, Add, Mul; leaves w, b; saved x
        string sum = g.Find("SumBackward"), relu = g.Find("ReluBackward"), add = g.Find("AddBackward"), mul = g.Find("MulBackward");
        string wId = g.Find("w"), bId = g.Find("b"), xId = g.Find("saved x");
        Assert.Equal("SumBackward\n[] float32", g.Label(sum));
        Assert.Equal("ReluBackward\n[2, 3] float32\nsaves its output", g.Label(relu));
        Assert.Equal("AddBackward\n[2, 3] float32", g.Label(add));
        Assert.Equal("MulBackward\n[2, 3] float32", g.Label(mul));
        Assert.Equal("w\n[3] float32", g.Label(wId));
        Assert.Equal("b\n[3] float32", g.Label(bId));
        Assert.Equal("saved x\n[2, 3] float32", g.Label(xId));
        Assert.Equal("darkolivegreen1", g.Nodes[sum]["fillcolor"]); // the root
        Assert.Equal("lightblue", g.Nodes[wId]["fillcolor"]);
        Assert.Equal("orange", g.Nodes[xId]["fillcolor"]);

        var edges = g.Edges.Select(e => (e.From, e.To, Saved: e.Attributes.GetValueOrDefault("label") == "saved")).ToHashSet();
        Assert.Equal(6, g.Edges.Count);
        Assert.Equal(new HashSet<(string, string, bool)>
        {
            (relu, sum, false), (add, relu, false), (mul, add, false), (bId, add, false), (wId, mul, false),
            (xId, mul, true), // Mul keeps x for dL/dw = dy·x
        }, edges);
        Assert.Equal("dashed", g.Edges.Single(e => e.From == xId).Attributes["style"]);
    }

    [Fact]
    public void SavedLeafOrOutput_PointsFromItsOwnNode()
    {
        // x requires grad too: Mul now also keeps w (for dL/dx), and both saved tensors are leaves of the graph.
        var (y, x, w, b) = SmallGraph(xRequiresGrad: true);
        DotGraph g = DotGraph.Parse(GraphExport.ToDot(y, [new("w", w), new("b", b), new("x", x)]));
        Assert.Equal(7, g.Nodes.Count); // Sum, Relu, Add, Mul, w, b, x: no separate saved boxes
        string mul = g.Find("MulBackward"), xId = g.Find("x"), wId = g.Find("w");
        Assert.Equal("lightblue", g.Nodes[xId]["fillcolor"]);
        Assert.Contains((wId, mul, "saved"), g.Edges.Select(e => (e.From, e.To, e.Attributes.GetValueOrDefault("label"))));
        Assert.Contains((xId, mul, "saved"), g.Edges.Select(e => (e.From, e.To, e.Attributes.GetValueOrDefault("label"))));
        Assert.Equal(8, g.Edges.Count); // 6 data edges (x -> Mul added) + 2 saved

        // An intermediate saved by a later op: Mul(a, a) keeps a, which Exp produced.
        Tensor v = T.F64([1.0, 2.0]).RequireGrad();
        Tensor a = v.Exp();
        DotGraph h = DotGraph.Parse(GraphExport.ToDot(a * a));
        string exp = h.Find("ExpBackward"), sq = h.Find("MulBackward");
        Assert.Equal(2, h.Edges.Count(e => e.From == exp && e.To == sq && !e.Attributes.ContainsKey("label")));   // a used twice
        Assert.Equal(2, h.Edges.Count(e => e.From == exp && e.To == sq && e.Attributes.GetValueOrDefault("label") == "saved"));
        Assert.Equal("ExpBackward\n[2] float64\nsaves its output", h.Label(exp));
        Assert.Equal("leaf\n[2] float64", h.Label(h.Find("leaf"))); // unnamed leaf
    }

    [Fact]
    public void AfterBackward_SavedTensorsAreMarkedFreed()
    {
        var (y, _, w, _) = SmallGraph();
        y.Backward();
        DotGraph g = DotGraph.Parse(GraphExport.ToDot(y, [new("w", w)]));
        Assert.Equal("ReluBackward\n[2, 3] float32", g.Label(g.Find("ReluBackward"))); // its output is no longer held
        Assert.Equal(2, g.Nodes.Values.Count(n => n["label"].StartsWith("saved (freed)\n", StringComparison.Ordinal)));
        Assert.Contains(g.Nodes.Values, n => n["label"] == "saved (freed)\n[2, 3]");
    }

    [Fact]
    public void ModuleParameters_AreNamedFromTheStateDict()
    {
        var model = new Sequential(new Linear(4, 3, generator: new Generator(1)), new Relu(), new Linear(3, 2, generator: new Generator(2)));
        Tensor loss = model.Forward(Tensor.Randn([5, 4], DType.Float32, new Generator(3))).Sum();
        DotGraph g = DotGraph.Parse(GraphExport.ToDot(loss, model.StateDict()));
        string[] leaves = g.Nodes.Values.Where(n => n["fillcolor"] == "lightblue").Select(n => n["label"]).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["0.bias\n[3] float32", "0.weight\n[3, 4] float32", "2.bias\n[2] float32", "2.weight\n[2, 3] float32"], leaves);
        foreach (var (from, to, _) in g.Edges)
            Assert.NotEqual(from, to);
    }

    [Fact]
    public void Labels_AreEscaped()
    {
        Tensor w = T.F64([1.0]).RequireGrad();
        string name = "we\"ird\\name\nline2 {x} -> [y];";
        string dot = GraphExport.ToDot((w * 2).Sum(), [new(name, w)]);
        DotGraph g = DotGraph.Parse(dot);
        Assert.Contains(g.Nodes.Values, n => n["label"] == name + "\n[1] float64");
        Assert.DoesNotContain('\r', dot);
        Assert.Equal(dot.Split('\n').Length - 1, dot.Count(c => c == '\n')); // the text ends with its last line
    }

    [Fact]
    public void RootWithoutGraph_IsOneNode()
    {
        Tensor leaf = T.F64([1.0, 2.0]).RequireGrad();
        DotGraph g = DotGraph.Parse(GraphExport.ToDot(leaf, [new("p", leaf)]));
        Assert.Equal("p\n[2] float64", g.Label(Assert.Single(g.Nodes).Key));
        Assert.Empty(g.Edges);

        DotGraph constant = DotGraph.Parse(GraphExport.ToDot(T.F64([1.0, 2.0]), NoNames));
        Assert.Contains("no autograd graph", constant.Label(Assert.Single(constant.Nodes).Key));
    }

    [Fact]
    public void RecordedUnderAnomalyMode_OpsCarryTheirCreationSiteAsTooltip()
    {
        Tensor w = T.F64([1.0, 2.0]).RequireGrad();
        Tensor y;
        using (AnomalyMode.Enable())
            y = (w * w).Sum();
        DotGraph g = DotGraph.Parse(GraphExport.ToDot(y));
        string tooltip = g.Nodes[g.Find("MulBackward")]["tooltip"];
        Assert.StartsWith("created at GraphExportTests." + nameof(RecordedUnderAnomalyMode_OpsCarryTheirCreationSiteAsTooltip) + "()", tooltip);
        Assert.Contains("GraphExportTests.cs:line", tooltip);
    }

    [Fact]
    public void Parser_RejectsBrokenDot_AndReadsEscapesAsGraphviz()
    {
        Assert.Throws<FormatException>(() => DotGraph.Parse("digraph g { n0 [label=\"a\"]; n0 -> n1; }"));  // undeclared node
        Assert.Throws<FormatException>(() => DotGraph.Parse("digraph g { n0 [label=\"a]; }"));             // unterminated string
        Assert.Throws<FormatException>(() => DotGraph.Parse("digraph g { n0 [label=\"a\"] }"));           // missing semicolon
        Assert.Throws<FormatException>(() => DotGraph.Parse("digraph g { n0 [label=\"a\"];"));            // missing brace
        Assert.Throws<FormatException>(() => DotGraph.Parse("""digraph g { n0 [label="a\"]; }"""));              // \" does not end the string
        Assert.Equal("a\\\nb\"", DotGraph.Parse("""digraph g { n0 [label="a\\\nb\""]; }""").Label("n0"));  // \\ \n \"
    }
}
