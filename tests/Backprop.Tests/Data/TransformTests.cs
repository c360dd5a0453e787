using Backprop.Data.Transforms;
using Backprop.Kernels.Image;
using Backprop.Tensors;

namespace Backprop.Tests.Data;

/// <summary>Image transforms: hand-worked values, seeded repeatability, PyTorch's parameter rules and errors.</summary>
public class TransformTests
{
    private static Tensor Image(int channels, int h, int w)
    {
        var x = new float[channels * h * w];
        for (int i = 0; i < x.Length; i++) x[i] = i + 1;
        return Tensor.FromArray(x, [channels, h, w]);
    }

    [Fact]
    public void Normalize_PerChannel()
    {
        Tensor x = Tensor.FromArray(new float[] { 1, 2, 3, 4 }, [2, 1, 2]);
        Tensor y = new Normalize([1, 2], [2, 0.5]).Apply(x);
        Assert.Equal([0f, 0.5f, 2, 4], y.ToArray<float>());
        Tensor batch = Tensor.FromArray(new float[] { 1, 2, 3, 4, 1, 2, 3, 4 }, [2, 2, 1, 2]);
        Assert.Equal([0f, 0.5f, 2, 4, 0, 0.5f, 2, 4], new Normalize([1, 2], [2, 0.5]).Apply(batch).ToArray<float>());
    }

    [Fact]
    public void Normalize_OneMean_IsBitIdenticalToTensorArithmetic_OnAnyShape()
    {
        Tensor x = Tensor.Uniform([37, 29], 0, 1, generator: new Generator(3));
        Tensor expected = (x - 0.2860) / 0.3530;
        Assert.Equal(expected.ToArray<float>(), new Normalize(0.2860, 0.3530).Apply(x).ToArray<float>());
        Tensor x64 = Tensor.Uniform([5], 0, 1, DType.Float64, new Generator(4));
        Assert.Equal(((x64 - 0.5) / 0.25).ToArray<double>(), new Normalize(0.5, 0.25).Apply(x64).ToArray<double>());
    }

    [Fact]
    public void Normalize_RefusesBadArguments()
    {
        Assert.Contains("std of channel 1 is zero", Assert.Throws<ArgumentException>(() => new Normalize([0, 0], [1, 0])).Message);
        Assert.Contains("2 means and 1 stds", Assert.Throws<ArgumentException>(() => new Normalize([0, 0], [1])).Message);
        Assert.Contains("need an image [..., 2, H, W], got shape [3, 2, 2]",
            Assert.Throws<ArgumentException>(() => new Normalize([0, 0], [1, 1]).Apply(Image(3, 2, 2))).Message);
        Assert.Contains("floating-point tensor, got int64", Assert.Throws<ArgumentException>(() => new Normalize(0, 1).Apply(Tensor.Zeros([2], DType.Int64))).Message);
    }

    [Theory]
    [InlineData(PaddingMode.Constant, new float[] { 9, 9, 1, 2, 3, 9, 9 })]
    [InlineData(PaddingMode.Edge, new float[] { 1, 1, 1, 2, 3, 3, 3 })]
    [InlineData(PaddingMode.Reflect, new float[] { 3, 2, 1, 2, 3, 2, 1 })]
    [InlineData(PaddingMode.Symmetric, new float[] { 2, 1, 1, 2, 3, 3, 2 })]
    public void Pad_Modes(PaddingMode mode, float[] expected)
    {
        Tensor row = Tensor.FromArray(new float[] { 1, 2, 3 }, [1, 3]);
        Tensor padded = ImageTransforms.Pad(row, 2, 0, 2, 0, fill: 9, mode: mode);
        Assert.Equal(new Shape(1, 7), padded.Shape);
        Assert.Equal(expected, padded.ToArray<float>());
    }

    /// <summary>numpy.pad's reflect and symmetric for any width, one step of mirroring at a time.</summary>
    private static int Mirror(int i, int n, bool repeatEdge)
    {
        while (i < 0 || i >= n)
        {
            if (i < 0) i = repeatEdge ? -i - 1 : -i;
            else i = repeatEdge ? 2 * n - 1 - i : 2 * n - 2 - i;
        }
        return i;
    }

    [Fact]
    public void BorderIndex_MirrorsAnyDistanceAway()
    {
        for (int n = 1; n <= 5; n++)
            for (int i = -23; i < 23; i++)
            {
                Assert.Equal(n == 1 ? 0 : Mirror(i, n, false), ImageKernels.BorderIndex(i, n, Border.Reflect));
                Assert.Equal(Mirror(i, n, true), ImageKernels.BorderIndex(i, n, Border.Symmetric));
                Assert.Equal(Math.Clamp(i, 0, n - 1), ImageKernels.BorderIndex(i, n, Border.Edge));
                Assert.Equal(i >= 0 && i < n ? i : -1, ImageKernels.BorderIndex(i, n, Border.Constant));
            }
    }

