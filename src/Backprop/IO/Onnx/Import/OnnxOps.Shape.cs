using Backprop.Tensors;

namespace Backprop.IO.Onnx.Import;

// Shapes, views and indexing. Shape values are int64 tensors computed at run time, so a graph that reads
// its input's shape (Shape → Gather → Concat → Reshape) follows a dynamic batch dim.
internal static partial class OnnxOps
{
    private static void AddShape(Dictionary<string, OnnxOp> t)
    {
        t["Reshape"] = Reshape;
        t["Flatten"] = (n, x, _) =>
        {
            Tensor v = In(n, x, 0);
            long axis = n.Int("axis", 1);
            int a = axis == v.Rank ? v.Rank : Axis(n, axis, v.Rank);
            int rows = 1;
            for (int i = 0; i < a; i++) rows *= v.Shape[i];
            return One(v.Reshape(rows, rows == 0 ? 0 : v.Numel / rows)); // [d0·…·d(a−1), rest]
        };
        t["Transpose"] = (n, x, _) =>
        {
            Tensor v = In(n, x, 0);
            long[] perm = n.Ints("perm") ?? [.. Enumerable.Range(0, v.Rank).Reverse().Select(i => (long)i)];
            return One(v.Permute(Axes(n, perm, v.Rank)));
        };
        t["Concat"] = (n, x, _) =>
        {
            Tensor first = In(n, x, 0);
            int axis = Axis(n, n.Int("axis", 0), first.Rank);
            var parts = new List<Tensor>(x.Length);
            for (int i = 0; i < x.Length; i++) parts.Add(In(n, x, i));
            return One(Tensor.Cat(parts, axis));
        };
        t["Split"] = Split;
        t["Slice"] = Slice;
        t["Gather"] = Gather;
        t["Unsqueeze"] = (n, x, _) =>
        {
            Tensor v = In(n, x, 0);
            long[] axes = n.Opset < 13 ? n.Ints("axes") ?? [] : Longs(n, In(n, x, 1), "axes");
            int[] dims = Axes(n, axes, v.Rank + axes.Length);
            Array.Sort(dims);
            foreach (int d in dims) v = v.Unsqueeze(d);
            return One(v);
        };
        t["Squeeze"] = (n, x, _) =>
        {
            Tensor v = In(n, x, 0);
            long[]? axes = n.Opset < 13 ? n.Ints("axes") : Optional(x, 1) is { } a ? Longs(n, a, "axes") : null;
            if (axes is null) return One(v.Squeeze());
            int[] dims = Axes(n, axes, v.Rank);
            Array.Sort(dims);
            for (int i = dims.Length - 1; i >= 0; i--)
            {
                if (v.Shape[dims[i]] != 1) throw new ArgumentException($"cannot squeeze dim {dims[i]} of size {v.Shape[dims[i]]} (shape {v.Shape})");
                v = v.Squeeze(dims[i]);
            }
            return One(v);
        };
        t["Shape"] = (n, x, _) =>
        {
            Tensor v = In(n, x, 0);
            int r = v.Rank;
            long start = n.Int("start", 0), end = n.Int("end", r);
            int s = (int)Math.Clamp(start < 0 ? start + r : start, 0, r), e = (int)Math.Clamp(end < 0 ? end + r : end, 0, r);
            long[] dims = [.. v.Shape.ToArray().Skip(s).Take(Math.Max(0, e - s)).Select(d => (long)d)];
            return One(Tensor.FromArray(dims, new Shape(dims.Length)));
        };
        t["Size"] = (n, x, _) => One(Tensor.Scalar(In(n, x, 0).Numel, DType.Int64));
        t["ConstantOfShape"] = (n, x, _) =>
        {
            int[] shape = Dims(n, Longs(n, In(n, x, 0), "shape"));
            Tensor value = n.Tensor("value") ?? Tensor.Zeros([1]);
            if (value.Numel != 1) throw new InvalidDataException($"{n.Source}: {n.Describe}: attribute 'value' must hold one element, got {value.Shape}");
            return One(Tensor.Full(new Shape(shape), value.Reshape(1)[0], value.DType));
        };
        t["Expand"] = (n, x, _) =>
        {
            Tensor v = In(n, x, 0);
            int[] shape = Dims(n, Longs(n, In(n, x, 1), "shape"));
            // Numpy broadcasting of the two shapes (a 1 in the requested shape keeps the input's size).
            int rank = Math.Max(v.Rank, shape.Length);
            var target = new int[rank];
            for (int i = 0; i < rank; i++)
            {
                int a = i - (rank - v.Rank) >= 0 ? v.Shape[i - (rank - v.Rank)] : 1, b = i - (rank - shape.Length) >= 0 ? shape[i - (rank - shape.Length)] : 1;
                if (a != b && a != 1 && b != 1) throw new ArgumentException($"input {v.Shape} does not broadcast to [{string.Join(", ", shape)}]");
                target[i] = a == 1 ? b : a;
            }
            return One(v.BroadcastTo(new Shape(target)));
        };
        t["Tile"] = (n, x, _) =>
        {
            Tensor v = In(n, x, 0);
            long[] repeats = Longs(n, In(n, x, 1), "repeats");
            if (repeats.Length != v.Rank) throw new ArgumentException($"repeats has {repeats.Length} entries for an input of rank {v.Rank}");
            return One(v.Repeat(Dims(n, repeats)));
        };
        t["Range"] = (n, x, _) =>
        {
            Tensor start = In(n, x, 0);
            double a = Scalar(n, start, "start"), b = Scalar(n, In(n, x, 1), "limit"), d = Scalar(n, In(n, x, 2), "delta");
            // ONNX gives max(ceil((limit − start)/delta), 0) elements: an empty range where Arange would refuse the direction.
            if ((b - a) * d <= 0 && d != 0) return One(Tensor.Zeros([0], start.DType));
            return One(Tensor.Arange(a, b, d, start.DType));
        };
        t["Constant"] = (n, _, _) => One(Constant(n));
    }

