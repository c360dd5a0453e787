using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Backprop.Data.Transforms;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Vision;

namespace Backprop.Cli.Recipes;

/// <summary>
/// What a model trained on an image folder needs to be rebuilt and used (`backprop predict`, `backprop eval`):
/// the class names, the size and channels the images were brought to, the training split's per-channel mean and
/// standard deviation, and what reproduces the held-out split (the folder, its file list's fingerprint and the
/// test fraction; the seed is the checkpoint's "seed"). Stored as JSON in the checkpoint's "image" metadata entry.
/// </summary>
internal sealed record ImageModelInfo
{
    /// <summary>The checkpoint metadata key that holds this record.</summary>
    public const string MetadataKey = "image";

    /// <summary>Hidden width of the classifier after the convolutions.</summary>
    public const int HiddenWidth = 128;

    /// <summary>Feature maps wider or taller than this (after two 2×2 poolings) are averaged down to it before the classifier.</summary>
    public const int MaxFeatureSide = 7;

    /// <summary>The folder trained on (absolute).</summary>
    public required string Source { get; init; }

    /// <summary>The class names (subfolder names) in class-index order.</summary>
    public required string[] Classes { get; init; }

    /// <summary>Image height the model takes.</summary>
    public required int Height { get; init; }

    /// <summary>Image width the model takes.</summary>
    public required int Width { get; init; }

    /// <summary>1 (grayscale: every image of the folder had R = G = B) or 3 (RGB).</summary>
    public required int Channels { get; init; }

    /// <summary>The training split's mean of every channel (pixels in [0, 1], after resizing).</summary>
    public required double[] Mean { get; init; }

    /// <summary>The training split's standard deviation of every channel (1 where a channel is constant).</summary>
    public required double[] Std { get; init; }

    /// <summary>Images in the folder when it was trained on.</summary>
    public required int ImageCount { get; init; }

    /// <summary>A fingerprint of the folder's image files (relative paths and classes, in example order), to notice a changed folder.</summary>
    public required string Fingerprint { get; init; }

    /// <summary>The share of images held out for testing.</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>The image mode files are decoded in.</summary>
    [JsonIgnore]
    public ImageMode Mode => Channels == 1 ? ImageMode.Grayscale : ImageMode.Rgb;

    /// <summary>Outputs of the model: one per class.</summary>
    [JsonIgnore]
    public int Outputs => Classes.Length;

    /// <summary>"1×28×28": channels × height × width.</summary>
    [JsonIgnore]
    public string InputText => string.Create(CultureInfo.InvariantCulture, $"{Channels}×{Height}×{Width}");

    /// <summary>
    /// The Fashion-MNIST recipe's CNN for this input: conv 5×5 (C→32, pad 2) → ReLU → maxpool 2 → conv 5×5 (32→64,
    /// pad 2) → ReLU → maxpool 2 → (adaptive average pool to at most 7×7 when the maps are larger) → flatten →
    /// 128 → ReLU → classes, with its Conv2d → ReLU → MaxPool2d and Linear → ReLU runs fused. For 1×28×28 it is
    /// exactly `--model cnn` with another number of classes.
    /// </summary>
    public Sequential CreateModel(Generator? generator = null)
    {
        var (fh, fw) = FeatureSize(Height, Width);
        var layers = new List<Backprop.NN.Module>
        {
            new Conv2d(Channels, 32, 5, padding: 2, generator: generator), new Relu(), new MaxPool2d(2),
            new Conv2d(32, 64, 5, padding: 2, generator: generator), new Relu(), new MaxPool2d(2),
        };
        int ph = Height / 4, pw = Width / 4;
        if (ph != fh || pw != fw) layers.Add(new AdaptiveAvgPool2d((fh, fw)));
        layers.Add(new Flatten());
        layers.Add(new Linear(64 * fh * fw, HiddenWidth, generator: generator));
        layers.Add(new Relu());
        layers.Add(new Linear(HiddenWidth, Outputs, generator: generator));
        return new Sequential([.. layers]).Fuse();
    }

    /// <summary>The feature map's size entering the classifier: (H/4, W/4), each at most <see cref="MaxFeatureSide"/>.</summary>
    public static (int Height, int Width) FeatureSize(int height, int width)
        => (Math.Min(height / 4, MaxFeatureSide), Math.Min(width / 4, MaxFeatureSide));

    /// <summary>A decoded image [C, h, w] in [0, 1] brought to the model's input: resized (bilinear, antialiased) to Height × Width if it differs.</summary>
    public Tensor Fit(Tensor image)
        => image.Shape[1] == Height && image.Shape[2] == Width ? image : Resize.To(image, Height, Width);

    /// <summary>Normalizes images [N, C, H, W] in place with the training split's per-channel mean and std.</summary>
    public void NormalizeInPlace(Tensor images)
    {
        Span<float> v = images.AsSpan<float>();
        int plane = Height * Width;
        int n = images.Shape[0];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < Channels; c++)
            {
                Span<float> p = v.Slice((i * Channels + c) * plane, plane);
                System.Numerics.Tensors.TensorPrimitives.Subtract(p, (float)Mean[c], p); // as Normalize: sub_(mean).div_(std)
                System.Numerics.Tensors.TensorPrimitives.Divide(p, (float)Std[c], p);
            }
    }

    /// <summary>The JSON text stored in a checkpoint.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ImageModelInfoJson.Default.ImageModelInfo);

    /// <summary>Reads the record an image-folder run stored in a checkpoint's metadata.</summary>
    /// <exception cref="InvalidDataException">The checkpoint was not trained on an image folder, or its record is damaged.</exception>
    public static ImageModelInfo FromMetadata(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (!metadata.TryGetValue(MetadataKey, out string? json))
            throw new InvalidDataException($"{path} was not trained on an image folder (`backprop train --data DIR/`); it has no '{MetadataKey}' entry");
        ImageModelInfo? info;
        try
        {
            info = JsonSerializer.Deserialize(json, ImageModelInfoJson.Default.ImageModelInfo);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: the '{MetadataKey}' entry is damaged: {e.Message}", e);
        }
        if (info is null || info.Classes.Length < 2 || info.Channels is not (1 or 3) || info.Height < 4 || info.Width < 4
            || info.Mean.Length != info.Channels || info.Std.Length != info.Channels || info.Std.Any(s => !(s > 0)))
            throw new InvalidDataException($"{path}: the '{MetadataKey}' entry is inconsistent (classes, image size, channels or normalization)");
        return info;
    }
}

/// <summary>Source-generated JSON for <see cref="ImageModelInfo"/> (no reflection, so trimming keeps it working).</summary>
[JsonSerializable(typeof(ImageModelInfo))]
internal sealed partial class ImageModelInfoJson : JsonSerializerContext;
