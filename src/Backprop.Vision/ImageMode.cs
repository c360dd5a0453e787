namespace Backprop.Vision;

/// <summary>The channels a decoded image is given (torchvision's <c>ImageReadMode</c>).</summary>
public enum ImageMode
{
    /// <summary>Red, green, blue: [3, H, W] (alpha dropped, as PIL's <c>convert("RGB")</c>, which torchvision's ImageFolder uses).</summary>
    Rgb,
    /// <summary>Luma: [1, H, W], L = (19595 R + 38470 G + 7471 B + 2¹⁵) >> 16, PIL's <c>convert("L")</c> (ITU-R 601-2).</summary>
    Grayscale,
    /// <summary>Red, green, blue, alpha (not premultiplied): [4, H, W].</summary>
    RgbAlpha,
}
