using Backprop.Autograd;
using Backprop.Kernels.Conv;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Kernels.Conv;

/// <summary>Process-wide switches that change results run alone: no other test may see them flipped.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessSettingsCollection
{
    public const string Name = "process-wide settings that change results";

    /// <summary>Runs <paramref name="action"/> under <paramref name="policy"/>, then restores the default.</summary>
    public static void WithWinograd(WinogradPolicy policy, Action action)
    {
        try
        {
            ConvolutionAlgorithm.Winograd = policy;
            action();
        }
        finally
        {
            ConvolutionAlgorithm.Winograd = WinogradPolicy.Auto;
        }
    }
}

/// <summary>
/// <see cref="ConvolutionAlgorithm.Winograd"/>: by default a LeNet conv2-like layer runs Winograd F(2×2, 5×5), Off gives
/// the direct product, and both stay within the documented error of float64 direct loops (the direct product the closer,
/// about 3× on average). Always puts small layers on the Winograd path, so that gradient checks (float64, central
/// differences) can go through it: the plain convolution at 5×5 and 3×3, the fused conv + ReLU + pool (its tiles the
/// pooling windows) and the transposed convolution, whose forward and dx are the adjoint's.
/// </summary>
[Trait("Category", "Kernels")]
[Collection(ProcessSettingsCollection.Name)]
public class ConvolutionAlgorithmTests
{
    [Fact]
    public void WinogradPolicy_ChoosesTheAlgorithm()
    {
        var shape = new Conv2dShape(16, 16, 32, 1, new Window2d(14, 14, 5, 5, 1, 1, 2, 2, 1, 1, 14, 14));
        var g = new Generator(7);
        var x = new float[shape.InputLength];
        var w = new float[shape.WeightLength];
        for (int i = 0; i < x.Length; i++) x[i] = (float)g.NextDouble();
        double bound = 1 / Math.Sqrt(16 * 25);
        for (int i = 0; i < w.Length; i++) w[i] = (float)((g.NextDouble() * 2 - 1) * bound);
        double[] reference = ConvReference.Conv2d(Array.ConvertAll(x, v => (double)v), [16, 16, 14, 14],
            Array.ConvertAll(w, v => (double)v), [32, 16, 5, 5], null, 1, 1, 2, 2, 1, 1, 1, out _);
        var winograd = new float[shape.OutputLength];
        var direct = new float[shape.OutputLength];
        Assert.Equal(WinogradPolicy.Auto, ConvolutionAlgorithm.Winograd); // the default
        Conv2dDriver.Forward<float>(shape, x, w, default, winograd);
        ProcessSettingsCollection.WithWinograd(WinogradPolicy.Off, () => Conv2dDriver.Forward<float>(shape, x, w, default, direct));
        double maxY = reference.Max(Math.Abs), errWinograd = 0, errDirect = 0, maxWinograd = 0, maxDirect = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double ew = Math.Abs(winograd[i] - reference[i]), ed = Math.Abs(direct[i] - reference[i]);
            errWinograd += ew;
            errDirect += ed;
            maxWinograd = Math.Max(maxWinograd, ew);
            maxDirect = Math.Max(maxDirect, ed);
        }
        Assert.False(winograd.AsSpan().SequenceEqual(direct), "the policy changed nothing");
        Assert.True(errDirect * 2 < errWinograd, $"mean error: direct {errDirect / reference.Length:E2}, Winograd {errWinograd / reference.Length:E2}");
        Assert.True(maxWinograd < 5e-6 * maxY, $"Winograd: max error {maxWinograd:E2} for outputs up to {maxY:F3}");
        Assert.True(maxDirect < 2e-6 * maxY, $"direct: max error {maxDirect:E2} for outputs up to {maxY:F3}");
    }

    [Fact]
    public void WinogradPolicy_AutoSkipsSmallBatches_AlwaysTakesThem()
    {
        var lenet = new Conv2dShape(64, 32, 64, 1, new Window2d(14, 14, 5, 5, 1, 1, 2, 2, 1, 1, 14, 14));
        Assert.True(Winograd.Applies<float>(lenet));
        Assert.False(Winograd.Applies<float>(lenet with { N = 1 }));     // the weights' transform costs more than it saves
        Assert.False(Winograd.Applies<float>(lenet with { C = 1 }));     // a first layer
        Assert.False(Winograd.Applies<float>(lenet with { Groups = 2 })); // not a shape it computes
        ProcessSettingsCollection.WithWinograd(WinogradPolicy.Always, () =>
        {
            Assert.True(Winograd.Applies<float>(lenet with { N = 1 }));
            Assert.True(Winograd.Applies<float>(lenet with { C = 1 }));
            Assert.False(Winograd.Applies<float>(lenet with { Groups = 2 }));
        });
        ProcessSettingsCollection.WithWinograd(WinogradPolicy.Off, () => Assert.False(Winograd.Applies<float>(lenet)));
    }

    public static TheoryData<int[], int[], int> WinogradGradCases => new()
    {
        // input [N, C, H, W], weight [O, C, k, k], padding
        { [2, 3, 6, 7], [4, 3, 5, 5], 2 },  // F(2×2, 5×5), odd output width
        { [1, 2, 7, 6], [3, 2, 5, 5], 0 },  // no padding (the adjoint pads 4)
        { [2, 3, 5, 6], [4, 3, 3, 3], 1 },  // F(2×2, 3×3), odd output height
        { [1, 2, 6, 6], [3, 2, 3, 3], 2 },  // the most padding a 3×3 window takes
    };

    [Theory]
    [MemberData(nameof(WinogradGradCases))]
    public void GradCheck_ThroughWinograd(int[] xs, int[] ws, int padding)
        => ProcessSettingsCollection.WithWinograd(WinogradPolicy.Always, () =>
            GradCheck.Verify(v => Functional.Conv2d(v[0], v[1], v[2], 1, padding), [T.Param(1, xs), T.Param(2, ws), T.Param(3, ws[0])]));

    [Fact]
    public void GradCheck_FusedReluPoolThroughWinograd()
        => ProcessSettingsCollection.WithWinograd(WinogradPolicy.Always, () =>
            GradCheck.Verify(v => Functional.Conv2dReluMaxPool2d(v[0], v[1], v[2], (1, 1), (2, 2), (1, 1), 1),
                [T.Param(1, 2, 3, 6, 7), T.Param(2, 4, 3, 5, 5), T.Param(3, 4)]));

    [Fact]
    public void GradCheck_TransposedConvolutionThroughWinograd()
        => ProcessSettingsCollection.WithWinograd(WinogradPolicy.Always, () =>
            GradCheck.Verify(v => Functional.ConvTranspose2d(v[0], v[1], v[2], (1, 1), (1, 2), (0, 0), 1, (1, 1)),
                [T.Param(1, 2, 3, 4, 5), T.Param(2, 3, 4, 5, 5), T.Param(3, 4)]));
}
