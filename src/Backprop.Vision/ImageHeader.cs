namespace Backprop.Vision;

/// <summary>What an image file's header says (<see cref="ImageDecoder.ReadHeader"/>): its size and whether its pixels are stored as grayscale.</summary>
/// <param name="Width">Pixels per row.</param>
/// <param name="Height">Rows.</param>
/// <param name="IsGrayscale">The file stores one gray channel (an 8-bit grayscale PNG or JPEG), so decoding it as <see cref="ImageMode.Grayscale"/> loses nothing.</param>
public readonly record struct ImageHeader(int Width, int Height, bool IsGrayscale);
