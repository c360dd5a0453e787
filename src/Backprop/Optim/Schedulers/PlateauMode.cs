namespace Backprop.Optim.Schedulers;

/// <summary>Whether <see cref="ReduceLROnPlateau"/> watches a metric that should fall (a loss) or rise (an accuracy).</summary>
public enum PlateauMode
{
    /// <summary>Lower is better (PyTorch's 'min', the default).</summary>
    Min,

    /// <summary>Higher is better (PyTorch's 'max').</summary>
    Max,
}

/// <summary>How <see cref="ReduceLROnPlateau"/> measures a significant improvement over the best value.</summary>
public enum ThresholdMode
{
    /// <summary>Relative: better than best·(1 − threshold) in min mode, best·(1 + threshold) in max mode (PyTorch's 'rel', the default).</summary>
    Rel,

    /// <summary>Absolute: better than best − threshold in min mode, best + threshold in max mode (PyTorch's 'abs').</summary>
    Abs,
}
