using System.Text;
using Backprop.Ops.Reduce;
using Backprop.Tensors;

namespace Backprop.Ops.Einsum;

/// <summary>
/// torch.einsum over existing differentiable ops, so its gradient needs no code of its own: each operand first
/// takes the diagonal of repeated subscripts (a view), drops size-1 dims that broadcast against a larger size,
/// and sums subscripts no other operand and not the output uses; the operands are then contracted left to right,
/// each pair as one batched matrix product (permute and reshape to [batch, rows, inner]·[batch, inner, cols]),
/// and the result is summed over what is left and permuted to the output order.
/// </summary>
/// <remarks>
/// Semantics are PyTorch's: without "->" the output is the ellipsis dims followed by the subscripts used exactly
/// once, in alphabetical order (capitals first); ellipsis dims broadcast (aligned from the right) and are summed when
/// an explicit output leaves "..." out; a subscript may have size 1 in one operand and n in another (broadcast).
/// PyTorch contracts left to right too (without opt_einsum), so results agree to rounding. Int64 operands contract by
/// a broadcast multiply and sum (the matrix product is float only).
/// </remarks>
internal static class EinsumOp
{
    /// <summary>Evaluates <paramref name="equation"/> on <paramref name="operands"/>.</summary>
    public static Tensor Forward(string equation, IReadOnlyList<Tensor> operands)
    {
        ArgumentNullException.ThrowIfNull(operands);
        if (operands.Count == 0)
            throw new ArgumentException($"Einsum \"{equation}\": at least one operand is required");
        for (int i = 0; i < operands.Count; i++)
            if (operands[i] is null) throw new ArgumentNullException(nameof(operands), $"Einsum \"{equation}\": operand {i} is null");
        EinsumEquation eq = EinsumEquation.Parse(equation, operands.Count);
        CheckDTypes(eq, operands);

        // Full subscript lists: "..." becomes Letters + k for the ellipsis dims, aligned from the right.
        int ellipsisRank = 0;
        var ell = new int[operands.Count];
        for (int i = 0; i < operands.Count; i++)
        {
            int named = 0;
            bool has = false;
            foreach (int l in eq.Inputs[i]) if (l == EinsumEquation.Ellipsis) has = true; else named++;
            int rank = operands[i].Rank;
            if (!has && named != rank)
                throw new ArgumentException($"Einsum \"{eq.Text}\": the {named} subscripts \"{eq.Terms[i]}\" do not match the {rank} dims of operand {i} (shape {operands[i].Shape}) and no \"...\" was given" + Shapes(operands));
            if (named > rank)
                throw new ArgumentException($"Einsum \"{eq.Text}\": \"{eq.Terms[i]}\" has {named} subscripts besides \"...\", more than the {rank} dims of operand {i} (shape {operands[i].Shape})" + Shapes(operands));
            ell[i] = rank - named;
            ellipsisRank = Math.Max(ellipsisRank, ell[i]);
        }
        int labelCount = EinsumEquation.Letters + ellipsisRank;
        var labels = new int[operands.Count][];
        for (int i = 0; i < operands.Count; i++) labels[i] = Expand(eq.Inputs[i], ell[i], ellipsisRank);

        int[] output = OutputLabels(eq, labels, ellipsisRank, labelCount, operands);
        int[] sizes = Sizes(eq, labels, labelCount, operands);

        // Per operand: diagonals, broadcast size-1 dims dropped.
        var terms = new (Tensor T, List<int> L)[operands.Count];
        for (int i = 0; i < operands.Count; i++) terms[i] = Prepare(operands[i], labels[i], sizes);

        var inOutput = new bool[labelCount];
        foreach (int l in output) inOutput[l] = true;
        (Tensor cur, List<int> curL) = terms[0];
        for (int i = 1; i <= operands.Count; i++)
        {
            // Subscripts still needed after this step: the output's and those of the operands not yet contracted.
            bool[] needed = (bool[])inOutput.Clone();
            for (int j = i + 1; j < operands.Count; j++) foreach (int l in terms[j].L) needed[l] = true;
            if (i == operands.Count)
            {
                (cur, curL) = SumUnneeded(cur, curL, needed, null);
                break;
            }
            (Tensor b, List<int> bL) = terms[i];
            (cur, curL) = SumUnneeded(cur, curL, needed, bL);
            (b, bL) = SumUnneeded(b, bL, needed, curL);
            (cur, curL) = Contract(cur, curL, b, bL, needed, sizes);
        }

        var order = new int[output.Length];
        for (int j = 0; j < output.Length; j++) order[j] = curL.IndexOf(output[j]);
        return cur.Permute(order);
    }

