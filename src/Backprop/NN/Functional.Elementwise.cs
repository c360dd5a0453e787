using Backprop.Ops.Elementwise;
using Backprop.Tensors;

namespace Backprop.NN;

/// <summary>Stateless neural-network functions (activations, losses, ...), PyTorch's torch.nn.functional.</summary>
public static partial class Functional
{
    /// <summary>max(x, 0) element-wise.</summary>
    public static Tensor Relu(Tensor x) => x.Relu();

    /// <summary>x for x &gt; 0, negativeSlope·x otherwise.</summary>
    public static Tensor LeakyRelu(Tensor x, double negativeSlope = 0.01) => x.LeakyRelu(negativeSlope);

    /// <summary>Gaussian error linear unit, exact (erf) or tanh-approximated.</summary>
    public static Tensor Gelu(Tensor x, GeluApproximation approximate = GeluApproximation.None) => x.Gelu(approximate);

    /// <summary>ln(1 + e^(β·x))/β, linear where β·x &gt; threshold.</summary>
    public static Tensor Softplus(Tensor x, double beta = 1, double threshold = 20) => x.Softplus(beta, threshold);

    /// <summary>x·σ(x) (SiLU, swish).</summary>
    public static Tensor Silu(Tensor x) => x.Silu();

    /// <summary>1 / (1 + e⁻ˣ).</summary>
    public static Tensor Sigmoid(Tensor x) => x.Sigmoid();

    /// <summary>Hyperbolic tangent.</summary>
    public static Tensor Tanh(Tensor x) => x.Tanh();
}
