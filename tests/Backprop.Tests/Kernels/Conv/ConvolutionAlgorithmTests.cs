using Backprop.Kernels.Conv;
using Backprop.Tensors;

namespace Backprop.Tests.Kernels.Conv;

/// <summary>Process-wide switches that change results run alone: no other test may see them flipped.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessSettingsCollection
{
    public const string Name = "process-wide settings that change results";
}

/// <summary>
/// <see cref="ConvolutionAlgorithm.Winograd"/>: on, a LeNet conv2-like layer runs Winograd F(2×2, 5×5); off, the direct
/// product. Both against float64 direct loops: the direct product is the closer one (about 3× on average), and
/// both stay within the documented bounds.
/// </summary>
[Trait("Category", "Kernels")]
[Collection(ProcessSettingsCollection.Name)]
public class ConvolutionAlgorithmTests
{
    [Fact]
    public void WinogradSwitch_ChoosesTheAlgorithm()
    {
        var shape = new Conv2dShape(6, 16, 32, 1, new Window2d(14, 14, 5, 5, 1, 1, 2, 2, 1, 1, 14, 14));
        var g = new Generator(7);
        var x = new float[shape.InputLength];
        var w = new float[shape.WeightLength];
        for (int i = 0; i < x.Length; i++) x[i] = (float)g.NextDouble();
        double bound = 1 / Math.Sqrt(16 * 25);
        for (int i = 0; i < w.Length; i++) w[i] = (float)((g.NextDouble() * 2 - 1) * bound);
        double[] reference = Support.ConvReference.Conv2d(Array.ConvertAll(x, v => (double)v), [6, 16, 14, 14],
            Array.ConvertAll(w, v => (double)v), [32, 16, 5, 5], null, 1, 1, 2, 2, 1, 1, 1, out _);
        var winograd = new float[shape.OutputLength];
        var direct = new float[shape.OutputLength];
        Assert.True(ConvolutionAlgorithm.Winograd); // the default
        Conv2dDriver.Forward<float>(shape, x, w, default, winograd);
        try
        {
            ConvolutionAlgorithm.Winograd = false;
            Conv2dDriver.Forward<float>(shape, x, w, default, direct);
        }
        finally
        {
            ConvolutionAlgorithm.Winograd = true;
        }
        double maxY = reference.Max(Math.Abs), errWinograd = 0, errDirect = 0, maxWinograd = 0, maxDirect = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double ew = Math.Abs(winograd[i] - reference[i]), ed = Math.Abs(direct[i] - reference[i]);
            errWinograd += ew;
            errDirect += ed;
            maxWinograd = Math.Max(maxWinograd, ew);
            maxDirect = Math.Max(maxDirect, ed);
        }
        Assert.False(winograd.AsSpan().SequenceEqual(direct), "the switch changed nothing");
        Assert.True(errDirect * 2 < errWinograd, $"mean error: direct {errDirect / reference.Length:E2}, Winograd {errWinograd / reference.Length:E2}");
        Assert.True(maxWinograd < 5e-6 * maxY, $"Winograd: max error {maxWinograd:E2} for outputs up to {maxY:F3}");
        Assert.True(maxDirect < 2e-6 * maxY, $"direct: max error {maxDirect:E2} for outputs up to {maxY:F3}");
    }
}