    private static void CheckDTypes(EinsumEquation eq, IReadOnlyList<Tensor> operands)
    {
        Tensor first = operands[0];
        for (int i = 0; i < operands.Count; i++)
        {
            NumericDType.Require(operands[i], $"Einsum \"{eq.Text}\" (operand {i})");
            if (operands[i].DType != first.DType)
                throw new ArgumentException($"Einsum \"{eq.Text}\": operands must share a dtype, but operand 0 is {first.DType.Name()} (shape {first.Shape}) and operand {i} is {operands[i].DType.Name()} (shape {operands[i].Shape}); convert with To(DType)");
        }
    }

    /// <summary>A term's subscripts with "..." replaced by the last <paramref name="count"/> of the ellipsis labels.</summary>
    private static int[] Expand(int[] term, int count, int ellipsisRank)
    {
        var full = new List<int>(term.Length + count);
        foreach (int l in term)
        {
            if (l != EinsumEquation.Ellipsis) { full.Add(l); continue; }
            for (int k = ellipsisRank - count; k < ellipsisRank; k++) full.Add(EinsumEquation.Letters + k);
        }
        return [.. full];
    }

    private static int[] OutputLabels(EinsumEquation eq, int[][] labels, int ellipsisRank, int labelCount, IReadOnlyList<Tensor> operands)
    {
        var count = new int[labelCount];
        foreach (int[] term in labels) foreach (int l in term) count[l]++;
        var output = new List<int>();
        if (eq.Output is null)
        {
            for (int k = 0; k < ellipsisRank; k++) output.Add(EinsumEquation.Letters + k);
            for (int l = 0; l < EinsumEquation.Letters; l++) if (count[l] == 1) output.Add(l);
            return [.. output];
        }
        var seen = new bool[labelCount];
        foreach (int l in eq.Output)
        {
            if (l == EinsumEquation.Ellipsis)
            {
                for (int k = 0; k < ellipsisRank; k++) output.Add(EinsumEquation.Letters + k);
                continue;
            }
            if (count[l] == 0)
                throw new ArgumentException($"Einsum \"{eq.Text}\": output subscript {EinsumEquation.Letter(l)} does not appear in the subscripts of any operand" + Shapes(operands));
            if (seen[l])
                throw new ArgumentException($"Einsum \"{eq.Text}\": output subscript {EinsumEquation.Letter(l)} appears more than once in the output");
            seen[l] = true;
            output.Add(l);
        }
        return [.. output];
    }

    /// <summary>The size of every subscript: equal wherever it appears, or 1 in some operands (broadcast).</summary>
    private static int[] Sizes(EinsumEquation eq, int[][] labels, int labelCount, IReadOnlyList<Tensor> operands)
    {
        var sizes = new int[labelCount];
        var from = new int[labelCount];
        Array.Fill(sizes, -1);
        for (int i = 0; i < labels.Length; i++)
        {
            Shape shape = operands[i].Shape;
            for (int p = 0; p < labels[i].Length; p++)
            {
                int l = labels[i][p], s = shape[p];
                int first = Array.IndexOf(labels[i], l);
                if (first < p && shape[first] != s)
                    throw new ArgumentException($"Einsum \"{eq.Text}\": subscript {Name(l)} is repeated in operand {i} (shape {shape}) with different sizes, {shape[first]} != {s}");
                if (sizes[l] == -1 || sizes[l] == 1) { if (sizes[l] != 1 || s != 1) from[l] = i; sizes[l] = s; }
                else if (s != 1 && s != sizes[l])
                    throw new ArgumentException($"Einsum \"{eq.Text}\": subscript {Name(l)} has size {s} in operand {i} (shape {shape}), which does not broadcast with size {sizes[l]} in operand {from[l]} (shape {operands[from[l]].Shape})");
            }
        }
        return sizes;
    }

    private static string Name(int label) => label < EinsumEquation.Letters ? EinsumEquation.Letter(label).ToString() : $"... (dim {label - EinsumEquation.Letters} of the ellipsis)";

    private static string Shapes(IReadOnlyList<Tensor> operands)
    {
        var sb = new StringBuilder(" (operand shapes ");
        for (int i = 0; i < operands.Count; i++) sb.Append(i == 0 ? "" : ", ").Append(operands[i].Shape);
        return sb.Append(')').ToString();
    }

