namespace Backprop.Cli.Recipes;

/// <summary>
/// Per-class precision, recall and F1 from a confusion matrix [true, predicted], as scikit-learn's
/// <c>precision_recall_fscore_support</c> with <c>zero_division=0</c>: a class never predicted has
/// precision 0, a class absent from the labels recall 0, and F1 is 0 when both are 0.
/// </summary>
internal readonly record struct ClassScores(double Precision, double Recall, double F1, int Support)
{
    /// <summary>The scores of every class of <paramref name="confusion"/>.</summary>
    public static ClassScores[] Of(int[,] confusion)
    {
        int k = confusion.GetLength(0);
        var scores = new ClassScores[k];
        for (int c = 0; c < k; c++)
        {
            long predicted = 0, actual = 0;
            for (int j = 0; j < k; j++)
            {
                predicted += confusion[j, c];
                actual += confusion[c, j];
            }
            double tp = confusion[c, c];
            double precision = predicted == 0 ? 0 : tp / predicted, recall = actual == 0 ? 0 : tp / actual;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            scores[c] = new ClassScores(precision, recall, f1, (int)actual);
        }
        return scores;
    }
}