    private static int[] Dims(OnnxNode node, long[] values)
    {
        var dims = new int[values.Length];
        long count = 1;
        for (int i = 0; i < values.Length; i++)
        {
            dims[i] = Checked(values[i], $"dim {i}");
            count *= dims[i];
            if (count > int.MaxValue) throw new ArgumentException($"shape [{string.Join(", ", values)}] holds more than 2^31 elements");
        }
        return dims;
    }

    /// <summary>The value of a Constant node, read once when the model loads.</summary>
    public static Tensor Constant(OnnxNode n)
    {
        if (n.Tensor("value") is { } v) return v;
        if (n.Has("value_float")) return Tensor.Scalar(n.Float("value_float", 0));
        if (n.Ints("value_ints") is { } ints) return Tensor.FromArray(ints, new Shape(ints.Length));
        if (n.Has("value_int")) return Tensor.Scalar(n.Int("value_int", 0), DType.Int64);
        if (n.Floats("value_floats") is { } floats) return Tensor.FromArray(floats, new Shape(floats.Length));
        throw n.Unsupported($"a Constant with attributes [{string.Join(", ", n.AttributeNames)}] (value, value_float(s) and value_int(s) are supported; sparse and string values are not)");
    }

    private static Tensor?[] Reshape(OnnxNode n, Tensor?[] x, bool training)
    {
        Tensor v = In(n, x, 0);
        long[] shape = n.Opset < 5 ? n.Ints("shape") ?? [] : Longs(n, In(n, x, 1), "shape");
        bool allowZero = n.Int("allowzero", 0) != 0;
        var dims = new int[shape.Length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long d = shape[i];
            if (d == 0 && !allowZero)
            {
                if (i >= v.Rank) throw new ArgumentException($"shape entry {i} is 0 (copy the input's dim) but the input {v.Shape} has rank {v.Rank}");
                d = v.Shape[i];
            }
            if (d == -1)
            {
                if (infer >= 0) throw new ArgumentException($"shape [{string.Join(", ", shape)}] has more than one -1");
                infer = i;
                continue;
            }
            dims[i] = Checked(d, $"shape entry {i}");
            known *= dims[i];
            if (known > int.MaxValue) throw new ArgumentException($"shape [{string.Join(", ", shape)}] holds more than 2^31 elements");
        }
        if (infer >= 0)
        {
            if (known == 0 || v.Numel % known != 0) throw new ArgumentException($"input {v.Shape} cannot be reshaped to [{string.Join(", ", shape)}]");
            dims[infer] = (int)(v.Numel / known);
        }
        return One(v.Reshape(dims));
    }

