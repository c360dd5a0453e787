using System.Runtime.Intrinsics;
using Backprop.Kernels.Elementwise;

namespace Backprop.Tests.Kernels.Elementwise;

/// <summary>
/// The strided copy (gather into contiguous, scatter back) and the row walker under it, against a
/// scalar odometer over every element: ranks 0 to 4, permuted, expanded (stride 0), offset, padded
/// and empty layouts, rows up to 3 vector widths + 1 long.
/// </summary>
[Trait("Category", "Kernels")]
public class CopyKernelTests
{
    private static readonly int MaxLength = 3 * Vector512<float>.Count + 1;

    /// <summary>A strided view: shape, strides, offset and the source length it needs.</summary>
    public sealed record Layout(string Name, int[] Shape, int[] Strides, int Offset)
    {
        public int Numel => Shape.Aggregate(1, (a, b) => a * b);

        public int SourceLength
        {
            get
            {
                if (Numel == 0) return Offset;
                int last = Offset;
                for (int d = 0; d < Shape.Length; d++) last += (Shape[d] - 1) * Strides[d];
                return last + 1;
            }
        }

        /// <summary>True when no two elements share a position (a valid scatter destination).</summary>
        public bool Distinct => Offsets().Distinct().Count() == Numel;

        /// <summary>Where each element lives, in row-major element order: the scalar reference.</summary>
        public int[] Offsets()
        {
            var result = new int[Numel];
            var index = new int[Shape.Length];
            for (int e = 0; e < result.Length; e++)
            {
                int o = Offset;
                for (int d = 0; d < Shape.Length; d++) o += index[d] * Strides[d];
                result[e] = o;
                for (int d = Shape.Length - 1; d >= 0; d--)
                {
                    if (++index[d] < Shape[d]) break;
                    index[d] = 0;
                }
            }
            return result;
        }

        public override string ToString() => $"{Name} shape [{string.Join(",", Shape)}] strides [{string.Join(",", Strides)}] offset {Offset}";
    }

    private static int[] RowMajor(int[] shape)
    {
        var s = new int[shape.Length];
        int step = 1;
        for (int d = shape.Length - 1; d >= 0; d--) { s[d] = step; step *= Math.Max(shape[d], 1); }
        return s;
    }

    private static IEnumerable<int[]> Permutations(int n)
    {
        if (n == 0) { yield return []; yield break; }
        foreach (int[] rest in Permutations(n - 1))
            for (int at = 0; at <= rest.Length; at++)
            {
                var p = new int[n];
                for (int i = 0, j = 0; i < n; i++) p[i] = i == at ? n - 1 : rest[j++];
                yield return p;
            }
    }

    private static IEnumerable<int[]> BaseShapes()
    {
        yield return [];
        foreach (int n in new[] { 0, 1, 2, 3, 5, 8, 17, MaxLength }) yield return [n];
        yield return [3, 5];
        yield return [1, 7];
        yield return [4, 1];
        yield return [2, MaxLength];
        yield return [0, 3];
        yield return [2, 3, 4];
        yield return [3, 1, 5];
        yield return [2, 0, 2];
        yield return [2, 2, MaxLength - 1];
        yield return [2, 3, 2, 3];
        yield return [1, 2, 1, 4];
        yield return [2, 2, 2, 9];
    }

    public static IEnumerable<Layout> Layouts()
    {
        foreach (int[] b in BaseShapes())
        {
            int r = b.Length;
            int[] c = RowMajor(b);
            yield return new("contiguous", b, c, 0);
            yield return new("offset", b, c, 7);
            // Padded rows (a slice of a bigger tensor) and every other element of the last axis.
            yield return new("padded", b, RowMajor(b.Select(n => n + 1).ToArray()), 3);
            if (r > 0)
            {
                int[] stepped = RowMajor(b).Select(s => 2 * s).ToArray();
                yield return new("step 2", b, stepped, 1);
            }
            foreach (int[] p in Permutations(r).Take(24))
                yield return new($"permuted {string.Join("", p)}", p.Select(d => b[d]).ToArray(), p.Select(d => c[d]).ToArray(), 2);
            for (int mask = 1; mask < 1 << r; mask++)
            {
                int[] s = (int[])c.Clone();
                for (int d = 0; d < r; d++) if ((mask >> d & 1) != 0) s[d] = 0;
                yield return new($"expanded mask {mask}", b, s, 5);
            }
            if (r >= 2)
            {
                // Transposed last two axes, the first one expanded, at an offset.
                int[] shape = (int[])b.Clone(), s = (int[])c.Clone();
                (shape[r - 1], shape[r - 2]) = (shape[r - 2], shape[r - 1]);
                (s[r - 1], s[r - 2]) = (s[r - 2], s[r - 1]);
                s[0] = 0;
                yield return new("transposed+expanded", shape, s, 4);
            }
        }
    }

    private static T[] Source<T>(int length) where T : unmanaged, System.Numerics.INumber<T>
    {
        var src = new T[length];
        for (int i = 0; i < length; i++) src[i] = T.CreateChecked(i * 3 + 1);
        return src;
    }

