using Backprop.Data;
using Backprop.Tensors;

namespace Backprop.Tests.Data;

/// <summary>FashionMnist.Load gives CNN-shaped images on request.</summary>
public class FashionMnistShapeTests
{
    [Fact]
    public void Load_Unflattened_IsNx1x28x28_WithTheSamePixels()
    {
        var (flat, labels) = FashionMnist.Load(FashionMnist.DefaultDirectory, train: false);
        var (images, same) = FashionMnist.Load(FashionMnist.DefaultDirectory, train: false, flatten: false);
        Assert.Equal(new Shape(10000, 784), flat.Shape);
        Assert.Equal(new Shape(10000, 1, 28, 28), images.Shape);
        Assert.Equal(flat.ToArray<float>(), images.ToArray<float>());
        Assert.Equal(labels.ToArray<long>(), same.ToArray<long>());
    }
}
