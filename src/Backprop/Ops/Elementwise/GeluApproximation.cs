
namespace Backprop.Ops.Elementwise;

/// <summary>Which GELU formula to use (PyTorch's <c>approximate</c> argument).</summary>
public enum GeluApproximation
{
    /// <summary>Exact: x·Φ(x) = ½·x·(1 + erf(x/√2)).</summary>
    None,
    /// <summary>½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    Tanh,
}
