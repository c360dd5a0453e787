using Backprop.Autograd;
using Backprop.Data;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Optim.Schedulers;
using Backprop.Tensors;

namespace Backprop.Examples;

/// <summary>
/// A small convolutional network on Fashion-MNIST: images as [N, 1, 28, 28], normalized with the training set's
/// pixel statistics, two conv → ReLU → max-pool stages and a linear head, trained with AdamW under a one-cycle
/// schedule (which also cycles Adam's β₁, as PyTorch's), then scored on held-out test images. By default it uses a
/// subset of the data so it finishes in seconds; pass larger counts for a real run.
/// </summary>
public static class FashionMnistCnn
{
    /// <summary>Trains on the first <paramref name="trainImages"/> training images and returns the accuracy on the first <paramref name="testImages"/> test images.</summary>
    public static double Run(TextWriter console, string directory = FashionMnist.DefaultDirectory, int trainImages = 4000, int testImages = 1000,
                             int epochs = 2, int batchSize = 64)
    {
        (Tensor trainX, Tensor trainY) = Subset(FashionMnist.Load(directory, train: true, flatten: false), trainImages);   // [N, 1, 28, 28], [N]
        (Tensor testX, Tensor testY) = Subset(FashionMnist.Load(directory, train: false, flatten: false), testImages);
        console.WriteLine($"{trainX.Shape[0]} training and {testX.Shape[0]} test images of shape [{string.Join(", ", trainX.Shape.Dims[1..].ToArray())}]");

        var gen = new Generator(0);
        var model = new Sequential(
            ("conv1", new Conv2d(1, 16, 3, padding: 1, generator: gen)), ("relu1", new Relu()), ("pool1", new MaxPool2d(2)),    // [N, 16, 14, 14]
            ("conv2", new Conv2d(16, 32, 3, padding: 1, generator: gen)), ("relu2", new Relu()), ("pool2", new MaxPool2d(2)),   // [N, 32, 7, 7]
            ("flatten", new Flatten()), ("head", new Linear(32 * 7 * 7, FashionMnist.ClassCount, generator: gen)));             // [N, 10]
        var loader = new DataLoader(new TensorDataset(trainX, trainY), batchSize, shuffle: true, seed: 1);
        var optimizer = new AdamW(model.Parameters(), new AdamOptions(LearningRate: 1e-3));
        int stepsPerEpoch = (trainX.Shape[0] + batchSize - 1) / batchSize;
        var schedule = new OneCycleLR(optimizer, maxLr: 4e-3, totalSteps: epochs * stepsPerEpoch);

        double accuracy = 0;
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            model.Train();
            double lossSum = 0;
            int batches = 0;
            foreach ((Tensor x, Tensor y) in loader)
            {
                optimizer.ZeroGrad();
                Tensor loss = Functional.CrossEntropy(model.Call(x), y);
                loss.Backward();
                optimizer.Step();
                schedule.Step();
                lossSum += loss.Item();
                batches++;
            }
            accuracy = Accuracy(model, testX, testY);
            console.WriteLine($"epoch {epoch}: training loss {lossSum / batches:F3}, test accuracy {accuracy:P1}");
        }
        return accuracy;
    }

    /// <summary>The first <paramref name="count"/> images, normalized as torchvision's Normalize((0.2860,), (0.3530,)).</summary>
    private static (Tensor Images, Tensor Labels) Subset((Tensor Images, Tensor Labels) data, int count)
    {
        int n = Math.Min(count, data.Images.Shape[0]);
        Tensor images = (data.Images.Narrow(0, 0, n) - FashionMnist.PixelMean) / FashionMnist.PixelStd; // a new tensor: the rest is freed
        return (images, data.Labels.Narrow(0, 0, n).Clone());
    }

    /// <summary>The fraction of images whose highest-scoring class is the label, in evaluation mode without a graph.</summary>
    private static double Accuracy(Module model, Tensor images, Tensor labels)
    {
        model.Eval();
        using var _ = GradMode.Disable();
        long correct = 0;
        for (int start = 0; start < images.Shape[0]; start += 500)
        {
            int n = Math.Min(500, images.Shape[0] - start);
            Tensor predicted = model.Call(images.Narrow(0, start, n)).ArgMax(1);
            correct += (long)predicted.Eq(labels.Narrow(0, start, n)).Sum().Item();
        }
        return (double)correct / images.Shape[0];
    }
}
