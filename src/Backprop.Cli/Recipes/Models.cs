using Backprop.NN.Layers;
using Backprop.Tensors;

namespace Backprop.Cli.Recipes;

/// <summary>The preset models of the Fashion-MNIST recipe and the benchmarks (../shared/peers/WORKLOADS.md).</summary>
public static class Models
{
    /// <summary>Names accepted by <see cref="Create"/>.</summary>
    public static readonly string[] Names = ["mlp", "cnn"];

    /// <summary>784-512-256-10 with ReLU; input [N, 784].</summary>
    public static Sequential Mlp(Generator? generator = null) => new(
        new Linear(784, 512, generator: generator), new Relu(),
        new Linear(512, 256, generator: generator), new Relu(),
        new Linear(256, 10, generator: generator));

    /// <summary>
    /// LeNet-style CNN; input [N, 1, 28, 28]: conv 5×5 (1→32, pad 2) → ReLU → maxpool 2 →
    /// conv 5×5 (32→64, pad 2) → ReLU → maxpool 2 → flatten 3136 → 128 → ReLU → 10.
    /// </summary>
    public static Sequential Cnn(Generator? generator = null) => new(
        new Conv2d(1, 32, 5, padding: 2, generator: generator), new Relu(), new MaxPool2d(2),
        new Conv2d(32, 64, 5, padding: 2, generator: generator), new Relu(), new MaxPool2d(2),
        new Flatten(),
        new Linear(64 * 7 * 7, 128, generator: generator), new Relu(),
        new Linear(128, 10, generator: generator));

    /// <summary>Builds a model by name, with its Linear → ReLU and Conv2d → ReLU → MaxPool2d(2) runs fused (<see cref="Sequential.Fuse"/>).</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static Sequential Create(string name, Generator? generator = null) => (name switch
    {
        "mlp" => Mlp(generator),
        "cnn" => Cnn(generator),
        _ => throw new ArgumentException($"Models: unknown model '{name}'; choose one of: {string.Join(", ", Names)}"),
    }).Fuse();

    /// <summary>The input shape a model expects for a batch of flattened 28×28 images.</summary>
    public static int[] InputShape(string name, int batch) => name == "cnn" ? [batch, 1, 28, 28] : [batch, 784];
}