    [Fact]
    public void Crop_OutsideTheImage_IsZero_AndFlipMirrorsRows()
    {
        Tensor x = Tensor.FromArray(new long[] { 1, 2, 3, 4 }, [2, 2]);
        Assert.Equal([0L, 0, 2, 0, 4, 0], ImageTransforms.Crop(x, -1, 1, 3, 2).ToArray<long>());
        Assert.Equal([3f, 2, 1, 6, 5, 4], ImageTransforms.HorizontalFlip(Image(1, 2, 3)).ToArray<float>());
    }

    [Fact]
    public void RandomCrop_IsPadThenACropAtTheDrawnCorner()
    {
        Tensor x = Image(2, 5, 5);
        var crop = new RandomCrop(5, padding: 2, fill: -1);
        var seen = new HashSet<(int, int)>();
        var g = new Generator(7);
        var replay = new Generator(7);
        for (int i = 0; i < 200; i++)
        {
            Tensor y = crop.Apply(x, g);
            int top = (int)replay.NextInt64(5), left = (int)replay.NextInt64(5); // the top row is drawn first, as torchvision
            seen.Add((top, left));
            Tensor expected = ImageTransforms.Crop(ImageTransforms.Pad(x, 2, 2, 2, 2, fill: -1), top, left, 5, 5);
            Assert.Equal(expected.ToArray<float>(), y.ToArray<float>());
        }
        Assert.Equal(25, seen.Count);
    }

    [Fact]
    public void RandomCrop_PadIfNeeded_AndItsErrors()
    {
        Tensor x = Image(1, 3, 4);
        Tensor y = new RandomCrop((5, 4), padIfNeeded: true).Apply(x, new Generator(1));
        Assert.Equal(new Shape(1, 5, 4), y.Shape); // 3 rows padded by 2 on both sides = 7, a window of 5 drawn in it
        var e = Assert.Throws<ArgumentException>(() => new RandomCrop(5).Apply(x, new Generator(1)));
        Assert.Contains("RandomCrop: the crop 5×5 is larger than the image 3×4", e.Message);
        Assert.Contains("expected an image tensor [..., H, W], got shape [4]", Assert.Throws<ArgumentException>(() => new RandomCrop(2).Apply(Tensor.Zeros([4]))).Message);
        Assert.Throws<ArgumentException>(() => new RandomCrop(0));
        Assert.Throws<ArgumentException>(() => new RandomCrop(3, padding: -1));
        // An exact fit draws nothing: the generator is left as it was.
        var g = new Generator(5);
        Assert.Equal(x.ToArray<float>(), new RandomCrop((3, 4)).Apply(x, g).ToArray<float>());
        Assert.Equal(new Generator(5).NextUInt64(), g.NextUInt64());
    }

