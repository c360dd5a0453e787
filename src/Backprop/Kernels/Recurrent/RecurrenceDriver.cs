using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Elementwise;
using Backprop.Kernels.Gemm;
using Backprop.Threading;

namespace Backprop.Kernels.Recurrent;

/// <summary>The recurrent cells the fused time loop runs.</summary>
internal enum RecurrentCellKind
{
    /// <summary>h' = tanh(W_ih x + b_ih + W_hh h + b_hh).</summary>
    RnnTanh,

    /// <summary>h' = max(W_ih x + b_ih + W_hh h + b_hh, 0).</summary>
    RnnRelu,

    /// <summary>Gates i, f, g, o.</summary>
    Lstm,

    /// <summary>Gates r, z, n.</summary>
    Gru,
}

/// <summary>
/// The buffers and layout of one (layer, direction) over a whole sequence. Rows of the [rows, ·] work
/// buffers are at row(t, b) = t·TimeRows + b·BatchRows ([seq, batch] order: TimeRows = batch, BatchRows = 1,
/// which keeps the rows of one step together), those of Output and DOut at t·OutTimeRows + b·OutBatchRows
/// (batch first: OutTimeRows = 1, OutBatchRows = seq). G is the number of gates (1, 3 or 4), H the hidden
/// size. Pointers a cell does not use may be null.
/// </summary>
internal unsafe struct RecurrenceBuffers<T> where T : unmanaged
{
    public RecurrentCellKind Kind;
    public int Steps, Batch, Hidden;
    public nint TimeRows, BatchRows, OutTimeRows, OutBatchRows;

    /// <summary>Runs the sequence backwards in time (the reverse direction of a bidirectional layer).</summary>
    public bool Reverse;

    /// <summary>Valid steps of each sequence [batch] (1..Steps), or null when all run every step.</summary>
    public int* Lengths;

    /// <summary>[G·H, H], PyTorch's weight_hh.</summary>
    public T* WHh;

    /// <summary>GRU: b_hn [H] (zeros without bias).</summary>
    public T* BiasHn;

    /// <summary>Initial states [batch, H], or null for zeros.</summary>
    public T* H0, C0;

    /// <summary>[rows, G·H]: in, x·W_ihᵀ plus the biases that add to it; out, the gate activations.</summary>
    public T* Gates;

    /// <summary>[rows, H]: the hidden (and LSTM cell) state before each step, written by the forward pass.</summary>
    public T* HPrev, CPrev;

    /// <summary>LSTM: tanh of the new cell state [rows, H].</summary>
    public T* TanhC;

    /// <summary>GRU: W_hn h + b_hn [rows, H].</summary>
    public T* HN;

    /// <summary>[rows, H]: h after each step, zero past a sequence's length.</summary>
    public T* Output;

    /// <summary>[batch, H]: the states after each sequence's last valid step.</summary>
    public T* HFinal, CFinal;

    /// <summary>Backward: the gradients of Output [rows, H], HFinal and CFinal [batch, H] (null: zero).</summary>
    public T* DOut, DHFinal, DCFinal;

    /// <summary>Backward, out: the gradients of the gate pre-activations [rows, G·H] (zero rows past a sequence's length).</summary>
    public T* DGates;

    /// <summary>Backward, GRU, out: the gradient of W_hn h + b_hn [rows, H].</summary>
    public T* DHN;

    /// <summary>Backward, out: the gradients of H0 and C0 [batch, H].</summary>
    public T* DH, DC;
}

