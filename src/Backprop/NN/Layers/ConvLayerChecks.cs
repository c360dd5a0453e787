namespace Backprop.NN.Layers;

/// <summary>Constructor checks shared by the convolution layers (PyTorch's <c>_ConvNd</c> rules).</summary>
internal static class ConvLayerChecks
{
    /// <summary>Channels, kernel, stride and dilation positive; padding non-negative; groups positive and dividing both channel counts.</summary>
    /// <exception cref="ArgumentException">One of them is not; the message names the layer and the values.</exception>
    public static void Check(string layer, int inChannels, int outChannels, IntPair kernelSize, IntPair stride, IntPair padding, IntPair dilation, int groups)
    {
        if (inChannels <= 0 || outChannels <= 0)
            throw new ArgumentException($"{layer}: channels must be positive, got inChannels {inChannels} and outChannels {outChannels}");
        if (kernelSize.H <= 0 || kernelSize.W <= 0)
            throw new ArgumentException($"{layer}: kernel size must be positive, got {kernelSize}");
        if (stride.H <= 0 || stride.W <= 0)
            throw new ArgumentException($"{layer}: stride must be positive, got {stride}");
        if (padding.H < 0 || padding.W < 0)
            throw new ArgumentException($"{layer}: padding must be non-negative, got {padding}");
        if (dilation.H <= 0 || dilation.W <= 0)
            throw new ArgumentException($"{layer}: dilation must be positive, got {dilation}");
        if (groups <= 0)
            throw new ArgumentException($"{layer}: groups must be positive, got {groups}");
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"{layer}: groups {groups} must divide both inChannels {inChannels} and outChannels {outChannels}");
    }
}
