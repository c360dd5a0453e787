using System.Globalization;
using Backprop.Autograd;
using Backprop.Data;
using Backprop.Data.Csv;
using Backprop.Data.Transforms;
using Backprop.IO.Onnx;
using Backprop.Tensors;
using Backprop.Vision;
using Backprop.Cli.Recipes;
using Backprop.Cli.Reporting;

namespace Backprop.Cli.Commands;

/// <summary>
/// `predict --model FILE.onnx` and `eval --model FILE.onnx`: an ONNX model imported (<see cref="OnnxImport"/>) in place of
/// a checkpoint. Its one input's declared shape says what it takes: [N, F] rows of F features (CSV files or an inline
/// row, used as they are), or [N, C, H, W] images (C = 1 grayscale or 3 RGB, resized to H × W, pixels in [0, 1]); its
/// output [N, K] is read as class scores (softmax; K = 1 a value).
/// </summary>
internal static class OnnxCli
{
    /// <summary>Loads the model; a file that is not a readable ONNX model is a one-line error.</summary>
    public static OnnxModel Load(string path)
    {
        OnnxModel model = OnnxImport.Load(RunFolder.RequireFile("--model", path));
        if (model.InputNames.Count != 1)
            throw new InvalidDataException($"{path} takes {model.InputNames.Count} inputs ({string.Join(", ", model.InputNames)}); predict and eval feed models with one input");
        if (model.InputDims() is not { Length: 2 or 4 } dims || dims.Skip(1).Any(d => d is null))
            throw new InvalidDataException($"{path}: its input '{model.InputNames[0]}' has shape {Describe(model.InputDims())}; predict and eval feed [N, features] rows or [N, C, H, W] images with fixed sizes after the batch dim");
        return model;
    }

    private static string Describe(int?[]? dims) => dims is null ? "(undeclared)" : $"[{string.Join(", ", dims.Select(d => d?.ToString(CultureInfo.InvariantCulture) ?? "?"))}]";

    /// <summary>Prints the most likely classes (or the value) of every input row or image.</summary>
    public static int Predict(string path, string[] inputs, int top, int skipRows, TextWriter stdout)
    {
        OnnxModel model = Load(path);
        int?[] dims = model.InputDims()!;
        var labels = new List<string>();
        var rows = new List<float[]>();
        if (dims.Length == 2)
        {
            int f = dims[1]!.Value;
            foreach (string input in inputs)
            {
                if (!File.Exists(input))
                {
                    double[] row = PredictCommand.ParseRow(input);
                    if (row.Length != f) throw new ArgumentException($"predict: the inline row has {row.Length} values, but {path} takes {f} features");
                    labels.Add("input");
                    rows.Add(Array.ConvertAll(row, v => (float)v));
                    continue;
                }
                (Tensor values, _) = CsvReader.ReadMatrix(input, new CsvOptions { SkipRows = skipRows });
                if (values.Shape[1] != f) throw new ArgumentException($"predict: {input} has {values.Shape[1]} columns, but {path} takes {f} features");
                float[] data = values.Contiguous().ToArray<float>();
                for (int i = 0; i < values.Shape[0]; i++)
                {
                    labels.Add($"{Path.GetFileName(input)} row {i + 1}");
                    rows.Add(data[(i * f)..((i + 1) * f)]);
                }
            }
        }
        else
        {
            int c = dims[1]!.Value, h = dims[2]!.Value, w = dims[3]!.Value;
            if (c is not (1 or 3)) throw new InvalidDataException($"{path} takes images of {c} channels; predict decodes grayscale (1) or RGB (3)");
            foreach (string file in inputs.SelectMany(ImagePredict.Expand))
            {
                Tensor image = ImageDecoder.Decode(file, c == 1 ? ImageMode.Grayscale : ImageMode.Rgb); // [C, h, w] in [0, 1]
                if (image.Shape[1] != h || image.Shape[2] != w) image = Resize.To(image, h, w);
                labels.Add(file);
                rows.Add(image.Contiguous().ToArray<float>());
            }
        }

        int size = rows.Count == 0 ? 0 : rows[0].Length, batch = dims[0] ?? 256;
        for (int start = 0; start < rows.Count; start += batch)
        {
            int count = Math.Min(batch, rows.Count - start);
            var x = new float[batch == dims[0] ? batch * size : count * size]; // a fixed batch dim is filled with zeros past the last input
            for (int i = 0; i < count; i++) rows[start + i].CopyTo(x, i * size);
            Tensor y;
            using (GradMode.Disable())
                y = model.Call(Tensor.WrapArray(x, [x.Length / size, .. dims.Skip(1).Select(d => d!.Value)]));
            if (y.Rank != 2) throw new InvalidDataException($"{path}: the output has shape {y.Shape}; predict reads [N, classes] or [N, 1]");
            int k = y.Shape[1];
            float[] p = (k == 1 ? y : y.Softmax(1)).To(DType.Float32).Contiguous().ToArray<float>();
            for (int i = 0; i < count; i++)
            {
                string label = labels[start + i];
                if (k == 1)
                {
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label}: {p[i]:G6}"));
                    continue;
                }
                int[] order = [.. Enumerable.Range(0, k).OrderByDescending(j => p[i * k + j]).ThenBy(j => j).Take(Math.Min(top, k))];
                stdout.WriteLine($"{label}: {string.Join(", ", order.Select(j => string.Create(CultureInfo.InvariantCulture, $"class {j} {p[i * k + j]:P2}")))}");
            }
        }
        return CliApp.Success;
    }

    /// <summary>
    /// The model on the Fashion-MNIST test set, normalized as `train` normalizes it (so a model exported by
    /// `export --onnx` scores as its checkpoint does), shaped as the model's input ([N, 784] or [N, 1, 28, 28]).
    /// </summary>
    public static ClassEvaluation EvaluateFashionMnist(string path, string dataDir, int? testLimit)
    {
        OnnxModel model = Load(path);
        int?[] dims = model.InputDims()!;
        int features = dims.Skip(1).Aggregate(1, (a, d) => a * d!.Value);
        if (features != 28 * 28 || dims.Length == 4 && dims[1] != 1)
            throw new InvalidDataException($"{path} takes inputs of shape {Describe(dims)}; Fashion-MNIST images are 1 × 28 × 28");
        var test = FashionMnistRecipe.LoadTestSet(dataDir);
        if (testLimit is int limit && limit < test.Labels.Numel)
            test = (test.Images.Narrow(0, 0, limit).Contiguous(), test.Labels.Narrow(0, 0, limit).Contiguous());
        int[] shape = [test.Labels.Numel, .. dims.Skip(1).Select(d => d!.Value)];
        var (loss, accuracy, confusion) = FashionMnistRecipe.Evaluate(model, test.Images.View(shape), test.Labels);
        return new ClassEvaluation(string.Create(CultureInfo.InvariantCulture, $"the Fashion-MNIST test set ({test.Labels.Numel:N0} images)"),
                                   [.. FashionMnist.ClassNames], test.Labels.Numel, loss, accuracy, confusion);
    }
}
