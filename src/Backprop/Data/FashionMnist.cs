using Backprop.Tensors;

namespace Backprop.Data;

/// <summary>
/// Loads Fashion-MNIST (or MNIST) from IDX files: images as float32 [N, 784] (or [N, 1, 28, 28] for a
/// CNN, <c>flatten: false</c>) scaled to [0, 1], labels as int64 [N]. The Debian package dataset-fashion-mnist installs the files in
/// <see cref="DefaultDirectory"/>.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's dataset-fashion-mnist puts the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Class names in label order.</summary>
    public static readonly string[] ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Mean and standard deviation of the training pixels (after /255), for normalisation.</summary>
    public const double PixelMean = 0.2860, PixelStd = 0.3530;

    /// <summary>Height and width of every image, in pixels.</summary>
    public const int ImageSide = 28;

    /// <summary>Number of classes; every label is in [0, ClassCount).</summary>
    public const int ClassCount = 10;

    /// <summary>Loads the training (60,000) or test (10,000) split: images [N, 784], or [N, 1, 28, 28] when <paramref name="flatten"/> is false.</summary>
    /// <exception cref="DirectoryNotFoundException">The directory is missing (the message says how to install the data).</exception>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">
    /// A file is malformed or not a regular file, images are not 28×28, image and label counts differ,
    /// there are no images, or a label is outside [0, 10); the message names the file.
    /// </exception>
    public static (Tensor Images, Tensor Labels) Load(string directory, bool train, bool flatten = true)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException(
                $"Fashion-MNIST: data directory not found: {directory}. Install the data set with `sudo apt-get install dataset-fashion-mnist` " +
                $"(it goes to {DefaultDirectory}) or load it from the directory that holds it.");
        string prefix = train ? "train" : "t10k";
        string imagesPath = Find(directory, $"{prefix}-images-idx3-ubyte");
        string labelsPath = Find(directory, $"{prefix}-labels-idx1-ubyte");

        // Every header is checked before the image buffer is made; the images are then streamed
        // straight into the float array, so the peak memory of a load is the result plus one chunk.
        using IdxStream images = IdxStream.Open(imagesPath);
        if (images.Magic != 2051 || images.Dims.Length != 3)
            throw new InvalidDataException($"{imagesPath}: magic number {images.Magic} with {images.Dims.Length} dimensions is not an image file (expected 2051 with 3 dimensions)");
        if (images.Dims[1] != ImageSide || images.Dims[2] != ImageSide)
            throw new InvalidDataException(
                $"{imagesPath}: images are {images.Dims[1]}×{images.Dims[2]} pixels; Fashion-MNIST images are {ImageSide}×{ImageSide}");
        int n = images.Dims[0];
        if (n == 0)
            throw new InvalidDataException($"{imagesPath}: the file holds no images");
        IdxFile labels = IdxReader.Read(labelsPath);
        if (labels.Magic != 2049 || labels.Dims.Length != 1)
            throw new InvalidDataException($"{labelsPath}: magic number {labels.Magic} with {labels.Dims.Length} dimensions is not a label file (expected 2049 with 1 dimension)");
        if (labels.Dims[0] != n)
            throw new InvalidDataException($"{imagesPath} has {n} images but {labelsPath} has {labels.Dims[0]} labels");
        var y = new long[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = labels.Data[i];
            if (y[i] >= ClassCount)
                throw new InvalidDataException($"{labelsPath}: label {y[i]} at position {i} is not a class 0..{ClassCount - 1}");
        }

        float[] x = images.ReadAll<float>(static (bytes, pixels) =>
        {
            const float scale = 1f / 255f;
            for (int i = 0; i < bytes.Length; i++) pixels[i] = bytes[i] * scale;
        });
        Shape shape = flatten ? [n, ImageSide * ImageSide] : [n, 1, ImageSide, ImageSide];
        return (Tensor.WrapArray(x, shape), Tensor.WrapArray(y, [n]));
    }

    private static string Find(string directory, string stem)
    {
        foreach (string candidate in new[] { stem + ".gz", stem, stem.Replace("-idx", ".idx") + ".gz", stem.Replace("-idx", ".idx") })
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException(
            $"Fashion-MNIST: missing {Path.Combine(directory, stem + ".gz")}. Install the data set with `sudo apt-get install dataset-fashion-mnist` or load it from the directory that holds it.",
            Path.Combine(directory, stem + ".gz"));
    }
}
