using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop explain</c>: the one-neuron worked example of backpropagation, computed live by the
/// autograd engine and narrated step by step (or printed as one JSON object with <c>--json</c>, or its
/// autograd graph as Graphviz DOT with <c>--dot</c>).
/// </summary>
internal static class ExplainCommand
{
    /// <summary>Largest accepted --steps; this is an explanation, not a training run.</summary>
    public const int MaxSteps = 10_000;

    /// <summary>Steps shown in full in the table; longer runs show the first and last rows.</summary>
    private const int FullTableRows = 20;

    /// <summary>Builds the command with its options and action.</summary>
    public static Command Create()
    {
        Option<double> x = CliOptions.Double("--x", 1.5, "Input x.");
        Option<double> w = CliOptions.Double("--w", 0.8, "Starting weight w.");
        Option<double> b = CliOptions.Double("--b", 0.2, "Starting bias b.");
        Option<double> y = CliOptions.Double("--y", 1.0, "Target y.");
        Option<double> lr = CliOptions.Double("--lr", 0.1, "Learning rate (> 0).", positive: true);
        Option<int> steps = CliOptions.Count("--steps", 1, MaxSteps, $"Gradient-descent steps to take (1 to {MaxSteps}).");
        var json = new Option<bool>("--json") { Description = "Print one JSON object with the numbers of the first step instead of the explanation." };
        var dot = new Option<bool>("--dot")
        {
            Description = "Print the autograd graph of the forward pass (ops, shapes, leaves w and b, tensors saved for backward) " +
                          "as Graphviz DOT instead of the explanation; render it with: backprop explain --dot | dot -Tsvg -o neuron.svg",
        };

        var command = new Command("explain",
            "Backpropagation on one neuron, step by step: z = w·x + b, p = sigmoid(z), loss = ½(y − p)², " +
            "then w ← w − lr·∂loss/∂w. Every number is computed live by the autograd engine.")
        {
            x, w, b, y, lr, steps, json, dot,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(dot))
            {
                // The graph is of the first forward pass: the flags about training steps and output format do not apply.
                foreach (Option o in new Option[] { lr, steps, json })
                    if (parse.GetResult(o) is { Implicit: false })
                        throw new CliException($"{o.Name} does not apply to --dot (it prints the graph of one forward pass)", CliApp.UsageError);
                var neuron = new OneNeuron(parse.GetValue(x), parse.GetValue(w), parse.GetValue(b), parse.GetValue(y), parse.GetValue(lr));
                parse.InvocationConfiguration.Output.Write(neuron.GraphDot());
                return CliApp.Success;
            }
            var settings = new Settings(
                parse.GetValue(x), parse.GetValue(w), parse.GetValue(b), parse.GetValue(y),
                parse.GetValue(lr), parse.GetValue(steps));
            Run run = Execute(settings);
            TextWriter stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
                WriteJson(run, stdout);
            else
                WriteText(settings, run, stdout);
            return CliApp.Success;
        });
        return command;
    }

    /// <summary>The command's inputs after validation.</summary>
    private sealed record Settings(double X, double W, double B, double Y, double Lr, int Steps);

    /// <summary>Every step's numbers and the loss after the last update.</summary>
    private sealed record Run(NeuronStep[] Steps, double FinalLoss, double FinalW, double FinalB);

    private static Run Execute(Settings s)
    {
        var neuron = new OneNeuron(s.X, s.W, s.B, s.Y, s.Lr);
        var steps = new NeuronStep[s.Steps];
        for (int i = 0; i < steps.Length; i++)
        {
            steps[i] = neuron.Step();
            if (steps[i].FirstNonFinite() is { } bad)
                throw new CliException(
                    $"step {i + 1} produced {bad}; the numbers overflowed float64. " +
                    "Try smaller values for --x, --w, --b or --lr.");
        }
        double finalLoss = neuron.Loss();
        if (!double.IsFinite(finalLoss))
            throw new CliException($"the loss after step {steps.Length} is {finalLoss}; try a smaller --lr.");
        return new Run(steps, finalLoss, neuron.W.Item(), neuron.B.Item());
    }

    // ---------------- JSON ----------------

    private static void WriteJson(Run run, TextWriter stdout)
    {
        NeuronStep s = run.Steps[0];
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            Number(json, "z", s.Z);
            Number(json, "p", s.P);
            Number(json, "loss", s.Loss);
            Number(json, "grad_p", s.GradP);
            Number(json, "grad_z", s.GradZ);
            Number(json, "grad_w", s.GradW);
            Number(json, "grad_b", s.GradB);
            Number(json, "new_w", s.NewW);
            Number(json, "new_b", s.NewB);
            json.WriteStartArray("losses");
            foreach (NeuronStep step in run.Steps)
                json.WriteNumberValue(step.Loss);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        stdout.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    // Utf8JsonWriter formats doubles in the shortest form that parses back to the same bits ("R").
    private static void Number(Utf8JsonWriter json, string name, double value) => json.WriteNumber(name, value);

    // ---------------- human text ----------------

    /// <summary>A number for reading: six significant digits.</summary>
    internal static string N(double value)
        => (value == 0 ? 0.0 : value).ToString("G6", CultureInfo.InvariantCulture).Replace('E', 'e'); // no "-0"

    /// <summary>A number as a factor in a product: negatives in parentheses.</summary>
    private static string F(double value) => value < 0 ? $"({N(value)})" : N(value);

    /// <summary>The exponent of e^(−z) with the sign worked out: e^(-1.4), e^(2).</summary>
    private static string NegExp(double z) => $"e^({N(-z)})";

    private static void WriteText(Settings set, Run run, TextWriter o)
    {
        NeuronStep s = run.Steps[0];
        o.WriteLine("Backpropagation on one neuron, computed live by the Backprop autograd engine (float64).");
        o.WriteLine();
        o.WriteLine($"  input x = {N(set.X)}    weight w = {N(set.W)}    bias b = {N(set.B)}    target y = {N(set.Y)}    learning rate lr = {N(set.Lr)}");
        o.WriteLine();

        o.WriteLine("1. Forward pass: compute the prediction and how wrong it is.");
        o.WriteLine($"   z    = w·x + b      = {F(s.W)} × {F(set.X)} + {F(s.B)} = {N(s.Z)}");
        o.WriteLine($"   p    = sigmoid(z)   = 1 / (1 + {NegExp(s.Z)}) = {N(s.P)}");
        o.WriteLine($"   loss = ½(y − p)²    = ½ × ({N(set.Y)} − {N(s.P)})² = {N(s.Loss)}");
        o.WriteLine();

        o.WriteLine("2. Backward pass: loss.Backward() applies the chain rule from the loss back to w and b.");
        o.WriteLine("   Each local factor below was asked of the engine (Gradients.Grad); the gradients are what");
        o.WriteLine("   loss.Backward() left in .Grad (z and p keep theirs because of RetainGrad()).");
        o.WriteLine($"   ∂loss/∂p = −(y − p)                = {N(s.GradP)}   (p.Grad)");
        o.WriteLine($"   ∂p/∂z    = p(1 − p)                = {N(s.LocalPZ)}   (the sigmoid's local slope)");
        o.WriteLine($"   ∂loss/∂z = ∂loss/∂p · ∂p/∂z        = {F(s.GradP)} × {F(s.LocalPZ)} = {N(s.GradZ)}   (z.Grad)");
        o.WriteLine($"   ∂z/∂w    = x                       = {N(s.LocalZW)}");
        o.WriteLine($"   ∂z/∂b    = 1                       = {N(s.LocalZB)}");
        o.WriteLine($"   ∂loss/∂w = ∂loss/∂z · ∂z/∂w        = {F(s.GradZ)} × {F(s.LocalZW)} = {N(s.GradW)}   (w.Grad)");
        o.WriteLine($"   ∂loss/∂b = ∂loss/∂z · ∂z/∂b        = {F(s.GradZ)} × {F(s.LocalZB)} = {N(s.GradB)}   (b.Grad)");
        o.WriteLine();

        o.WriteLine("3. Gradient-descent update (under GradMode.Disable(), so it is not recorded):");
        o.WriteLine("   step against the gradient, scaled by the learning rate.");
        o.WriteLine($"   w ← w − lr·∂loss/∂w = {F(s.W)} − {F(set.Lr)} × {F(s.GradW)} = {N(s.NewW)}");
        o.WriteLine($"   b ← b − lr·∂loss/∂b = {F(s.B)} − {F(set.Lr)} × {F(s.GradB)} = {N(s.NewB)}");
        o.WriteLine();
        o.WriteLine($"New parameters: w = {N(s.NewW)}, b = {N(s.NewB)}");

        if (run.Steps.Length == 1)
        {
            double after = run.FinalLoss;
            o.WriteLine($"Loss at the new parameters: {N(after)} (was {N(s.Loss)}): {Change(s.Loss, after)}");
            o.WriteLine();
            o.WriteLine("Run with --steps N to repeat the step and watch the loss fall.");
            return;
        }

        o.WriteLine();
        WriteTable(run, o);
    }

    private static string Change(double before, double after) =>
        after < before ? $"it fell by {N(before - after)}."
        : after > before ? $"it rose by {N(after - before)}; the learning rate may be too large."
        : "it did not change (the gradient is zero or too small to move the parameters).";

    private static void WriteTable(Run run, TextWriter o)
    {
        NeuronStep[] steps = run.Steps;
        o.WriteLine($"{steps.Length} steps of gradient descent (loss, w and b at the start of each step):");
        o.WriteLine();
        o.WriteLine($"   {"step",6}  {"loss",-14}{"w",-14}b");
        for (int i = 0; i < steps.Length; i++)
        {
            if (steps.Length > FullTableRows && i == 10)
            {
                o.WriteLine($"   {"...",6}");
                i = steps.Length - 5;
            }
            o.WriteLine($"   {i + 1,6}  {N(steps[i].Loss),-14}{N(steps[i].W),-14}{N(steps[i].B)}");
        }
        o.WriteLine($"   {"end",6}  {N(run.FinalLoss),-14}{N(run.FinalW),-14}{N(run.FinalB)}");
        o.WriteLine();

        int firstRise = -1;
        bool strictlyFalling = true;
        for (int i = 0; i < steps.Length; i++)
        {
            double next = i + 1 < steps.Length ? steps[i + 1].Loss : run.FinalLoss;
            if (next >= steps[i].Loss) strictlyFalling = false;
            if (next > steps[i].Loss && firstRise < 0) firstRise = i + 1;
        }
        double first = steps[0].Loss, last = run.FinalLoss;
        if (strictlyFalling)
            o.WriteLine($"The loss fell at every step, from {N(first)} to {N(last)}.");
        else if (firstRise > 0)
            o.WriteLine($"The loss rose at step {firstRise} (from {N(first)} at the start to {N(last)} at the end); the learning rate may be too large.");
        else
            o.WriteLine($"The loss stopped falling (from {N(first)} to {N(last)}): the gradient is zero or too small to change the parameters.");
    }
}
