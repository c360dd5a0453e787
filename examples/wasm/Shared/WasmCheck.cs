using System.Globalization;
using System.Runtime.Intrinsics;
using Backprop.Autograd;
using Backprop.Data;
using Backprop.Diagnostics;
using Backprop.IO;
using Backprop.IO.Safetensors;
using Backprop.Kernels;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Threading;

namespace Backprop.Wasm;

/// <summary>
/// The training run compared between WebAssembly and x86 (tools/check-wasm-run.sh): the same source is compiled into
/// the browser-wasm app (Browser/) and a console app (Console/). Lines starting "loss " carry the numbers compared;
/// the rest report the platform.
/// </summary>
public static class WasmCheck
{
    /// <summary>
    /// Prints the platform, trains XOR, an MLP and a small CNN, and prints their losses; reloads the MLP from a checkpoint
    /// and a safetensors file. Returns 0, or 1 when a reloaded model's loss differs from the trained one's.
    /// </summary>
    public static int Run(TextWriter output)
    {
        Warnings.Issued += w => output.WriteLine($"warning ({w.Source}): {w.Message}");
        output.WriteLine($"platform: browser={OperatingSystem.IsBrowser()} arch={System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture} processors={Environment.ProcessorCount}");
        output.WriteLine($"simd: Vector128.IsHardwareAccelerated={Vector128.IsHardwareAccelerated} Vector256.IsHardwareAccelerated={Vector256.IsHardwareAccelerated} Vector512.IsHardwareAccelerated={Vector512.IsHardwareAccelerated} VectorWidth={VectorWidth.Name}");
        Parallelism.ThreadCount = 2; // must not throw where threads cannot start (a warning says it has no effect)
        output.WriteLine($"threads: Parallelism.ThreadCount={Parallelism.ThreadCount}");

        Xor(output);
        bool filesOk = Files(output, Mlp(output));
        Cnn(output);
        output.WriteLine(filesOk ? "done" : "error: a reloaded model's loss differs from the trained one's");
        return filesOk ? 0 : 1;
    }

