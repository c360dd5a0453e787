using Backprop.Data.Transforms;
using Backprop.Tensors;

namespace Backprop.Tests.Data;

public class RandomVerticalFlipTests
{
    private static Tensor Image(int channels, int h, int w)
    {
        var x = new float[channels * h * w];
        for (int i = 0; i < x.Length; i++) x[i] = i + 1;
        return Tensor.FromArray(x, [channels, h, w]);
    }

    [Fact]
    public void FlipsRowsWithProbabilityP()
    {
        Tensor x = Image(2, 3, 2); // per channel: 1 2 / 3 4 / 5 6
        Assert.Same(x, new RandomVerticalFlip(0).Apply(x, new Generator(1)));
        Assert.Equal([5f, 6, 3, 4, 1, 2, 11, 12, 9, 10, 7, 8], new RandomVerticalFlip(1).Apply(x, new Generator(1)).ToArray<float>());
        Assert.Equal([5f, 6, 3, 4, 1, 2], ImageTransforms.VerticalFlip(x.Transpose(1, 2).Transpose(1, 2).Select(0, 0)).ToArray<float>());
        var g = new Generator(11);
        var flip = new RandomVerticalFlip(0.3);
        int flips = 0;
        for (int i = 0; i < 2000; i++) if (!ReferenceEquals(flip.Apply(x, g), x)) flips++;
        Assert.InRange(flips, 600 - 90, 600 + 90); // 2000 · 0.3 ± 4.4 standard deviations
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomVerticalFlip(-0.1));
        Assert.Throws<ArgumentException>(() => new RandomVerticalFlip().Apply(Tensor.FromArray(new float[] { 1, 2 }), new Generator(1)));
    }

    [Fact]
    public void DrawsAsRandomHorizontalFlip_OneUniformPerImage()
    {
        Tensor x = Image(1, 2, 2);
        var gv = new Generator(7);
        var gh = new Generator(7);
        for (int i = 0; i < 50; i++)
        {
            bool v = !ReferenceEquals(new RandomVerticalFlip().Apply(x, gv), x);
            bool h = !ReferenceEquals(new RandomHorizontalFlip().Apply(x, gh), x);
            Assert.Equal(h, v);
        }
    }
}
