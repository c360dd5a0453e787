namespace Backprop.NN.Layers;

/// <summary>
/// The <c>padding</c> argument of a convolution layer, as PyTorch takes it: an int (both sides of
/// every spatial dim), a tuple <c>(h, w)</c>, or the string <c>"valid"</c> (no padding) or <c>"same"</c>
/// (the output has the input's size; stride 1 only; when the total padding dilation·(kernel − 1) is odd,
/// the extra row or column goes on the bottom or right, as PyTorch).
/// </summary>
public readonly record struct ConvPadding
{
    private ConvPadding(IntPair size, bool same)
    {
        Size = size;
        IsSame = same;
    }

    /// <summary>The explicit padding per side (zero for "valid" and unused for "same").</summary>
    public IntPair Size { get; }

    /// <summary>True for "same".</summary>
    public bool IsSame { get; }

    /// <summary>Parses "same" or "valid".</summary>
    /// <exception cref="ArgumentException">Any other string.</exception>
    public static ConvPadding Parse(string padding) => padding switch
    {
        "same" => new ConvPadding(default, true),
        "valid" => new ConvPadding(default, false),
        _ => throw new ArgumentException($"Conv: invalid padding string '{padding}', should be one of 'valid', 'same' (or give an int or an (h, w) pair)"),
    };

    /// <summary>The same padding on both sides of both spatial dims.</summary>
    public static implicit operator ConvPadding(int padding) => new(padding, false);

    /// <summary>Separate height and width padding.</summary>
    public static implicit operator ConvPadding((int H, int W) padding) => new(padding, false);

    /// <summary>Explicit padding from a pair.</summary>
    public static implicit operator ConvPadding(IntPair padding) => new(padding, false);

    /// <summary>"same" or "valid" (see <see cref="Parse"/>).</summary>
    /// <exception cref="ArgumentException">Any other string.</exception>
    public static implicit operator ConvPadding(string padding) => Parse(padding);

    /// <summary>"same", or the explicit padding.</summary>
    public override string ToString() => IsSame ? "same" : Size.ToString();
}