    private static Tensor?[] Split(OnnxNode n, Tensor?[] x, bool training)
    {
        Tensor v = In(n, x, 0);
        int axis = Axis(n, n.Int("axis", 0), v.Rank);
        int parts = n.Outputs.Length;
        long[]? split = n.Opset < 13 ? n.Ints("split") : Optional(x, 1) is { } s ? Longs(n, s, "split") : null;
        int size = v.Shape[axis];
        int[] sizes;
        if (split is not null)
        {
            sizes = Dims(n, split);
            if (sizes.Length != parts || sizes.Sum() != size)
                throw new ArgumentException($"split [{string.Join(", ", split)}] does not divide dim {axis} of {v.Shape} into {parts} outputs");
        }
        else
        {
            // Equal parts, the last smaller when the size does not divide (opset 18's num_outputs rule).
            int each = (size + parts - 1) / parts;
            sizes = new int[parts];
            for (int i = 0; i < parts; i++) sizes[i] = Math.Clamp(size - i * each, 0, each);
        }
        Tensor[] outputs = v.Split(sizes, axis);
        return [.. outputs];
    }

    private static Tensor?[] Slice(OnnxNode n, Tensor?[] x, bool training)
    {
        Tensor v = In(n, x, 0);
        long[] starts, ends, axes, steps;
        if (n.Opset < 10)
        {
            starts = n.Ints("starts") ?? [];
            ends = n.Ints("ends") ?? [];
            axes = n.Ints("axes") ?? [.. Enumerable.Range(0, starts.Length).Select(i => (long)i)];
            steps = [.. starts.Select(_ => 1L)];
        }
        else
        {
            starts = Longs(n, In(n, x, 1), "starts");
            ends = Longs(n, In(n, x, 2), "ends");
            axes = Optional(x, 3) is { } a ? Longs(n, a, "axes") : [.. Enumerable.Range(0, starts.Length).Select(i => (long)i)];
            steps = Optional(x, 4) is { } s ? Longs(n, s, "steps") : [.. starts.Select(_ => 1L)];
        }
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
            throw new ArgumentException($"starts, ends, axes and steps have {starts.Length}, {ends.Length}, {axes.Length} and {steps.Length} entries");
        int[] dims = Axes(n, axes, v.Rank);
        for (int i = 0; i < dims.Length; i++)
        {
            int d = dims[i];
            long size = v.Shape[d], step = steps[i];
            if (step == 0) throw new ArgumentException("a slice step is 0");
            long start = starts[i] < 0 ? starts[i] + size : starts[i], end = ends[i] < 0 ? ends[i] + size : ends[i];
            if (step > 0)
            {
                start = Math.Clamp(start, 0, size);
                end = Math.Clamp(end, 0, size);
                v = v.Slice(d, (int)start, (int)Math.Max(start, end), (int)Math.Min(step, int.MaxValue));
            }
            else
            {
                // Backwards: the flipped dim read forwards, index i ↦ size − 1 − i.
                start = Math.Clamp(start, 0, size - 1);
                end = Math.Clamp(end, -1, size - 1);
                long fs = size - 1 - start, fe = size - 1 - end;
                v = v.Flip(d).Slice(d, (int)fs, (int)Math.Max(fs, fe), (int)Math.Min(-step, int.MaxValue));
            }
        }
        return One(v);
    }

    private static Tensor?[] Gather(OnnxNode n, Tensor?[] x, bool training)
    {
        Tensor data = In(n, x, 0), indices = In(n, x, 1);
        int axis = Axis(n, n.Int("axis", 0), data.Rank);
        if (indices.DType != DType.Int64) throw new ArgumentException($"indices must be integers, got {indices.DType.Name()}");
        int size = data.Shape[axis];
        long[] idx = indices.Contiguous().ToArray<long>();
        for (int i = 0; i < idx.Length; i++)
        {
            long j = idx[i] < 0 ? idx[i] + size : idx[i];
            if (j < 0 || j >= size) throw new ArgumentException($"index {idx[i]} is out of range for dim {axis} of size {size}");
            idx[i] = j;
        }
        Tensor picked = data.IndexSelect(axis, Tensor.FromArray(idx, new Shape(idx.Length)));
        // [before, k, after] → [before, indices.shape, after]
        int[] shape = [.. data.Shape.ToArray()[..axis], .. indices.Shape.ToArray(), .. data.Shape.ToArray()[(axis + 1)..]];
        return One(picked.Reshape(shape));
    }
}
