using System.Globalization;
using Backprop.Autograd;
using Backprop.Data.Csv;
using Backprop.IO;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Training;
using Backprop.Cli.Recipes;

namespace Backprop.Cli.Commands;

/// <summary>A classifier's results on a set of examples: mean cross-entropy, accuracy and the confusion matrix [true, predicted].</summary>
internal sealed record ClassEvaluation(string Data, string[] ClassNames, long Examples, double Loss, double Accuracy, int[,] Confusion);

/// <summary>A regression model's results in the target's units: root mean squared error, mean absolute error and R² (1 − SSE / SST).</summary>
internal sealed record RegressionEvaluation(string Data, string TargetName, long Examples, double Rmse, double Mae, double R2);

/// <summary>
/// `backprop eval` for checkpoints of `train --data`: the model rebuilt from the checkpoint's record, evaluated on
/// the held-out split its run made (drawn again from the folder or file and the stored seed, refused if the data
/// changed since) or on all of a <c>--data</c> the user gives, whose classes are matched to the model's by name
/// (folders) or value (CSV).
/// </summary>
internal static class DataEvaluation
{
    /// <summary>Evaluates an image-folder checkpoint.</summary>
    /// <exception cref="InvalidDataException">The folder changed since training, a class folder the model does not know, or an unreadable image.</exception>
    public static ClassEvaluation Images(string path, Checkpoint c, string? data, int? testLimit)
    {
        ImageModelInfo info = ImageModelInfo.FromMetadata(c.Metadata, path);
        Module model = info.CreateModel();
        model.LoadStateDict(c.WithPrefix("model."));
        ImageFolderData folder;
        int[] rows;
        int[]? classMap = null;
        string description;
        if (data is null)
        {
            if (!Directory.Exists(info.Source))
                throw new DirectoryNotFoundException($"{path} was trained on {info.Source}, which no longer exists; pass the images to test on with --data DIR");
            folder = ImageFolderData.Open(info.Source, "the training folder");
            if (folder.Count != info.ImageCount || folder.Fingerprint() != info.Fingerprint)
                throw new InvalidDataException(
                    $"{info.Source} changed since {path} was trained ({folder.Count:N0} images now, {info.ImageCount:N0} then), so its held-out split cannot be drawn again; pass the images to test on with --data DIR");
            rows = ImageFolderData.Split(folder.Count, info.TestFraction, Seed(c, path), info.Source).Test;
            description = string.Create(CultureInfo.InvariantCulture, $"the {rows.Length:N0} held-out images of {info.Source}");
        }
        else
        {
            folder = ImageFolderData.Open(data, "--data");
            classMap = new int[folder.Folder.Classes.Count];
            for (int i = 0; i < classMap.Length; i++)
            {
                classMap[i] = Array.IndexOf(info.Classes, folder.Folder.Classes[i]);
                if (classMap[i] < 0)
                    throw new InvalidDataException(
                        $"--data {data}: the class folder \"{folder.Folder.Classes[i]}\" is not a class of the model ({ImageFolderRecipe.ClassList(info.Classes)})");
            }
            rows = [.. Enumerable.Range(0, folder.Count)];
            description = string.Create(CultureInfo.InvariantCulture, $"all {rows.Length:N0} images of {data}");
        }
        if (testLimit is int limit && limit < rows.Length)
        {
            rows = rows[..limit];
            description += string.Create(CultureInfo.InvariantCulture, $" (the first {limit:N0}, --test-limit)");
        }
        (Tensor x, Tensor y) = folder.Load(rows, info, classMap);
        info.NormalizeInPlace(x);
        return Classify(model, ImageFolderRecipe.InBatches(x, y, ImageFolderRecipe.EvaluationBatch(info)), info.Classes, rows.Length, description);
    }

