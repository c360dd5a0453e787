using Backprop.Tensors;

namespace Backprop.NN;

public static partial class Functional
{
    /// <summary>Softmax along <paramref name="dim"/>; see <see cref="Tensor.Softmax(int)"/>.</summary>
    public static Tensor Softmax(Tensor input, int dim) => input.Softmax(dim);

    /// <summary>Log-softmax along <paramref name="dim"/>; see <see cref="Tensor.LogSoftmax(int)"/>.</summary>
    public static Tensor LogSoftmax(Tensor input, int dim) => input.LogSoftmax(dim);
}
