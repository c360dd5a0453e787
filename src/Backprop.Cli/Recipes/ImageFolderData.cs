using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Backprop.Data;
using Backprop.Tensors;
using Backprop.Vision;

namespace Backprop.Cli.Recipes;

/// <summary>
/// An image folder as the CLI reads it: listed by the library's <see cref="ImageFolder"/>, every file's header read
/// (size, grayscale), the held-out split drawn from the run's seed, and chosen images decoded, resized and stacked
/// into one float32 tensor [N, C, H, W]. Errors name the folder or the file.
/// </summary>
internal sealed class ImageFolderData
{
    /// <summary>The split's generator is the run's seed mixed with this, so the split does not shift the initialisation.</summary>
    private const ulong SplitSalt = 0x5EED_1A6E_F01D_0001UL;

    /// <summary>The side images are resized to when they differ in size or are larger than <see cref="LargestDefaultSide"/>.</summary>
    public const int DefaultSide = 64;

    /// <summary>Images whose common size has no side larger than this are trained at their own size by default.</summary>
    public const int LargestDefaultSide = 64;

    private ImageFolderData(ImageFolder folder, ImageHeader[] headers, string flag)
    {
        Folder = folder;
        Headers = headers;
        Flag = flag;
    }

    /// <summary>The folder's classes and files.</summary>
    public ImageFolder Folder { get; }

    /// <summary>Every file's header, in example order.</summary>
    public ImageHeader[] Headers { get; }

    /// <summary>The flag that named the folder (for messages).</summary>
    public string Flag { get; }

    /// <summary>Lists <paramref name="dir"/> and reads every image's header.</summary>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="InvalidDataException">No class folders, a class folder without images, or a file that is not an image (the message names it).</exception>
    public static ImageFolderData Open(string dir, string flag)
    {
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException(File.Exists(dir)
                ? $"{flag} {dir} is a file; pass a CSV file with --target, or a folder of images with one subfolder per class"
                : $"{flag}: no such folder: {dir}");
        ImageFolder folder;
        try
        {
            folder = new ImageFolder(dir, ImageMode.Rgb);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{flag}: {e.Message.Replace("ImageFolder: ", "", StringComparison.Ordinal)}", e);
        }
        var headers = new ImageHeader[folder.Count];
        for (int i = 0; i < headers.Length; i++)
        {
            headers[i] = ImageDecoder.ReadHeader(folder.Samples[i].Path);
            if (headers[i].Width < 1 || headers[i].Height < 1)
                throw new InvalidDataException($"{folder.Samples[i].Path}: an image of {headers[i].Width}×{headers[i].Height} pixels has nothing to train on");
        }
        return new ImageFolderData(folder, headers, flag);
    }

    /// <summary>Images in the folder.</summary>
    public int Count => Headers.Length;

    /// <summary>1 when every file is stored as grayscale, else 3.</summary>
    public int Channels => Headers.All(h => h.IsGrayscale) ? 1 : 3;

    /// <summary>The size every image has, or null when they differ.</summary>
    public (int Height, int Width)? CommonSize
    {
        get
        {
            ImageHeader first = Headers[0];
            foreach (ImageHeader h in Headers)
                if (h.Width != first.Width || h.Height != first.Height) return null;
            return (first.Height, first.Width);
        }
    }

    /// <summary>"28×28" when the images share a size, else the smallest and largest ("mixed sizes from 20×31 to 640×480").</summary>
    public string SizeText()
    {
        if (CommonSize is var (h, w)) return string.Create(CultureInfo.InvariantCulture, $"{w}×{h}");
        ImageHeader small = Headers.MinBy(x => (long)x.Width * x.Height), large = Headers.MaxBy(x => (long)x.Width * x.Height);
        return string.Create(CultureInfo.InvariantCulture, $"mixed sizes from {small.Width}×{small.Height} to {large.Width}×{large.Height}");
    }

    /// <summary>
    /// The size the model takes: <paramref name="imageSize"/>² when given; else the images' own size when they share
    /// one no side of which exceeds <see cref="LargestDefaultSide"/>; else <see cref="DefaultSide"/>².
    /// </summary>
    public (int Height, int Width) ChooseSize(int? imageSize)
    {
        if (imageSize is int s) return (s, s);
        if (CommonSize is var (h, w) && h <= LargestDefaultSide && w <= LargestDefaultSide && h >= 4 && w >= 4) return (h, w);
        return (DefaultSide, DefaultSide);
    }