    /// <summary>Evaluates a CSV checkpoint: a <see cref="ClassEvaluation"/> or a <see cref="RegressionEvaluation"/>.</summary>
    /// <exception cref="InvalidDataException">The file changed since training, a class value the model does not know, or a bad row.</exception>
    public static object Csv(string path, Checkpoint c, string? data, int? skipRows, int? testLimit)
    {
        CsvModelInfo info = CsvModelInfo.FromMetadata(c.Metadata, path);
        Module model = info.CreateModel();
        model.LoadStateDict(c.WithPrefix("model."));
        string target = info.Target ?? info.TargetName;
        CsvTable table;
        int[] rows;
        string description;
        if (data is null)
        {
            if (!File.Exists(info.Source))
                throw new FileNotFoundException($"{path} was trained on {info.Source}, which no longer exists; pass the rows to test on with --data FILE.csv", info.Source);
            table = CsvReader.Read(info.Source, CsvColumn.Parse(target), new CsvOptions { SkipRows = info.SkipRows });
            (int[] train, rows) = CsvRecipe.Split(table, info.TestFraction, Seed(c, path), info.Source);
            if (c.Metadata.TryGetValue("train_count", out string? trained) && trained != train.Length.ToString(CultureInfo.InvariantCulture)
                || !table.FeatureNames.SequenceEqual(info.FeatureNames) || info.IsClassification && !table.ClassValues.SequenceEqual(info.ClassValues))
                throw new InvalidDataException($"{info.Source} changed since {path} was trained, so its held-out split cannot be drawn again; pass the rows to test on with --data FILE.csv");
            description = string.Create(CultureInfo.InvariantCulture, $"the {rows.Length:N0} held-out rows of {info.Source}");
        }
        else
        {
            try
            {
                table = CsvReader.Read(data, CsvColumn.Parse(target), new CsvOptions { SkipRows = skipRows ?? 0 });
            }
            catch (FileNotFoundException e)
            {
                throw new FileNotFoundException($"--data: no such file: {data}", data, e);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"--data {data}: the model's target column '{target}': {e.Message}", e);
            }
            if (table.FeatureNames.Count != info.Features)
                throw new InvalidDataException($"--data {data} has {table.FeatureNames.Count} feature columns besides the target '{table.TargetName}', but the model takes {info.Features}");
            rows = [.. Enumerable.Range(0, table.Count)];
            description = string.Create(CultureInfo.InvariantCulture, $"all {rows.Length:N0} rows of {data}");
        }
        if (testLimit is int limit && limit < rows.Length)
        {
            rows = rows[..limit];
            description += string.Create(CultureInfo.InvariantCulture, $" (the first {limit:N0}, --test-limit)");
        }

        int f = info.Features;
        float[] features = table.Features.Contiguous().ToArray<float>();
        var raw = new double[rows.Length * f];
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < f; j++) raw[i * f + j] = features[rows[i] * f + j];
        Tensor x = info.Standardize(raw, rows.Length);
        double[] values = TargetValues(table);
        if (info.IsClassification)
        {
            var labels = new long[rows.Length];
            for (int i = 0; i < rows.Length; i++)
            {
                int index = Array.IndexOf(info.ClassValues, values[rows[i]]);
                if (index < 0)
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                        $"{data ?? info.Source}: row {rows[i] + 1} has the class {values[rows[i]]:R}, which the model was not trained on (its classes: {string.Join(", ", info.ClassValues.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))})"));
                labels[i] = index;
            }
            return Classify(model, ImageFolderRecipe.InBatches(x, Tensor.WrapArray(labels, [rows.Length]), 1000),
                            [.. Enumerable.Range(0, info.Outputs).Select(info.ClassLabel)], rows.Length, description);
        }
        float[] predicted;
        model.Eval();
        using (GradMode.Disable())
            predicted = model.Call(x).Contiguous().ToArray<float>();
        double sse = 0, sae = 0, mean = 0;
        for (int i = 0; i < rows.Length; i++) mean += values[rows[i]] / rows.Length;
        double sst = 0;
        for (int i = 0; i < rows.Length; i++)
        {
            double truth = values[rows[i]], guess = predicted[i] * info.TargetStd + info.TargetMean;
            sse += (guess - truth) * (guess - truth);
            sae += Math.Abs(guess - truth);
            sst += (truth - mean) * (truth - mean);
        }
        return new RegressionEvaluation(description, info.TargetName, rows.Length, Math.Sqrt(sse / rows.Length), sae / rows.Length, sst > 0 ? 1 - sse / sst : double.NaN);
    }

    /// <summary>The target of every row as a number (a class's value, or the regression value).</summary>
    private static double[] TargetValues(CsvTable table)
    {
        var values = new double[table.Count];
        if (table.Kind == TargetKind.Classification)
        {
            long[] labels = table.Targets.Contiguous().ToArray<long>();
            for (int i = 0; i < values.Length; i++) values[i] = table.ClassValues[(int)labels[i]];
        }
        else
        {
            float[] v = table.Targets.Contiguous().ToArray<float>();
            for (int i = 0; i < values.Length; i++) values[i] = v[i];
        }
        return values;
    }

    private static ClassEvaluation Classify(Module model, IEnumerable<(Tensor Inputs, Tensor Targets)> batches, string[] classNames, long examples, string description)
    {
        var confusion = new ConfusionMatrix(classNames.Length);
        Dictionary<string, double> values = Evaluation.Run(model, batches, [ImageFolderRecipe.TestLoss(), new Accuracy(), confusion]);
        return new ClassEvaluation(description, classNames, examples, values["loss"], values["accuracy"], confusion.Counts);
    }

    /// <summary>The checkpoint's "seed", which drew its run's split.</summary>
    private static ulong Seed(Checkpoint c, string path)
        => c.Metadata.TryGetValue("seed", out string? text) && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed)
            ? seed
            : throw new InvalidDataException($"{path} has no seed, so its held-out split cannot be drawn again; pass the data to test on with --data");
}
