using System.Globalization;
using Backprop.Autograd;
using Backprop.IO;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Vision;
using Backprop.Cli.Recipes;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop predict` for a checkpoint of `train --data DIR/`: every input image (a folder stands for the image
/// files under it) is decoded in the model's channels, resized to its size where it differs, normalized as the
/// training images were, and printed with its most likely classes: "path: class p%, class p%, …".
/// </summary>
internal static class ImagePredict
{
    /// <summary>Predicts the classes of <paramref name="inputs"/> with the image model in <paramref name="checkpoint"/>.</summary>
    /// <exception cref="InvalidDataException">The checkpoint's image record is damaged, or an input is not an image (the message names it).</exception>
    /// <exception cref="ArgumentException">An input does not exist, or a folder holds no image files.</exception>
    public static int Run(string path, Checkpoint checkpoint, string[] inputs, int top, TextWriter stdout)
    {
        ImageModelInfo info = ImageModelInfo.FromMetadata(checkpoint.Metadata, path);
        Module model = info.CreateModel();
        model.LoadStateDict(checkpoint.WithPrefix("model."));
        model.Eval();
        var files = new List<string>();
        foreach (string input in inputs) files.AddRange(Expand(input));

        int batch = ImageFolderRecipe.EvaluationBatch(info), size = info.Channels * info.Height * info.Width;
        int k = info.Outputs, shown = Math.Min(top, k);
        for (int start = 0; start < files.Count; start += batch)
        {
            int count = Math.Min(batch, files.Count - start);
            var pixels = new float[count * size];
            for (int i = 0; i < count; i++)
                info.Fit(ImageDecoder.Decode(files[start + i], info.Mode)).AsReadOnlySpan<float>().CopyTo(pixels.AsSpan(i * size, size));
            Tensor x = Tensor.WrapArray(pixels, [count, info.Channels, info.Height, info.Width]);
            info.NormalizeInPlace(x);
            float[] p;
            using (GradMode.Disable())
                p = model.Call(x).Softmax(1).Contiguous().ToArray<float>();
            for (int i = 0; i < count; i++)
            {
                int[] order = [.. Enumerable.Range(0, k).OrderByDescending(j => p[i * k + j]).ThenBy(j => j).Take(shown)];
                string classes = string.Join(", ", order.Select(j => string.Create(CultureInfo.InvariantCulture, $"{info.Classes[j]} {p[i * k + j]:P2}")));
                stdout.WriteLine($"{files[start + i]}: {classes}");
            }
        }
        return CliApp.Success;
    }

    /// <summary>An image file as given, or the image files under a folder (recursively, in ordinal path order).</summary>
    internal static IEnumerable<string> Expand(string input)
    {
        if (File.Exists(input)) return [input];
        if (!Directory.Exists(input))
            throw new ArgumentException($"predict: no such file or folder: {input} (this checkpoint takes image files)");
        string[] images = [.. Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories)
            .Where(f => ImageFolder.Extensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            .Order(StringComparer.Ordinal)];
        if (images.Length == 0)
            throw new ArgumentException($"predict: {input} holds no image files (names ending in {string.Join(", ", ImageFolder.Extensions)})");
        return images;
    }
}
