namespace Backprop.NN.Layers;

/// <summary>
/// A (height, width) pair of ints for 2-D layer arguments (kernel size, stride, padding, dilation):
/// an int means the same value for both, a tuple <c>(h, w)</c> gives each, as PyTorch's <c>_pair</c>.
/// </summary>
/// <param name="H">The height (first spatial dim) value.</param>
/// <param name="W">The width (second spatial dim) value.</param>
public readonly record struct IntPair(int H, int W)
{
    /// <summary>The same value for height and width.</summary>
    public static implicit operator IntPair(int value) => new(value, value);

    /// <summary>Separate height and width values.</summary>
    public static implicit operator IntPair((int H, int W) pair) => new(pair.H, pair.W);

    /// <summary>The pair as a tuple, the form the functional API takes.</summary>
    public static implicit operator (int H, int W)(IntPair pair) => (pair.H, pair.W);

    /// <summary>Whether height and width are equal.</summary>
    public bool IsSquare => H == W;

    /// <summary>"3" when both values are equal, else "(3, 5)".</summary>
    public override string ToString() => H == W ? H.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"({H}, {W})";
}
