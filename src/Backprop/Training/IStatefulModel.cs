using Backprop.Tensors;

namespace Backprop.Training;

/// <summary>
/// A model that carries state from one batch to the next, for truncated backpropagation through
/// time: a recurrent net reading parallel streams (<see cref="Data.TextStreams"/>) starts batch i + 1
/// from the state batch i ended in, but gradients stop at the batch boundary. The model keeps the
/// state; <see cref="Trainer"/> and <see cref="Evaluation.Run"/> say when to forget it and when to carry it.
/// </summary>
/// <remarks>
/// The trainer calls <see cref="ResetState"/> at the start of every epoch (not when it resumes one in the
/// middle), and <see cref="DetachState"/> at the end of every step, after the optimizer step and inside
/// the step's <see cref="Memory.TensorScope"/>. <see cref="Evaluation.Run"/> resets before and after its
/// pass and carries the state between its batches; <see cref="Trainer.Evaluate"/> puts the training state
/// back afterwards. A checkpoint taken in the middle of an epoch holds the state (tensors "carried.0",
/// "carried.1", …), so resuming there is exact. <see cref="StateBuffer.Carry"/> implements the detach
/// without allocating once warm.
/// </remarks>
/// <example>
/// A character LSTM that carries (h, c):
/// <code>
/// public sealed class CharLstm : Module, IStatefulModel
/// {
///     private readonly Embedding _embed = new(256, 64);
///     private readonly Lstm _lstm = new(64, 256, batchFirst: true);
///     private readonly Linear _head = new(256, 256);
///     private Tensor? _h, _c;              // the carried state (null: zeros)
///     private (Tensor H, Tensor C)? _last; // where the last forward ended, with its graph
///
///     public override Tensor Forward(Tensor tokens)           // [batch, steps] -> [batch, steps, 256]
///     {
///         var (output, state) = _lstm.Forward(_embed.Forward(tokens), _h is null ? null : (_h, _c!));
///         _last = state;
///         return _head.Forward(output);
///     }
///     public void ResetState() => (_h, _c, _last) = (null, null, null);
///     public void DetachState()
///     {
///         if (_last is not var (h, c)) return;
///         _h = StateBuffer.Carry(_h, h);   // copies the values into a buffer that outlives the step; no graph
///         _c = StateBuffer.Carry(_c, c);
///         _last = null;
///     }
///     public IReadOnlyList&lt;Tensor&gt; State => _h is null ? [] : [_h, _c!];
///     public void LoadState(IReadOnlyList&lt;Tensor&gt; state) { /* check shapes first, then copy */ }
/// }
/// </code>
/// </example>
public interface IStatefulModel
{
    /// <summary>Forgets the carried state: the next forward starts from the initial state (zeros for an RNN).</summary>
    void ResetState();

    /// <summary>
    /// Makes the state the last forward ended in the starting state of the next forward, with its values
    /// only: no gradient flows from the next batch's loss into this batch's graph. A no-op when no forward
    /// ran since the last call. Called inside the step's scope; the carried tensors must outlive it.
    /// </summary>
    void DetachState();

    /// <summary>The carried state's tensors (empty after a reset), e.g. [h, c]; later calls may overwrite them, so copy to keep.</summary>
    IReadOnlyList<Tensor> State { get; }

    /// <summary>Carries copies of <paramref name="state"/> (as <see cref="State"/> returned it; empty resets).</summary>
    /// <exception cref="ArgumentException">The tensors do not fit the model; nothing changed.</exception>
    void LoadState(IReadOnlyList<Tensor> state);
}