    private static void Xor(TextWriter output)
    {
        Tensor x = Tensor.FromArray(new float[,] { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } });
        Tensor y = Tensor.FromArray(new float[,] { { 0 }, { 1 }, { 1 }, { 0 } });
        var model = new Sequential(
            ("hidden", new Linear(2, 8, generator: new Generator(1))), ("tanh", new Tanh()),
            ("output", new Linear(8, 1, generator: new Generator(2))), ("sigmoid", new Sigmoid()));
        var optimizer = new Adam(model.Parameters(), new AdamOptions(LearningRate: 0.05));
        for (int step = 0; step <= 500; step++)
        {
            optimizer.ZeroGrad();
            Tensor loss = Functional.MseLoss(model.Call(x), y);
            loss.Backward();
            optimizer.Step();
            if (step % 100 == 0) Loss(output, $"xor step {step}", loss.Item());
        }
        using (GradMode.Disable())
            output.WriteLine($"xor predictions: {model.Call(x)}");
    }

    // 784-256-10 (the issue's Fashion-MNIST MLP) on 512 synthetic examples labelled by a random linear teacher,
    // read through a DataLoader with its default prefetch (a background thread where threads can start).
    private static (Sequential Model, Tensor Inputs, Tensor Labels) Mlp(TextWriter output)
    {
        var generator = new Generator(7);
        Tensor inputs = Tensor.Randn([512, 784], generator: generator);
        Tensor teacher = Tensor.Randn([784, 10], generator: generator);
        Tensor labels = inputs.MatMul(teacher).ArgMax(1);
        var loader = new DataLoader(new TensorDataset(inputs, labels), batchSize: 64, shuffle: true, seed: 3);
        var model = new Sequential(
            ("fc1", new Linear(784, 256, generator: new Generator(11))), ("relu", new Relu()),
            ("fc2", new Linear(256, 10, generator: new Generator(12))));
        var optimizer = new Sgd(model.Parameters(), new SgdOptions(LearningRate: 0.05, Momentum: 0.9));
        Epochs(output, "mlp", model, optimizer, loader, epochs: 3);
        using (GradMode.Disable())
        {
            double accuracy = model.Call(inputs).ArgMax(1).Eq(labels).To(DType.Float32).Mean().Item();
            Loss(output, "mlp train accuracy", accuracy);
        }
        return (model, inputs, labels);
    }

    // The trained MLP through a checkpoint and a safetensors file (positioned reads and a memory map): the reloaded
    // model's loss must equal the trained one's. In the browser the files live in the runtime's in-memory file system.
    private static bool Files(TextWriter output, (Sequential Model, Tensor Inputs, Tensor Labels) mlp)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"backprop-wasm-check-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            using var noGrad = GradMode.Disable();
            double trained = Functional.CrossEntropy(mlp.Model.Call(mlp.Inputs), mlp.Labels).Item();
            Loss(output, "mlp trained", trained);

            string checkpointPath = Path.Combine(dir, "mlp.ckpt");
            new Checkpoint(mlp.Model.StateDict(), new Dictionary<string, string> { ["model"] = "mlp" }).Save(checkpointPath);
            double fromCheckpoint = Reloaded(mlp, Checkpoint.Load(checkpointPath).Tensors);
            Loss(output, "mlp from checkpoint", fromCheckpoint);

            string safetensorsPath = Path.Combine(dir, "mlp.safetensors");
            SafetensorsWriter.Save(safetensorsPath, mlp.Model.StateDict());
            double fromSafetensors = Reloaded(mlp, SafetensorsFile.Load(safetensorsPath, memoryMap: false).Tensors);
            Loss(output, "mlp from safetensors", fromSafetensors);
            double fromMapped = Reloaded(mlp, SafetensorsFile.Load(safetensorsPath, memoryMap: true).Tensors);
            Loss(output, "mlp from memory-mapped safetensors", fromMapped);
            return fromCheckpoint == trained && fromSafetensors == trained && fromMapped == trained;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static double Reloaded((Sequential Model, Tensor Inputs, Tensor Labels) mlp, List<KeyValuePair<string, Tensor>> state)
    {
        var model = new Sequential(("fc1", new Linear(784, 256)), ("relu", new Relu()), ("fc2", new Linear(256, 10)));
        model.LoadStateDict(state);
        return Functional.CrossEntropy(model.Call(mlp.Inputs), mlp.Labels).Item();
    }

    // conv(1→8, 3×3) → ReLU → 2×2 max pool → linear on 256 synthetic 12×12 images, labelled by which half is brighter.
    private static void Cnn(TextWriter output)
    {
        var generator = new Generator(21);
        Tensor images = Tensor.Rand([256, 1, 12, 12], generator: generator);
        Tensor labels = images.Narrow(3, 0, 6).Sum([1, 2, 3]).Gt(images.Narrow(3, 6, 6).Sum([1, 2, 3])).To(DType.Int64);
        var loader = new DataLoader(new TensorDataset(images, labels), batchSize: 32, shuffle: true, seed: 5);
        var model = new Sequential(
            ("conv", new Conv2d(1, 8, 3, padding: 1, generator: new Generator(22))), ("relu", new Relu()),
            ("pool", new MaxPool2d(2)), ("flatten", new Flatten()),
            ("fc", new Linear(8 * 6 * 6, 2, generator: new Generator(23))));
        var optimizer = new Adam(model.Parameters(), new AdamOptions(LearningRate: 0.01));
        Epochs(output, "cnn", model, optimizer, loader, epochs: 3);
    }

    private static void Epochs(TextWriter output, string name, Module model, Optimizer optimizer, DataLoader loader, int epochs)
    {
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            double sum = 0;
            int batches = 0;
            foreach ((Tensor inputs, Tensor targets) in loader)
            {
                optimizer.ZeroGrad();
                Tensor loss = Functional.CrossEntropy(model.Call(inputs), targets);
                loss.Backward();
                optimizer.Step();
                if (epoch == 0 && batches < 2) Loss(output, $"{name} epoch 0 batch {batches}", loss.Item());
                sum += loss.Item();
                batches++;
            }
            Loss(output, $"{name} epoch {epoch} mean", sum / batches);
        }
    }

    private static void Loss(TextWriter output, string what, double value) =>
        output.WriteLine($"loss {what}: {value.ToString("R", CultureInfo.InvariantCulture)}");
}