/// <summary>
/// The time loop of a fused recurrent layer, forward and backward, for all four cells. The input
/// projection of every step (one large GEMM) and the weight gradients (large GEMMs over all steps) are
/// the caller's; this runs what must go step by step.
/// <para>
/// Forward, per step: gates = (x·W_ihᵀ + b) + h·W_hhᵀ, then the cell's pointwise update. W_hhᵀ is packed
/// once per sequence into NR-column panels grouped by hidden unit block (one panel per gate for each block
/// of NR units), so a thread that owns a range of hidden units computes all gate columns of its units and
/// then their cell update, with no wait in between; the threads meet once per step, because the next
/// step's product needs the whole new h. Backward, per step: the pointwise gate backward of the thread's
/// units, then (after the one meeting per step) dh_prev for its units = dGates·W_hh[:, units] over all
/// gates, with W_hh packed once per sequence too.
/// </para>
/// <para>
/// The hidden units are cut into slots, one per thread, and <see cref="Parallelism.ParallelFor{TBody}"/>
/// hands each thread its slots for the whole sequence, so a thread keeps its share of the packed weights
/// in its own cache from step to step. Before each step a thread waits until every slot has finished the
/// step before (a counter per step: a short spin, then a sleep until it advances); a thread given several slots (the pool busy, a nested call, or one
/// thread) runs them one after another and waits only for the others. Every value is computed by the
/// same kernel call whichever thread runs its slot, so results depend on neither timing nor the thread
/// count. Variable lengths follow PyTorch's packed sequences: a row whose sequence has no step t keeps its
/// state unchanged (forward: the final state stays the one at its last valid step; reverse: the state
/// stays h0 until its last valid step), outputs zero there, and passes gradients through unchanged.
/// </para>
/// </summary>
internal static unsafe class RecurrenceDriver
{
    /// <summary>Multiply-adds per step below which the loop stays on the calling thread.</summary>
    internal const long ParallelThreshold = 1 << 15;

    /// <summary>Number of gates of a cell.</summary>
    public static int Gates(RecurrentCellKind kind) => kind switch { RecurrentCellKind.Lstm => 4, RecurrentCellKind.Gru => 3, _ => 1 };

    /// <summary>Runs the sequence forward: fills Gates (activations), HPrev, CPrev, TanhC, HN, Output, HFinal, CFinal.</summary>
    public static void Forward<T>(in RecurrenceBuffers<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (SimdWidths.Has512) Loop<T, Vector512Tiles<T>>.Forward(b);
        else if (SimdWidths.Has256) Loop<T, Tiles6x2<T, Width256<T>, Vector256<T>>>.Forward(b);
        else if (SimdWidths.Has128) Loop<T, Tiles6x2<T, Width128<T>, Vector128<T>>>.Forward(b);
        else Loop<T, ScalarTiles<T>>.Forward(b);
    }

    /// <summary>Backpropagates through the sequence: fills DGates, DHN, DH (dh0) and DC (dc0) from DOut, DHFinal and DCFinal.</summary>
    public static void Backward<T>(in RecurrenceBuffers<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (SimdWidths.Has512) Loop<T, Vector512Tiles<T>>.Backward(b);
        else if (SimdWidths.Has256) Loop<T, Tiles6x2<T, Width256<T>, Vector256<T>>>.Backward(b);
        else if (SimdWidths.Has128) Loop<T, Tiles6x2<T, Width128<T>, Vector128<T>>>.Backward(b);
        else Loop<T, ScalarTiles<T>>.Backward(b);
    }

    private static class Loop<T, K> where T : unmanaged, IFloatingPointIeee754<T> where K : struct, IRecurrentTiles<T>
    {
        public static void Forward(in RecurrenceBuffers<T> b)
        {
            if (b.Steps <= 0 || b.Batch <= 0 || b.Hidden <= 0) return;
            int h = b.Hidden;
            // The state before the first step: h0, c0 (or zeros) in the rows of the first step in time.
            nint first = (b.Reverse ? b.Steps - 1 : 0) * b.TimeRows;
            for (int r = 0; r < b.Batch; r++)
            {
                nint row = (first + r * b.BatchRows) * h;
                CopyOrClear(b.H0 == null ? null : b.H0 + r * h, b.HPrev + row, h);
                if (b.Kind == RecurrentCellKind.Lstm) CopyOrClear(b.C0 == null ? null : b.C0 + r * h, b.CPrev + row, h);
            }
            Run(b, backward: false);
        }

