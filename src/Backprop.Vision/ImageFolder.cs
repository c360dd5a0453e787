using Backprop.Data;
using Backprop.Data.Transforms;
using Backprop.Tensors;

namespace Backprop.Vision;

/// <summary>
/// A folder of images with one subfolder per class, as <c>torchvision.datasets.ImageFolder</c>:
/// <c>root/cat/1.png</c>, <c>root/dog/a/2.jpg</c>. The classes are the subfolders' names in ordinal order
/// (class i is <see cref="Classes"/>[i]); the examples are the image files under each (searched recursively),
/// class by class, ordered by folder path and then file name. Example i is (the decoded image float32
/// [C, H, W] in [0, 1], its class index as an int64 scalar), decoded from disk each time it is read;
/// the default collate stacks a batch into [B, C, H, W] and [B] when every image has the same size.
/// </summary>
/// <remarks>
/// Differences from torchvision, on purpose: folders whose names start with a dot (.git, .ipynb_checkpoints)
/// are not classes, so that tools' folders do not become empty classes; image files are .png, .jpg, .jpeg,
/// .bmp and .webp (any case): torchvision's .ppm, .pgm and .tif(f) are not decoded by SkiaSharp.
/// </remarks>
public sealed class ImageFolder : Dataset<(Tensor Input, Tensor Target)>
{
    /// <summary>The file name endings read as images (compared ignoring case).</summary>
    public static readonly IReadOnlyList<string> Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".webp"];

    private readonly (string Path, int Class)[] _samples;
    private readonly string[] _classes;

    /// <summary>Lists the classes and image files under <paramref name="root"/> (nothing is decoded yet).</summary>
    /// <param name="root">The folder holding one subfolder per class.</param>
    /// <param name="mode">The channels each image is decoded to (torchvision's ImageFolder: RGB).</param>
    /// <param name="transform">Applied to each decoded image (random transforms draw from the reader's generator), or null.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">The folder has no class subfolders, or a class subfolder holds no image file.</exception>
    public ImageFolder(string root, ImageMode mode = ImageMode.Rgb, Transform? transform = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"ImageFolder: the folder {root} does not exist");
        Root = root;
        Mode = mode;
        Transform = transform;
        _classes = [.. Directory.EnumerateDirectories(root).Select(d => Path.GetFileName(d)).OfType<string>().Where(n => !n.StartsWith('.'))];
        Array.Sort(_classes, StringComparer.Ordinal);
        if (_classes.Length == 0)
            throw new InvalidDataException($"ImageFolder: {root} holds no class folders; put the images of each class in a subfolder named after it (root/cat/1.png, root/dog/2.png)");
        var samples = new List<(string, int)>();
        var empty = new List<string>();
        for (int c = 0; c < _classes.Length; c++)
        {
            string dir = Path.Combine(root, _classes[c]);
            var files = Directory.EnumerateFiles(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true })
                .Where(IsImage)
                .Select(f => (Folder: Path.GetDirectoryName(f) ?? "", Name: Path.GetFileName(f), Full: f))
                .ToList();
            files.Sort((a, b) => string.CompareOrdinal(a.Folder, b.Folder) is int byFolder and not 0 ? byFolder : string.CompareOrdinal(a.Name, b.Name));
            if (files.Count == 0) empty.Add(_classes[c]);
            foreach (var f in files) samples.Add((f.Full, c));
        }
        if (empty.Count > 0)
            throw new InvalidDataException(
                $"ImageFolder: found no image file for the class{(empty.Count > 1 ? "es" : "")} {string.Join(", ", empty.Select(e => $"\"{e}\""))} in {root}; " +
                $"image files end in {string.Join(", ", Extensions)}");
        _samples = [.. samples];
    }

    /// <summary>The folder holding the class subfolders.</summary>
    public string Root { get; }

    /// <summary>The channels each image is decoded to.</summary>
    public ImageMode Mode { get; }

    /// <summary>Applied to each decoded image, or null.</summary>
    public Transform? Transform { get; }

    /// <summary>The class names (subfolder names) in class-index order.</summary>
    public IReadOnlyList<string> Classes => _classes;

    /// <summary>Every example's file and class index, in example order.</summary>
    public IReadOnlyList<(string Path, int Class)> Samples => _samples;

    /// <inheritdoc/>
    public override int Count => _samples.Length;

    /// <summary>Example <paramref name="index"/>: the decoded (and transformed) image and its class as an int64 scalar; random transforms draw from <see cref="Generator.Default"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside [0, Count).</exception>
    /// <exception cref="InvalidDataException">The file cannot be decoded (the message names it).</exception>
    public override (Tensor Input, Tensor Target) Get(int index) => Get(index, Generator.Default);

    /// <inheritdoc/>
    public override (Tensor Input, Tensor Target) Get(int index, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        CheckIndex(index, "ImageFolder");
        (string path, int label) = _samples[index];
        Tensor image = ImageDecoder.Decode(path, Mode);
        if (Transform is not null) image = Transform.Apply(image, generator);
        return (image, Tensor.Scalar(label, DType.Int64));
    }

    /// <summary>
    /// Decodes every image once into one tensor, for data sets small enough to keep in memory: images
    /// [N, C, H, W] (untransformed) and labels int64 [N]. Wrap them in a <see cref="TensorDataset"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">A file cannot be decoded, or the images differ in size (the message names the first that does).</exception>
    public (Tensor Images, Tensor Labels) LoadAll()
    {
        Tensor first = ImageDecoder.Decode(_samples[0].Path, Mode);
        Shape shape = first.Shape;
        if ((long)_samples.Length * first.Numel > Array.MaxLength)
            throw new InvalidDataException($"ImageFolder: {_samples.Length} images of {shape} are more numbers than one tensor holds; read them one by one with a DataLoader");
        var images = new float[(long)_samples.Length * first.Numel];
        var labels = new long[_samples.Length];
        for (int i = 0; i < _samples.Length; i++)
        {
            Tensor image = i == 0 ? first : ImageDecoder.Decode(_samples[i].Path, Mode);
            if (image.Shape != shape)
                throw new InvalidDataException(
                    $"ImageFolder: {_samples[i].Path} is {image.Shape.Dims[2]}×{image.Shape.Dims[1]} pixels but {_samples[0].Path} is {shape.Dims[2]}×{shape.Dims[1]}; " +
                    "images loaded into one tensor must have one size (resize them, or read them one by one with a cropping transform)");
            image.AsReadOnlySpan<float>().CopyTo(images.AsSpan(i * first.Numel, first.Numel));
            labels[i] = _samples[i].Class;
        }
        return (Tensor.WrapArray(images, [_samples.Length, shape[0], shape[1], shape[2]]), Tensor.WrapArray(labels, [_samples.Length]));
    }

    private static bool IsImage(string path)
    {
        foreach (string ext in Extensions)
            if (path.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }
}
