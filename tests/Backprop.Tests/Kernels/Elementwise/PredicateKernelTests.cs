using System.Numerics;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Elementwise;
using Backprop.Kernels.Indexing;
using Backprop.Kernels.Reduce;

namespace Backprop.Tests.Kernels.Elementwise;

/// <summary>
/// The bool-producing kernels against their scalar forms at every length from 0 to three 512-bit widths
/// of bytes + 1 (every mix of 512-bit, 256-bit and 128-bit blocks and scalar tail), for each element width;
/// run again with intrinsics off by run-tests.
/// </summary>
[Trait("Category", "Kernels")]
public class PredicateKernelTests
{
    private static readonly int MaxLength = 3 * Vector512<byte>.Count + 1;

    private static T[] Values<T>(int n, int seed, bool specials) where T : unmanaged, INumber<T>
    {
        var rng = new Random(seed);
        var x = new T[n];
        for (int i = 0; i < n; i++)
        {
            // Small integers so equal pairs are common; NaN, ±0 and ±∞ mixed in for the float types.
            double v = rng.Next(-3, 4);
            if (specials && i % 7 == 5) v = new[] { double.NaN, -0.0, double.PositiveInfinity, double.NegativeInfinity }[i / 7 % 4];
            x[i] = typeof(T) == typeof(byte) ? T.CreateTruncating(rng.Next(0, 2)) : T.CreateSaturating(v);
        }
        return x;
    }

    private static void Check<T, TP>(bool specials = true) where T : unmanaged, INumber<T> where TP : IVectorPredicate<T>
    {
        for (int n = 0; n <= MaxLength; n++)
        {
            T[] a = Values<T>(n, n + 1, specials), b = Values<T>(n, n + 1000, specials);
            var y = new byte[n];
            PredicateKernel.Run<T, TP>(a, b, y);
            for (int i = 0; i < n; i++) Assert.True((TP.Invoke(a[i], b[i]) ? 1 : 0) == y[i], $"{typeof(T).Name} {typeof(TP).Name}: length {n}, element {i}");
            if (n == 0) continue;
            T s = b[0];
            PredicateKernel.Run<T, TP>(a, [s], y); // scalar second operand
            for (int i = 0; i < n; i++) Assert.True((TP.Invoke(a[i], s) ? 1 : 0) == y[i], $"{typeof(T).Name} {typeof(TP).Name} scalar b: length {n}, element {i}");
            PredicateKernel.Run<T, TP>([s], a, y); // scalar first operand
            for (int i = 0; i < n; i++) Assert.True((TP.Invoke(s, a[i]) ? 1 : 0) == y[i], $"{typeof(T).Name} {typeof(TP).Name} scalar a: length {n}, element {i}");
        }
    }

    private static void CheckAll<T>(bool specials) where T : unmanaged, INumber<T>
    {
        Check<T, GtPredicate<T>>(specials);
        Check<T, GePredicate<T>>(specials);
        Check<T, LtPredicate<T>>(specials);
        Check<T, LePredicate<T>>(specials);
        Check<T, EqPredicate<T>>(specials);
        Check<T, NePredicate<T>>(specials);
    }

    [Fact] public void Float_VectorMatchesScalar() => CheckAll<float>(specials: true);
    [Fact] public void Double_VectorMatchesScalar() => CheckAll<double>(specials: true);
    [Fact] public void Long_VectorMatchesScalar() => CheckAll<long>(specials: true); // ±∞ saturate to long.MinValue/MaxValue
    [Fact] public void Bytes_VectorMatchesScalar() => CheckAll<byte>(specials: false);

    [Fact]
    public void NaN_ComparesFalseExceptNe()
    {
        double[] nan = Enumerable.Repeat(double.NaN, 40).ToArray();
        var y = new byte[40];
        PredicateKernel.Run<double, NePredicate<double>>(nan, nan, y);
        Assert.All(y, v => Assert.Equal(1, v));
        foreach (Action<byte[]> run in new Action<byte[]>[]
                 {
                     d => PredicateKernel.Run<double, EqPredicate<double>>(nan, nan, d),
                     d => PredicateKernel.Run<double, LePredicate<double>>(nan, [1.0], d),
                     d => PredicateKernel.Run<double, GtPredicate<double>>([1.0], nan, d),
                 })
        {
            run(y);
            Assert.All(y, v => Assert.Equal(0, v));
        }
    }