        public static void Backward(in RecurrenceBuffers<T> b)
        {
            if (b.Steps <= 0 || b.Batch <= 0 || b.Hidden <= 0) return;
            int n = b.Batch * b.Hidden;
            CopyOrClear(b.DHFinal, b.DH, n);
            if (b.Kind == RecurrentCellKind.Lstm) CopyOrClear(b.DCFinal, b.DC, n);
            Run(b, backward: true);
        }

        private static void Run(in RecurrenceBuffers<T> b, bool backward)
        {
            int g = Gates(b.Kind), h = b.Hidden, nr = K.NR;
            int blocks = (h + nr - 1) / nr;
            long perStep = (long)b.Batch * g * h * h;
            int slots = perStep < ParallelThreshold ? 1 : Math.Min(Parallelism.ThreadCount, blocks);
            int steps = backward ? b.Steps + 1 : b.Steps;  // the backward ends with the product that gives dh0
            nint packed = (nint)blocks * g * h * nr;
            T* panels = (T*)RecurrentWorkspace.Get((packed + GemmPacking.Slack) * sizeof(T));
            // Per step, the slots done with it; the last entry is set when a slot failed, so no thread waits forever.
            int[]? rented = steps > 512 ? ArrayPool<int>.Shared.Rent(steps + 1) : null;
            Span<int> done = rented is null ? stackalloc int[steps + 1] : rented.AsSpan(0, steps + 1);
            done.Clear();
            try
            {
                fixed (int* pd = done)
                {
                    var work = new Work { B = b, Panels = panels, Done = pd, Steps = steps, Slots = slots, Blocks = blocks, Backward = backward };
                    Parallelism.ParallelFor(slots, 1, ref work);
                }
            }
            finally
            {
                if (rented is not null) ArrayPool<int>.Shared.Return(rented);
            }
        }

        /// <summary>A thread's slots (ranges of hidden-unit blocks) through every step.</summary>
        private struct Work : IRangeBody
        {
            public RecurrenceBuffers<T> B;
            public T* Panels;
            public int* Done;
            public int Steps, Slots, Blocks;
            public bool Backward;

            public readonly void Invoke(int start, int end)
            {
                try
                {
                    for (int step = 0; step < Steps; step++)
                    {
                        // The step before must be finished in every slot (it wrote the whole state this step reads).
                        if (step > 0 && !WaitFor(ref Done[step - 1], Slots, ref Done[Steps])) return;
                        for (int slot = start; slot < end; slot++)
                        {
                            int q0 = Blocks * slot / Slots, q1 = Blocks * (slot + 1) / Slots;
                            if (step == 0) Pack(q0, q1);
                            if (Backward) BackwardStep(step, q0, q1);
                            else ForwardStep(step, q0, q1);
                        }
                        Interlocked.Add(ref Done[step], end - start);
                        ProgressWait.Advanced();
                    }
                }
                catch
                {
                    Volatile.Write(ref Done[Steps], 1); // the others stop waiting; the pool rethrows this exception
                    ProgressWait.Advanced();
                    throw;
                }
            }

            /// <summary>
            /// Forward: for each block q and gate, the panel of W_hhᵀ with the block's columns of that gate, [H, NR].
            /// Backward: for each block q, the columns of W_hh for the block's units, [G·H, NR].
            /// </summary>
            private readonly void Pack(int q0, int q1)
            {
                int g = Gates(B.Kind), h = B.Hidden, nr = K.NR;
                for (int q = q0; q < q1; q++)
                {
                    int u0 = q * nr, w = Math.Min(nr, h - u0);
                    if (Backward)
                        GemmPacking.PackB(false, B.WHh + u0, h, g * h, w, Panels + (nint)q * g * h * nr, nr);
                    else
                        for (int gate = 0; gate < g; gate++)
                            GemmPacking.PackB(true, B.WHh + (nint)(gate * h + u0) * h, h, h, w, Panels + (nint)(q * g + gate) * h * nr, nr);
                }
            }

            private readonly int Time(int step) => B.Reverse ? B.Steps - 1 - step : step;

