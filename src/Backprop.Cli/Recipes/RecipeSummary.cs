using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Cli.Recipes;

/// <summary>The model summary `backprop train` prints at the start: the recipe's model on one example (an image, or a window of byte indices).</summary>
internal static class RecipeSummary
{
    /// <summary>
    /// The summary of the recipe's model for a batch of one. A model that carries state (the LSTM) is summarised
    /// from a fresh state, and the state it carried is put back, so training continues exactly.
    /// </summary>
    public static ModelSummary Of(ITrainingRecipe recipe)
    {
        Module model = recipe.Trainer.Model;
        (Shape shape, DType dtype) = recipe switch
        {
            FashionMnistRecipe f => (new Shape(Models.InputShape(f.Options.Model, 1)), DType.Float32),
            CsvRecipe c => (new Shape(1, c.Info.Features), DType.Float32),
            ImageFolderRecipe i => (new Shape(1, i.Info.Channels, i.Info.Height, i.Info.Width), DType.Float32),
            TextRecipe t => (new Shape(1, t.Options.Context), DType.Int64), // byte indices; zeros are valid ones
            _ => throw new ArgumentException($"RecipeSummary: no sample input for the {recipe.Name} recipe"),
        };
        if (model is not IStatefulModel stateful) return ModelSummary.Of(model, shape, dtype);
        Tensor[] carried;
        using (GradMode.Disable())
            carried = [.. stateful.State.Select(s => s.Clone())];
        stateful.ResetState();
        try
        {
            return ModelSummary.Of(model, shape, dtype);
        }
        finally
        {
            stateful.LoadState(carried);
        }
    }
}