    private static void CheckRun<T>(Layout l) where T : unmanaged, System.Numerics.INumber<T>
    {
        T[] src = Source<T>(l.SourceLength);
        T sentinel = T.CreateChecked(-999);
        var dst = new T[l.Numel + 2];
        Array.Fill(dst, sentinel);
        CopyKernel.Run(src, l.Offset, l.Strides, l.Shape, dst.AsSpan(1, l.Numel));
        int[] offsets = l.Offsets();
        Assert.Equal(sentinel, dst[0]);
        Assert.Equal(sentinel, dst[^1]);
        for (int e = 0; e < offsets.Length; e++)
            if (dst[1 + e] != src[offsets[e]])
                Assert.Fail($"{typeof(T).Name} {l}: element {e} is {dst[1 + e]}, expected {src[offsets[e]]} from position {offsets[e]}");
    }

    private static void CheckScatter<T>(Layout l) where T : unmanaged, System.Numerics.INumber<T>
    {
        var packed = new T[l.Numel];
        for (int e = 0; e < packed.Length; e++) packed[e] = T.CreateChecked(e + 1);
        T sentinel = T.CreateChecked(-999);
        var dst = new T[l.SourceLength + 3];
        Array.Fill(dst, sentinel);
        var expected = (T[])dst.Clone();
        int[] offsets = l.Offsets();
        for (int e = 0; e < offsets.Length; e++) expected[offsets[e]] = packed[e];
        CopyKernel.Scatter<T>(packed, dst, l.Offset, l.Strides, l.Shape);
        for (int i = 0; i < dst.Length; i++)
            if (dst[i] != expected[i])
                Assert.Fail($"{typeof(T).Name} {l}: position {i} is {dst[i]}, expected {expected[i]}");
    }

    [Fact]
    public void Run_GathersEveryLayout_LikeTheScalarReference()
    {
        int count = 0;
        foreach (Layout l in Layouts())
        {
            CheckRun<float>(l);
            CheckRun<double>(l);
            CheckRun<long>(l);
            count++;
        }
        Assert.True(count > 150, $"only {count} layouts");
    }

    [Fact]
    public void Scatter_WritesEveryNonOverlappingLayout_AndNothingElse()
    {
        int count = 0;
        foreach (Layout l in Layouts().Where(l => l.Distinct))
        {
            CheckScatter<float>(l);
            CheckScatter<double>(l);
            CheckScatter<long>(l);
            count++;
        }
        Assert.True(count > 80, $"only {count} layouts");
    }

    [Fact]
    public void Scatter_ThenRun_RoundTrips()
    {
        foreach (Layout l in Layouts().Where(l => l.Distinct))
        {
            double[] packed = Enumerable.Range(1, l.Numel).Select(i => i * 0.5).ToArray();
            var storage = new double[l.SourceLength];
            CopyKernel.Scatter<double>(packed, storage, l.Offset, l.Strides, l.Shape);
            var back = new double[l.Numel];
            CopyKernel.Run(storage, l.Offset, l.Strides, l.Shape, back);
            Assert.True(packed.AsSpan().SequenceEqual(back), l.ToString());
        }
    }

    /// <summary>Walks a and b together row by row; false when there is nothing to walk (callers never walk an empty result).</summary>
    private static bool CheckWalk(Layout a, Layout b)
    {
        int[] expected0 = a.Offsets(), expected1 = b.Offsets();
        if (expected0.Length == 0) return false;
        var rows = new StridedRows(a.Shape, a.Strides, a.Offset, b.Strides, b.Offset, stackalloc int[StridedRows.ScratchLength(a.Shape.Length)]);
        Assert.True(rows.Inner > 0 && expected0.Length % rows.Inner == 0, $"{a} / {b}: row length {rows.Inner}");
        for (int start = 0; start < expected0.Length; start += rows.Inner, rows.Advance())
            for (int i = 0; i < rows.Inner; i++)
            {
                Assert.True(rows.Offset0 + i * rows.Step0 == expected0[start + i], $"{a}: operand 0, element {start + i}");
                Assert.True(rows.Offset1 + i * rows.Step1 == expected1[start + i], $"{b}: operand 1, element {start + i}");
            }
        return true;
    }

    [Fact]
    public void StridedRows_TwoOperands_WalkEveryElementAtItsOffsets()
    {
        // Operand 1 is the same shape laid out contiguously, expanded, or offset: pair every layout with each.
        int count = 0;
        foreach (Layout a in Layouts())
        {
            int[] c = RowMajor(a.Shape);
            var partners = new List<Layout> { new("contiguous", a.Shape, c, 0), new("offset", a.Shape, c, 11) };
            if (a.Shape.Length > 0) partners.Add(new("expanded last", a.Shape, c.Select((s, d) => d == a.Shape.Length - 1 ? 0 : s).ToArray(), 1));
            foreach (Layout b in partners)
                if (CheckWalk(a, b)) count++;
        }
        Assert.True(count > 300, $"only {count} pairs");
    }
}