    /// <summary>The operand with one dim per distinct subscript: diagonals taken, size-1 broadcast dims dropped.</summary>
    private static (Tensor, List<int>) Prepare(Tensor t, int[] labels, int[] sizes)
    {
        var unique = new List<int>();
        var groups = new List<List<int>>();
        for (int p = 0; p < labels.Length; p++)
        {
            int at = unique.IndexOf(labels[p]);
            if (at < 0) { unique.Add(labels[p]); groups.Add([p]); }
            else groups[at].Add(p);
        }
        if (unique.Count < labels.Length)
        {
            var g = new int[groups.Count][];
            for (int j = 0; j < g.Length; j++) g[j] = [.. groups[j]];
            t = DiagonalNode.Forward(t, g);
        }
        var keep = new List<int>();
        var kept = new List<int>();
        for (int j = 0; j < unique.Count; j++)
        {
            if (t.Shape[j] == 1 && sizes[unique[j]] != 1) continue; // broadcasts: as if the operand did not have it
            keep.Add(t.Shape[j]);
            kept.Add(unique[j]);
        }
        if (kept.Count < unique.Count) t = t.Reshape([.. keep]);
        return (t, kept);
    }

    /// <summary>Sums the dims whose subscripts are neither needed later nor in <paramref name="partner"/>.</summary>
    private static (Tensor, List<int>) SumUnneeded(Tensor t, List<int> labels, bool[] needed, List<int>? partner)
    {
        var dims = new List<int>();
        var rest = new List<int>();
        for (int p = 0; p < labels.Count; p++)
        {
            if (needed[labels[p]] || (partner is not null && partner.Contains(labels[p]))) rest.Add(labels[p]);
            else dims.Add(p);
        }
        return dims.Count == 0 ? (t, labels) : (t.Sum([.. dims]), rest);
    }

    /// <summary>
    /// Contracts two operands: subscripts in both and needed later are batch dims, in both and not needed are
    /// summed by the product, the others are kept. Result subscripts: batch, then a's own, then b's own.
    /// </summary>
    private static (Tensor, List<int>) Contract(Tensor a, List<int> aL, Tensor b, List<int> bL, bool[] needed, int[] sizes)
    {
        List<int> batch = [], sum = [], aOnly = [], bOnly = [];
        foreach (int l in aL)
        {
            if (!bL.Contains(l)) aOnly.Add(l);
            else if (needed[l]) batch.Add(l);
            else sum.Add(l);
        }
        foreach (int l in bL) if (!aL.Contains(l)) bOnly.Add(l);
        int nb = Product(batch, sizes), m = Product(aOnly, sizes), k = Product(sum, sizes), n = Product(bOnly, sizes);

        Tensor a3 = a.Permute(Positions(aL, batch, aOnly, sum)).Reshape(nb, m, k);            // [batch, m, k]
        Tensor y;
        if (a.DType.IsFloatingPoint())
        {
            Tensor b3 = b.Permute(Positions(bL, batch, sum, bOnly)).Reshape(nb, k, n);        // [batch, k, n]
            y = batch.Count == 0 ? a3.Reshape(m, k).MatMul(b3.Reshape(k, n)) : a3.MatMul(b3); // [batch, m, n]
        }
        else
        {
            Tensor b3 = b.Permute(Positions(bL, batch, bOnly, sum)).Reshape(nb, 1, n, k);     // [batch, 1, n, k]
            y = (a3.Reshape(nb, m, 1, k) * b3).Sum(-1);                                          // [batch, m, n]
        }

        var labels = new List<int>(batch.Count + aOnly.Count + bOnly.Count);
        labels.AddRange(batch);
        labels.AddRange(aOnly);
        labels.AddRange(bOnly);
        var shape = new int[labels.Count];
        for (int j = 0; j < shape.Length; j++) shape[j] = sizes[labels[j]];
        return (y.Reshape(shape), labels);
    }

    private static int Product(List<int> labels, int[] sizes)
    {
        int p = 1;
        foreach (int l in labels) p *= sizes[l];
        return p;
    }

    /// <summary>The permutation putting the dims of the given subscript groups first, in group order.</summary>
    private static int[] Positions(List<int> labels, List<int> g0, List<int> g1, List<int> g2)
    {
        var order = new int[labels.Count];
        int j = 0;
        foreach (int l in g0) order[j++] = labels.IndexOf(l);
        foreach (int l in g1) order[j++] = labels.IndexOf(l);
        foreach (int l in g2) order[j++] = labels.IndexOf(l);
        return order;
    }
}