            private readonly bool Active(int t, int row) => B.Lengths == null || t < B.Lengths[row];

            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            private readonly void ForwardStep(int step, int q0, int q1)
            {
                int g = Gates(B.Kind), h = B.Hidden, gh = g * h, nr = K.NR;
                int t = Time(step);
                bool last = step == B.Steps - 1;
                int tNext = B.Reverse ? t - 1 : t + 1;
                nint row0 = t * B.TimeRows, next0 = tNext * B.TimeRows;
                T* a = B.HPrev + row0 * h;
                nint lda = B.BatchRows * h;
                for (int q = q0; q < q1; q++)
                {
                    int u0 = q * nr, w = Math.Min(nr, h - u0);
                    // gates[:, gate·H + units] += h·W_hhᵀ (GRU's n gate: hn = h·W_hnᵀ on its own).
                    for (int gate = 0; gate < g; gate++)
                    {
                        T* panel = Panels + (nint)(q * g + gate) * h * nr;
                        if (B.Kind == RecurrentCellKind.Gru && gate == 2)
                            RecurrentGemm.Panel<T, K>(B.Batch, w, h, a, lda, panel, B.HN + row0 * h + u0, B.BatchRows * h, accumulate: false);
                        else
                            RecurrentGemm.Panel<T, K>(B.Batch, w, h, a, lda, panel, B.Gates + row0 * gh + gate * h + u0, B.BatchRows * gh, accumulate: true);
                    }
                    for (int r = 0; r < B.Batch; r++)
                    {
                        nint row = row0 + r * B.BatchRows, rowNext = next0 + r * B.BatchRows;
                        T* hp = B.HPrev + row * h + u0;
                        T* hn = last ? B.HFinal + r * h + u0 : B.HPrev + rowNext * h + u0;
                        T* output = B.Output + (t * B.OutTimeRows + r * B.OutBatchRows) * h + u0;
                        T* cp = null, cn = null;
                        if (B.Kind == RecurrentCellKind.Lstm)
                        {
                            cp = B.CPrev + row * h + u0;
                            cn = last ? B.CFinal + r * h + u0 : B.CPrev + rowNext * h + u0;
                        }
                        if (!Active(t, r))
                        {
                            // Past this sequence's end (or, reversed, before its start): the state carries over, the output is zero.
                            new ReadOnlySpan<T>(hp, w).CopyTo(new Span<T>(hn, w));
                            if (cp != null) new ReadOnlySpan<T>(cp, w).CopyTo(new Span<T>(cn, w));
                            new Span<T>(output, w).Clear();
                            continue;
                        }
                        T* gates = B.Gates + row * gh + u0;
                        switch (B.Kind)
                        {
                            case RecurrentCellKind.Lstm:
                                LstmCellKernel.Forward(w, gates, h, cp, cn, B.TanhC + row * h + u0, hn, output);
                                break;
                            case RecurrentCellKind.Gru:
                                GruCellKernel.Forward(w, gates, h, B.HN + row * h + u0, B.BiasHn + u0, hp, hn, output);
                                break;
                            default:
                                RnnCellKernel.Forward(w, B.Kind == RecurrentCellKind.RnnRelu, gates, hn, output);
                                break;
                        }
                    }
                }
            }

