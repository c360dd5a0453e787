using System.Globalization;
using System.Text;

namespace Backprop.Tensors;

/// <summary>Prints tensors like PyTorch: nested brackets, edge items only for large tensors.</summary>
internal static class TensorFormatter
{
    private const int SummarizeAbove = 1000;
    private const int EdgeItems = 3;

    public static string Format(Tensor t)
    {
        double[] values = t.ToDoubleArray();
        bool summarize = t.Numel > SummarizeAbove;
        string[] cells = FormatCells(values, t.DType);
        int width = 0;
        foreach (string c in cells) width = Math.Max(width, c.Length);

        var sb = new StringBuilder("tensor(");
        if (t.Rank == 0)
            sb.Append(cells[0]);
        else
            AppendDim(sb, t.Shape, 0, 0, cells, width, summarize, indent: 7);
        sb.Append(", shape=").Append(t.Shape).Append(", dtype=").Append(t.DType.Name());
        if (t.GradFn is not null) sb.Append(", grad_fn=").Append(t.GradFn.Name);
        else if (t.RequiresGrad) sb.Append(", requires_grad=true");
        return sb.Append(')').ToString();
    }

    private static string[] FormatCells(double[] values, DType dtype)
    {
        var cells = new string[values.Length];
        if (dtype == DType.Bool)
        {
            for (int i = 0; i < values.Length; i++) cells[i] = values[i] != 0 ? "True" : "False"; // as PyTorch prints them
            return cells;
        }
        if (dtype == DType.Int64)
        {
            for (int i = 0; i < values.Length; i++) cells[i] = ((long)values[i]).ToString(CultureInfo.InvariantCulture);
            return cells;
        }
        double maxAbs = 0;
        foreach (double v in values)
            if (double.IsFinite(v)) maxAbs = Math.Max(maxAbs, Math.Abs(v));
        bool scientific = maxAbs >= 1e8 || (maxAbs > 0 && maxAbs < 1e-4);
        for (int i = 0; i < values.Length; i++)
        {
            double v = values[i];
            cells[i] = double.IsNaN(v) ? "nan"
                : double.IsPositiveInfinity(v) ? "inf"
                : double.IsNegativeInfinity(v) ? "-inf"
                : scientific ? v.ToString("0.0000e+00", CultureInfo.InvariantCulture)
                : v.ToString("0.0000", CultureInfo.InvariantCulture);
        }
        return cells;
    }

    private static void AppendDim(StringBuilder sb, Shape shape, int dim, int flatStart, string[] cells, int width, bool summarize, int indent)
    {
        int n = shape[dim];
        int inner = 1;
        for (int d = dim + 1; d < shape.Rank; d++) inner *= shape[d];
        sb.Append('[');
        for (int i = 0; i < n; i++)
        {
            if (summarize && n > 2 * EdgeItems && i == EdgeItems)
            {
                sb.Append(dim == shape.Rank - 1 ? "..., " : "...,\n" + new string(' ', indent + dim + 1));
                i = n - EdgeItems - 1;
                continue;
            }
            if (dim == shape.Rank - 1)
                sb.Append(cells[flatStart + i].PadLeft(width));
            else
                AppendDim(sb, shape, dim + 1, flatStart + i * inner, cells, width, summarize, indent);
            if (i < n - 1)
            {
                sb.Append(',');
                if (dim == shape.Rank - 1) sb.Append(' ');
                else sb.Append('\n', shape.Rank - 1 - dim).Append(' ', indent + dim + 1);
            }
        }
        sb.Append(']');
    }
}
