using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Ops.Conv;
using Backprop.Ops.Loss;
using Backprop.Tensors;

namespace Backprop.Tests.NN.Layers;

/// <summary>The README's layers example, run as a test; a second test keeps the README copy identical.</summary>
public class LayersReadmeTests
{
    [Fact]
    public void Example_Runs()
    {
        // README-LAYERS-BEGIN
        var encoder = new Sequential(
            new Conv2d(3, 32, (3, 5), padding: "same", paddingMode: PaddingMode.Reflect), new GroupNorm(8, 32), new Relu(),
            new Conv2d(32, 64, 3, stride: 2, padding: 1), new Relu(),
            new AdaptiveAvgPool2d(1), new Flatten(), new Linear(64, 10));          // global average pooling
        Tensor logits = encoder.Forward(Tensor.Randn([4, 3, 28, 28]));           // [4, 10] whatever the image size
        var decoder = new ConvTranspose2d(64, 32, 4, stride: 2, padding: 1);     // [N, 64, H, W] -> [N, 32, 2H, 2W]
        var signal = new Conv1d(16, 32, kernelSize: 5, padding: "same");         // [N, 16, L] -> [N, 32, L]
        var norm = new RmsNorm(512);                                             // eps: the dtype's machine epsilon
        Tensor kl = Functional.KLDiv(logits.LogSoftmax(1), Tensor.Full([4, 10], 0.1), Reduction.BatchMean); // per sample
        Func<Tensor, Tensor, Tensor> loss = new HuberLoss(delta: 0.5);           // a criterion is what a Trainer takes
        // README-LAYERS-END
        Assert.Equal(new Shape(4, 10), logits.Shape);
        Assert.Equal(new Shape(4, 10), encoder.Forward(Tensor.Randn([4, 3, 17, 23])).Shape);
        Assert.Equal(new Shape(2, 32, 10, 12), decoder.Forward(Tensor.Zeros([2, 64, 5, 6])).Shape);
        Assert.Equal(new Shape(2, 32, 9), signal.Forward(Tensor.Zeros([2, 16, 9])).Shape);
        Assert.Equal(new Shape(3, 512), norm.Forward(Tensor.Ones([3, 512])).Shape);
        Assert.True(double.IsFinite(kl.Item()) && kl.Item() >= 0);
        Assert.Equal(0.0, loss(logits, logits).Item());
    }

    [Fact]
    public void Readme_HoldsTheExampleVerbatim()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Backprop.slnx"))) root = Path.GetDirectoryName(root)!;
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).Replace("\r\n", "\n");
        string[] test = File.ReadAllLines(Path.Combine(root, "tests", "Backprop.Tests", "NN", "Layers", "LayersReadmeTests.cs"));
        int begin = Array.FindIndex(test, l => l.Contains("README-LAYERS-BEGIN")), end = Array.FindIndex(test, l => l.Contains("README-LAYERS-END"));
        string block = string.Join("\n", test[(begin + 1)..end].Select(l => l.Length >= 8 ? l[8..] : l.TrimStart()));
        Assert.Contains(block, readme);
    }
}
