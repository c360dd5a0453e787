namespace Backprop.Tensors;

/// <summary>How <see cref="Tensor.Div(Tensor, RoundingMode)"/> rounds the quotient (torch.div's rounding_mode).</summary>
public enum RoundingMode
{
    /// <summary>Toward zero ("trunc"): 7 / −2 = −3, as C#'s integer division.</summary>
    Trunc,
    /// <summary>Toward −∞ ("floor"): 7 / −2 = −4, as Python's <c>//</c>.</summary>
    Floor,
}