            /// <summary>
            /// Backward iteration j (0..Steps): first dh for the slot's units = (direct part) + dGates·W_hh of the
            /// step handled in iteration j − 1; then the pointwise backward of forward step Steps − 1 − j.
            /// </summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            private readonly void BackwardStep(int j, int q0, int q1)
            {
                int g = Gates(B.Kind), h = B.Hidden, gh = g * h, nr = K.NR;
                if (j > 0)
                {
                    int tAfter = Time(B.Steps - j);
                    nint after0 = tAfter * B.TimeRows;
                    T* dGates = B.DGates + after0 * gh;
                    for (int q = q0; q < q1; q++)
                    {
                        int u0 = q * nr, w = Math.Min(nr, h - u0);
                        T* panel = Panels + (nint)q * gh * nr;
                        if (B.Kind == RecurrentCellKind.Gru)
                        {
                            // dh_prev += [dr, dz]·W_h(r,z) + d(hn)·W_hn
                            RecurrentGemm.Panel<T, K>(B.Batch, w, 2 * h, dGates, B.BatchRows * gh, panel, B.DH + u0, h, accumulate: true);
                            RecurrentGemm.Panel<T, K>(B.Batch, w, h, B.DHN + after0 * h, B.BatchRows * h, panel + (nint)2 * h * nr, B.DH + u0, h, accumulate: true);
                        }
                        else
                            RecurrentGemm.Panel<T, K>(B.Batch, w, gh, dGates, B.BatchRows * gh, panel, B.DH + u0, h, accumulate: true);
                    }
                }
                if (j == B.Steps) return;
                int t = Time(B.Steps - 1 - j);
                nint row0 = t * B.TimeRows;
                for (int q = q0; q < q1; q++)
                {
                    int u0 = q * nr, w = Math.Min(nr, h - u0);
                    for (int r = 0; r < B.Batch; r++)
                    {
                        nint row = row0 + r * B.BatchRows;
                        T* dGates = B.DGates + row * gh + u0;
                        if (!Active(t, r))
                        {
                            // No step here: no gate gradients; dh and dc pass through unchanged.
                            for (int gate = 0; gate < g; gate++) new Span<T>(dGates + gate * h, w).Clear();
                            if (B.Kind == RecurrentCellKind.Gru) new Span<T>(B.DHN + row * h + u0, w).Clear();
                            continue;
                        }
                        T* gates = B.Gates + row * gh + u0;
                        T* dh = B.DH + r * h + u0, dOut = B.DOut + (t * B.OutTimeRows + r * B.OutBatchRows) * h + u0;
                        switch (B.Kind)
                        {
                            case RecurrentCellKind.Lstm:
                                LstmCellKernel.Backward(w, gates, h, B.TanhC + row * h + u0, B.CPrev + row * h + u0, dh, dOut, B.DC + r * h + u0, dGates);
                                break;
                            case RecurrentCellKind.Gru:
                                GruCellKernel.Backward(w, gates, h, B.HN + row * h + u0, B.HPrev + row * h + u0, dh, dOut, dGates, B.DHN + row * h + u0);
                                break;
                            default:
                                RnnCellKernel.Backward(w, B.Kind == RecurrentCellKind.RnnRelu, gates, dh, dOut, dGates);
                                break;
                        }
                    }
                }
            }

            /// <summary>
            /// Waits until <paramref name="counter"/> reaches <paramref name="target"/> (every thread of the loop is
            /// running a slot that counts); false if a slot failed meanwhile. A short spin, then a sleep
            /// (<see cref="ProgressWait"/>), so a thread whose partner was descheduled gives its core to it.
            /// </summary>
            private static bool WaitFor(ref int counter, int target, ref int failed) => ProgressWait.Until(ref counter, target, ref failed);
        }

        private static void CopyOrClear(T* src, T* dst, int n)
        {
            if (src == null) new Span<T>(dst, n).Clear();
            else new ReadOnlySpan<T>(src, n).CopyTo(new Span<T>(dst, n));
        }
    }
}

/// <summary>
/// The calling thread's buffer for the packed recurrent weights, 64-byte aligned on the pinned object heap,
/// grown on demand: a steady training loop allocates nothing here after the first sequence.
/// </summary>
internal static unsafe class RecurrentWorkspace
{
    [ThreadStatic] private static byte[]? t_buffer;

    /// <summary>Scratch of at least <paramref name="bytes"/>, valid until the next call on this thread.</summary>
    public static void* Get(nint bytes)
    {
        if (t_buffer is null || t_buffer.Length - 64 < bytes)
            t_buffer = GC.AllocateUninitializedArray<byte>((int)Math.Max(bytes + 64, 4096), pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(t_buffer));
        return (void*)((address + 63) & ~(nint)63);
    }
}
