using System.Numerics;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Optim;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Kernels.Optim;

/// <summary>
/// The vectorised (and, for long arrays, multi-threaded) optimizer kernels against the plain
/// per-element reference: bit-identical at every length up to 3 vector widths + 1 and past the
/// parallel threshold, for every option combination.
/// </summary>
[Trait("Category", "Kernels")]
public class OptimizerKernelTests
{
    private static IEnumerable<int> Lengths()
    {
        for (int n = 0; n <= 3 * Vector512<float>.Count + 1; n++) yield return n;
        yield return 70_001; // above the parallel threshold, odd
    }

    private static T[] Random<T>(int n, int seed, double scale = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = new Generator((ulong)seed);
        var a = new T[n];
        for (int i = 0; i < n; i++) a[i] = T.CreateTruncating(scale * g.NextNormal());
        return a;
    }

    private static void Same<T>(T[] expected, T[] actual, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < expected.Length; i++)
            if (!expected[i].Equals(actual[i]))
                Assert.Fail($"{what}: element {i} of {expected.Length}: expected {expected[i]}, got {actual[i]}");
    }

    private static void SgdCase<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (int n in Lengths())
            for (int flags = 0; flags < 32; flags++)
            {
                bool first = (flags & 1) != 0, momentum = (flags & 2) != 0, decay = (flags & 4) != 0, maximize = (flags & 8) != 0;
                bool nesterov = momentum && (flags & 16) != 0;
                T lr = T.CreateTruncating(0.1), mom = momentum ? T.CreateTruncating(0.9) : T.Zero;
                T damp = nesterov ? T.Zero : T.CreateTruncating(0.3), wd = decay ? T.CreateTruncating(0.01) : T.Zero;
                T[] p = Random<T>(n, 1), g = Random<T>(n, 2), buf = momentum ? Random<T>(n, 3) : [];
                T[] pr = (T[])p.Clone(), br = (T[])buf.Clone();
                OptimizerKernels.Sgd<T>(p, g, buf, first, lr, mom, damp, wd, nesterov, maximize);
                OptimizerReference.Sgd(pr, g, br, first, lr, mom, damp, wd, nesterov, maximize);
                Same(pr, p, $"{typeof(T).Name} Sgd n={n} flags={flags} param");
                Same(br, buf, $"{typeof(T).Name} Sgd n={n} flags={flags} buffer");
            }
    }

    private static void AdamCase<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (int n in Lengths())
            for (int flags = 0; flags < 16; flags++)
            {
                bool decay = (flags & 1) != 0, decoupled = (flags & 2) != 0, amsgrad = (flags & 4) != 0, maximize = (flags & 8) != 0;
                double wd = decay ? 0.01 : 0;
                T[] p = Random<T>(n, 1), g = Random<T>(n, 2), m = Random<T>(n, 3, 0.1), v = Random<T>(n, 4, 0.1), vm = amsgrad ? Random<T>(n, 5, 0.1) : [];
                for (int i = 0; i < n; i++) v[i] = T.Abs(v[i]);
                for (int i = 0; i < vm.Length; i++) vm[i] = T.Abs(vm[i]);
                T[] pr = (T[])p.Clone(), mr = (T[])m.Clone(), vr = (T[])v.Clone(), vmr = (T[])vm.Clone();
                OptimizerKernels.Adam<T>(p, g, m, v, vm, 7, 1e-3, 0.9, 0.999, 1e-8, wd, decoupled, amsgrad, maximize);
                OptimizerReference.Adam(pr, g, mr, vr, vmr, 7, 1e-3, 0.9, 0.999, 1e-8, wd, decoupled, amsgrad, maximize);
                string what = $"{typeof(T).Name} Adam n={n} flags={flags}";
                Same(pr, p, what + " param");
                Same(mr, m, what + " exp_avg");
                Same(vr, v, what + " exp_avg_sq");
                Same(vmr, vm, what + " max_exp_avg_sq");
            }
    }

    private static void RmsPropCase<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (int n in Lengths())
            for (int flags = 0; flags < 16; flags++)
            {
                bool centered = (flags & 1) != 0, momentum = (flags & 2) != 0, decay = (flags & 4) != 0, maximize = (flags & 8) != 0;
                T lr = T.CreateTruncating(0.01), alpha = T.CreateTruncating(0.99), eps = T.CreateTruncating(1e-8);
                T wd = decay ? T.CreateTruncating(0.01) : T.Zero, mom = momentum ? T.CreateTruncating(0.9) : T.Zero;
                T[] p = Random<T>(n, 1), g = Random<T>(n, 2), sq = Random<T>(n, 3, 0.1);
                T[] ga = centered ? Random<T>(n, 4, 0.01) : [], buf = momentum ? Random<T>(n, 5) : [];
                for (int i = 0; i < n; i++) sq[i] = T.Abs(sq[i]) + T.CreateTruncating(0.01); // above ga² when centered
                T[] pr = (T[])p.Clone(), sqr = (T[])sq.Clone(), gar = (T[])ga.Clone(), br = (T[])buf.Clone();
                OptimizerKernels.RmsProp<T>(p, g, sq, ga, buf, lr, alpha, eps, wd, mom, centered, maximize);
                OptimizerKernels.RmsPropScalar<T>(pr, g, sqr, gar, br, lr, alpha, eps, wd, mom, centered, maximize);
                string what = $"{typeof(T).Name} RmsProp n={n} flags={flags}";
                Same(pr, p, what + " param");
                Same(sqr, sq, what + " square_avg");
                Same(gar, ga, what + " grad_avg");
                Same(br, buf, what + " momentum_buffer");
            }
    }

    private static void AdagradCase<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (int n in Lengths())
            for (int flags = 0; flags < 4; flags++)
            {
                bool decay = (flags & 1) != 0, maximize = (flags & 2) != 0;
                T clr = T.CreateTruncating(0.05), eps = T.CreateTruncating(1e-10), wd = decay ? T.CreateTruncating(0.01) : T.Zero;
                T[] p = Random<T>(n, 1), g = Random<T>(n, 2), sum = Random<T>(n, 3, 0.1);
                for (int i = 0; i < n; i++) sum[i] = T.Abs(sum[i]);
                if (n > 2) { g[1] = T.Zero; sum[1] = T.Zero; } // 0/(0 + eps): a zero step
                T[] pr = (T[])p.Clone(), sr = (T[])sum.Clone();
                OptimizerKernels.Adagrad<T>(p, g, sum, clr, eps, wd, maximize);
                OptimizerKernels.AdagradScalar<T>(pr, g, sr, clr, eps, wd, maximize);
                string what = $"{typeof(T).Name} Adagrad n={n} flags={flags}";
                Same(pr, p, what + " param");
                Same(sr, sum, what + " sum");
            }
    }

    [Fact] public void RmsProp_Float32_BitIdenticalToScalar() => RmsPropCase<float>();
    [Fact] public void RmsProp_Float64_BitIdenticalToScalar() => RmsPropCase<double>();
    [Fact] public void Adagrad_Float32_BitIdenticalToScalar() => AdagradCase<float>();
    [Fact] public void Adagrad_Float64_BitIdenticalToScalar() => AdagradCase<double>();

    [Fact] public void Sgd_Float32_BitIdenticalToReference() => SgdCase<float>();
    [Fact] public void Sgd_Float64_BitIdenticalToReference() => SgdCase<double>();
    [Fact] public void Adam_Float32_BitIdenticalToReference() => AdamCase<float>();
    [Fact] public void Adam_Float64_BitIdenticalToReference() => AdamCase<double>();
}