    /// <summary>A fingerprint of the file list (relative paths and classes in example order): SHA-256, first 16 hex digits.</summary>
    public string Fingerprint()
    {
        var sb = new StringBuilder();
        foreach (var (path, label) in Folder.Samples)
            sb.Append(Path.GetRelativePath(Folder.Root, path).Replace('\\', '/')).Append('\t').Append(label.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..16].ToLowerInvariant();
    }

    /// <summary>The held-out split of a folder of <paramref name="count"/> images: (training, test) example indices, as <c>random_split</c> with the run's seed.</summary>
    /// <exception cref="ArgumentException">Too few images to hold out a share and train on the rest.</exception>
    public static (int[] Train, int[] Test) Split(int count, double testFraction, ulong seed, string what)
    {
        int testCount = (int)Math.Round(count * testFraction);
        if (testCount < 1 || count - testCount < 2)
            throw new ArgumentException($"{what}: {count} images are too few to hold out {testFraction:P0} for testing and train on the rest");
        Subset<int>[] split = Dataset.RandomSplit(new IndexDataset(count), [count - testCount, testCount], new Generator(seed ^ SplitSalt));
        return ([.. split[0].Indices], [.. split[1].Indices]);
    }

    /// <summary>
    /// Decodes the images <paramref name="indices"/> in the model's mode, resizes each to the model's size (bilinear,
    /// antialiased) where it differs, and stacks them: float32 [N, C, H, W] in [0, 1] (not normalized), labels int64 [N]
    /// (the folder's class indices mapped through <paramref name="classMap"/>, or as they are).
    /// </summary>
    /// <exception cref="InvalidDataException">A file cannot be decoded (the message names it).</exception>
    public (Tensor Images, Tensor Labels) Load(IReadOnlyList<int> indices, ImageModelInfo info, int[]? classMap = null)
    {
        int n = indices.Count, size = info.Channels * info.Height * info.Width;
        if ((long)n * size > Array.MaxLength)
            throw new InvalidDataException($"{Flag} {Folder.Root}: {n:N0} images of {info.InputText} are more numbers than one tensor holds; lower --image-size or use --train-limit");
        var pixels = new float[n * size];
        var labels = new long[n];
        for (int i = 0; i < n; i++)
        {
            var (path, label) = Folder.Samples[indices[i]];
            Tensor image = info.Fit(ImageDecoder.Decode(path, info.Mode));
            image.AsReadOnlySpan<float>().CopyTo(pixels.AsSpan(i * size, size));
            labels[i] = classMap is null ? label : classMap[label];
        }
        return (Tensor.WrapArray(pixels, [n, info.Channels, info.Height, info.Width]), Tensor.WrapArray(labels, [n]));
    }

    /// <summary>The per-channel mean and population standard deviation of images [N, C, H, W] (1 where a channel is constant).</summary>
    public static (double[] Mean, double[] Std) ChannelStats(Tensor images)
    {
        int n = images.Shape[0], c = images.Shape[1], plane = images.Shape[2] * images.Shape[3];
        ReadOnlySpan<float> v = images.AsReadOnlySpan<float>();
        double[] mean = new double[c], std = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            double sum = 0, squares = 0;
            for (int i = 0; i < n; i++)
                foreach (float x in v.Slice((i * c + ch) * plane, plane))
                {
                    sum += x;
                    squares += (double)x * x;
                }
            double count = (double)n * plane;
            mean[ch] = sum / count;
            double variance = Math.Max(squares / count - mean[ch] * mean[ch], 0);
            std[ch] = variance < 1e-12 ? 1 : Math.Sqrt(variance);
        }
        return (mean, std);
    }

    /// <summary>A data set of the numbers 0 … count − 1, so that <see cref="Dataset.RandomSplit{T}(Dataset{T}, int[], Generator?)"/> draws the split of any folder without reading it.</summary>
    private sealed class IndexDataset(int count) : Dataset<int>
    {
        public override int Count => count;

        public override int Get(int index) => index;
    }
}