    [Fact]
    public void Strided_BroadcastRowsMatchScalar()
    {
        // a [3, 5] read transposed from a [5, 3] buffer, b [5] broadcast along rows: the row walker's scalar path and span path.
        float[] a = Values<float>(15, 3, specials: true), b = Values<float>(5, 4, specials: true);
        var y = new byte[15];
        PredicateKernel.Run<float, LtPredicate<float>>(a, 0, [1, 3], b, 0, [0, 1], y, [3, 5]);
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 5; c++)
                Assert.Equal(a[c * 3 + r] < b[c] ? 1 : 0, y[r * 5 + c]);
        PredicateKernel.Run<float, GePredicate<float>>(a, 0, [5, 1], b, 0, [0, 1], y, [3, 5]);
        for (int i = 0; i < 15; i++) Assert.Equal(a[i] >= b[i % 5] ? 1 : 0, y[i]);
    }

    [Fact]
    public void Cast_ToBoolAndBack_MatchScalar()
    {
        for (int n = 0; n <= MaxLength; n++)
        {
            float[] x = Values<float>(n, n, specials: true);
            var bytes = new byte[n];
            CastKernel.ToBool<float>(x, bytes);
            for (int i = 0; i < n; i++) Assert.Equal(x[i] != 0 ? 1 : 0, bytes[i]); // NaN is true, −0 false
            var back = new double[n];
            CastKernel.Convert<byte, double>(bytes, back);
            for (int i = 0; i < n; i++) Assert.Equal(bytes[i], back[i]);
        }
    }

    [Fact]
    public void AnyAll_MatchScalar()
    {
        var rng = new Random(5);
        foreach ((int outer, int size, int inner) in new[] { (1, 0, 1), (2, 0, 3), (1, 1, 1), (3, 70, 1), (2, 5, 67), (4, 3, 2) })
        {
            var x = new byte[outer * size * inner];
            for (int i = 0; i < x.Length; i++) x[i] = (byte)(rng.Next(10) < 8 ? 1 : 0);
            var any = new byte[outer * inner];
            var all = new byte[outer * inner];
            AnyAllKernel.Any(x, outer, size, inner, any);
            AnyAllKernel.All(x, outer, size, inner, all);
            for (int o = 0; o < outer; o++)
                for (int k = 0; k < inner; k++)
                {
                    bool anySet = false, allSet = true;
                    for (int r = 0; r < size; r++) { anySet |= x[(o * size + r) * inner + k] == 1; allSet &= x[(o * size + r) * inner + k] == 1; }
                    Assert.Equal(anySet ? 1 : 0, any[o * inner + k]);
                    Assert.Equal(allSet ? 1 : 0, all[o * inner + k]);
                }
        }
    }

    [Fact]
    public void MaskSelectScatter_RoundTrip()
    {
        var rng = new Random(9);
        for (int n = 0; n <= MaxLength; n++)
        {
            var mask = new byte[n];
            var x = new long[n];
            for (int i = 0; i < n; i++) { mask[i] = (byte)rng.Next(2); x[i] = i + 1; }
            int count = MaskKernels.CountSet(mask);
            Assert.Equal(mask.Count(m => m == 1), count);
            var selected = new long[count];
            MaskKernels.Select<long>(x, mask, selected);
            Assert.Equal(x.Where((_, i) => mask[i] == 1).ToArray(), selected);
            var back = new long[n];
            MaskKernels.Scatter<long>(selected, mask, back);
            for (int i = 0; i < n; i++) Assert.Equal(mask[i] == 1 ? x[i] : 0, back[i]);
        }
    }

    [Fact]
    public void FloorDivide_MatchesFloorOfTheQuotient()
    {
        var rng = new Random(11);
        for (int i = 0; i < 2000; i++)
        {
            long a = rng.NextInt64(-1000, 1001), b = rng.NextInt64(-50, 51);
            if (b == 0) continue;
            Assert.Equal((long)Math.Floor((double)a / b), FloorDivideOp.Apply(a, b));
        }
        Assert.Throws<DivideByZeroException>(() => FloorDivideOp.Apply(1, 0));
    }
}
