using Backprop.Autograd;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;

namespace Backprop.Tests.Docs;

/// <summary>The README's C# example, run as a test; a second test keeps the README copy identical.</summary>
public class ReadmeExampleTests
{
    private static void RunExample(TextWriter console)
    {
        // README-EXAMPLE-BEGIN
        // XOR: four points no straight line separates, learned by a 2-8-1 network.
        Tensor x = Tensor.FromArray(new float[,] { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } });
        Tensor y = Tensor.FromArray(new float[,] { { 0 }, { 1 }, { 1 }, { 0 } });

        var model = new Sequential(
            new Linear(2, 8, generator: new Generator(1)), new Tanh(),
            new Linear(8, 1, generator: new Generator(2)), new Sigmoid());
        var optimizer = new Adam(model.Parameters(), new AdamOptions(LearningRate: 0.05));

        for (int step = 0; step <= 300; step++)
        {
            optimizer.ZeroGrad();
            Tensor loss = Functional.MseLoss(model.Forward(x), y);
            loss.Backward();        // exact gradients for every weight
            optimizer.Step();       // w ← w − lr · (Adam-scaled gradient)
            if (step % 100 == 0) console.WriteLine($"step {step}: loss {loss.Item():F4}");
        }
        using (GradMode.Disable())
            console.WriteLine(model.Forward(x)); // ≈ [[0], [1], [1], [0]]
        // README-EXAMPLE-END
    }

    [Fact]
    public void Example_LearnsXor_WithTheLossFalling()
    {
        var output = new StringWriter();
        RunExample(output);
        double[] losses = output.ToString().Split('\n')
            .Where(l => l.StartsWith("step ", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.IndexOf("loss ", StringComparison.Ordinal) + 5)..], System.Globalization.CultureInfo.InvariantCulture))
            .ToArray();
        Assert.Equal(4, losses.Length); // steps 0, 100, 200, 300
        Assert.True(losses[0] > 0.2, $"initial loss {losses[0]}");
        Assert.True(losses[1] < losses[0] && losses[2] <= losses[1] && losses[3] <= losses[2], string.Join(", ", losses));
        Assert.True(losses[3] < 0.01, $"final loss {losses[3]}");
        Assert.Contains("tensor([[", output.ToString());
    }

    [Fact]
    public void Readme_ShowsExactlyTheTestedCode()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Backprop.slnx"))) root = Path.GetDirectoryName(root)!;
        string[] test = File.ReadAllLines(Path.Combine(root, "tests", "Backprop.Tests", "Docs", "ReadmeExampleTests.cs"));
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        int begin = Array.FindIndex(test, l => l.Contains("README-EXAMPLE-BEGIN")), end = Array.FindIndex(test, l => l.Contains("README-EXAMPLE-END"));
        var snippet = test[(begin + 1)..end].Select(l => l.Length >= 8 ? l[8..] : l.TrimStart());
        string expected = string.Join("\n", snippet).Replace("console.WriteLine", "Console.WriteLine");
        Assert.Contains(expected, readme.Replace("\r\n", "\n"));
    }
}