    [Fact]
    public void RandomHorizontalFlip_FlipsWithProbabilityP()
    {
        Tensor x = Image(1, 2, 3);
        Assert.Same(x, new RandomHorizontalFlip(0).Apply(x, new Generator(1)));
        Assert.Equal([3f, 2, 1, 6, 5, 4], new RandomHorizontalFlip(1).Apply(x, new Generator(1)).ToArray<float>());
        var g = new Generator(11);
        var flip = new RandomHorizontalFlip(0.3);
        int flips = 0;
        for (int i = 0; i < 2000; i++) if (!ReferenceEquals(flip.Apply(x, g), x)) flips++;
        Assert.InRange(flips, 600 - 90, 600 + 90); // 2000 · 0.3 ± 4.4 standard deviations
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomHorizontalFlip(1.5));
    }

    [Fact]
    public void Rotate90_CounterClockwise_AndAffineTurnsTheOtherWay()
    {
        Tensor x = Image(1, 3, 3); // 1 2 3 / 4 5 6 / 7 8 9
        float[] ccw = [3, 6, 9, 2, 5, 8, 1, 4, 7];
        Assert.Equal(ccw, ImageTransforms.Rotate(x, 90).ToArray<float>());
        Assert.Equal(ccw, ImageTransforms.Affine(x, -90, (0, 0), 1, (0, 0)).ToArray<float>());
        Assert.Equal(ccw, ImageTransforms.Rotate(x, 90, Interpolation.Bilinear).ToArray<float>().Select(v => MathF.Round(v, 4)));
    }

    [Fact]
    public void Affine_TranslatesByWholePixels_FillingTheGap()
    {
        Tensor x = Image(2, 2, 3);
        Assert.Equal([-1f, 1, 2, -1, 4, 5, -1, 7, 8, -1, 10, 11], ImageTransforms.Affine(x, 0, (1, 0), 1, (0, 0), fill: -1).ToArray<float>());
        Assert.Equal([4f, 5, 6, -1, -1, -1, 10, 11, 12, -1, -1, -1], ImageTransforms.Affine(x, 0, (0, -1), 1, (0, 0), fill: -1).ToArray<float>());
    }

    [Fact]
    public void Affine_Bilinear_BlendsTheFillThroughTheSampledMask_AsTorchvision()
    {
        // Row [4, 8] moved right by half a pixel: x = 0 samples -0.5 (half outside): the zero-padded sample 0.5·4
        // times the mask 0.5, plus (1 - 0.5)·fill; x = 1 samples 0.5, the mean of both pixels.
        Tensor row = Tensor.FromArray(new double[] { 4, 8 }, [1, 2]);
        Assert.Equal([0.25 * 4 + 0.5 * 2, 6], ImageTransforms.Affine(row, 0, (0.5, 0), 1, (0, 0), Interpolation.Bilinear, fill: 2).ToArray<double>());
    }

    [Fact]
    public void RandomAffine_DrawsInTorchvisionsOrder_AndApplyUsesTheDraw()
    {
        var affine = new RandomAffine(30, translate: (0.2, 0.1), scale: (0.8, 1.2), shear: 10);
        var replay = new Generator(21);
        double angle = -30 + 60 * replay.NextDouble();
        double tx = Math.Round(-0.2 * 10 + 0.4 * 10 * replay.NextDouble()), ty = Math.Round(-0.1 * 20 + 0.2 * 20 * replay.NextDouble());
        double scale = 0.8 + (1.2 - 0.8) * replay.NextDouble(), shear = -10 + 20 * replay.NextDouble();
        var p = affine.DrawParameters(10, 20, new Generator(21));
        Assert.Equal(angle, p.Angle);
        Assert.Equal(((int)tx, (int)ty), p.Translate);
        Assert.Equal(scale, p.Scale);
        Assert.Equal((shear, 0.0), p.Shear);

        Tensor x = Tensor.Uniform([3, 20, 10], 0, 1, generator: new Generator(2));
        Tensor expected = ImageTransforms.Affine(x, p.Angle, p.Translate, p.Scale, p.Shear, fill: 0);
        Assert.Equal(expected.ToArray<float>(), affine.Apply(x, new Generator(21)).ToArray<float>());
        Assert.Equal(affine.Apply(x, new Generator(22)).ToArray<float>(), affine.Apply(x, new Generator(22)).ToArray<float>());
    }

    [Fact]
    public void RandomAffine_AndRotation_RefuseWhatTorchvisionRefuses()
    {
        Assert.Contains("must be 0 or positive", Assert.Throws<ArgumentException>(() => new RandomAffine(-5)).Message);
        Assert.Contains("translation values should be between 0 and 1", Assert.Throws<ArgumentException>(() => new RandomAffine(0, translate: (1.5, 0))).Message);
        Assert.Contains("scale values should be positive", Assert.Throws<ArgumentException>(() => new RandomAffine(0, scale: (0, 1))).Message);
        Assert.Contains("min ≤ max", Assert.Throws<ArgumentException>(() => new RandomRotation((10, -10))).Message);
        Assert.Contains("floating-point image, got int64", Assert.Throws<ArgumentException>(() => new RandomRotation(10).Apply(Tensor.Zeros([2, 2], DType.Int64))).Message);
    }

    [Fact]
    public void RandomRotation_RotatesByTheDrawnAngle()
    {
        Tensor x = Tensor.Uniform([1, 9, 9], 0, 1, generator: new Generator(2));
        double angle = -15 + 30 * new Generator(8).NextDouble();
        Tensor expected = ImageTransforms.Rotate(x, angle, Interpolation.Bilinear, fill: 0.5);
        Assert.Equal(expected.ToArray<float>(), new RandomRotation(15, Interpolation.Bilinear, fill: 0.5).Apply(x, new Generator(8)).ToArray<float>());
    }

    [Fact]
    public void ToTensor_InterleavedBytes_BecomeChannelPlanesOver255()
    {
        byte[] hwc = [0, 10, 20, 255, 11, 21, 2, 12, 22, 3, 13, 23]; // 2×2 pixels of (r, g, b)
        Tensor t = ToTensor.FromBytes(hwc, 2, 2, 3);
        Assert.Equal(new Shape(3, 2, 2), t.Shape);
        Assert.Equal([0f, 1, 2 / 255f, 3 / 255f, 10 / 255f, 11 / 255f, 12 / 255f, 13 / 255f, 20 / 255f, 21 / 255f, 22 / 255f, 23 / 255f], t.ToArray<float>());
        Assert.Contains("has 12 bytes, got 11", Assert.Throws<ArgumentException>(() => ToTensor.FromBytes(hwc[..11], 2, 2, 3)).Message);
    }

    [Fact]
    public void Compose_AppliesInOrder_FromOneGenerator()
    {
        Tensor x = Image(1, 4, 4);
        var both = new Compose(new RandomCrop(3), new Lambda(t => t * 2), new RandomHorizontalFlip());
        var g = new Generator(4);
        Tensor stepwise = new RandomHorizontalFlip().Apply(new RandomCrop(3).Apply(x, g) * 2, g);
        Assert.Equal(stepwise.ToArray<float>(), both.Apply(x, new Generator(4)).ToArray<float>());
        Assert.Throws<ArgumentException>(() => new Compose(new RandomCrop(3), null!));
    }
}
