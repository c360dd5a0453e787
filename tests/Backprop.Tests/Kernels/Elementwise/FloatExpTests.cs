using System.Runtime.Intrinsics;
using Backprop.Kernels.Elementwise;

namespace Backprop.Tests.Kernels.Elementwise;

/// <summary>
/// The float exponential every kernel shares, at each width the machine runs, against double-precision
/// exp: within 2.5e-7 relative over the whole finite range, 0 for −∞ and below float's normal range,
/// +∞ past the clamp, NaN kept, and e^x − 1 accurate relative to its own (tiny) size near 0.
/// </summary>
[Trait("Category", "Kernels")]
public class FloatExpTests
{
    private static List<float> Inputs()
    {
        var xs = new List<float>();
        for (double x = -90; x <= 88.3; x += 0.0137) xs.Add((float)x);
        xs.AddRange([0f, -0f, 1e-30f, -1e-30f, -88.3f, -87.5f, 88.37f, 1000f, -1000f]);
        return xs;
    }

    public static TheoryData<int> Widths() => new() { 128, 256, 512 };

    private static float Exp(int width, float x, bool minusOne) => width switch
    {
        128 => (minusOne ? FloatExp.ExpM1(Vector128.Create(x)) : FloatExp.Exp(Vector128.Create(x))).GetElement(1),
        256 => (minusOne ? FloatExp.ExpM1(Vector256.Create(x)) : FloatExp.Exp(Vector256.Create(x))).GetElement(5),
        _ => (minusOne ? FloatExp.ExpM1(Vector512.Create(x)) : FloatExp.Exp(Vector512.Create(x))).GetElement(11),
    };

    [Theory]
    [MemberData(nameof(Widths))]
    public void Exp_IsWithin2UlpOfDoubleExp_AndExactAtTheEdges(int width)
    {
        foreach (float x in Inputs())
        {
            float got = Exp(width, x, minusOne: false);
            double exact = Math.Exp(x);
            if (x > 88.3762626647949f) Assert.Equal(float.PositiveInfinity, got);
            else if (exact < 1.2e-38) Assert.True(got < 1.2e-38f && got >= 0, $"exp({x}) = {got}");
            else Assert.True(Math.Abs(got - exact) <= 2.5e-7 * exact, $"exp({x}): expected {exact}, got {got}");
        }
        Assert.Equal(0f, Exp(width, float.NegativeInfinity, minusOne: false));
        Assert.True(float.IsNaN(Exp(width, float.NaN, minusOne: false)));
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void ExpM1_KeepsRelativeAccuracyNearZero(int width)
    {
        foreach (float x in Inputs())
        {
            if (x > 80) continue;
            float got = Exp(width, x, minusOne: true);
            double exact = Math.Abs(x) < 1e-5 ? x + 0.5 * (double)x * x : Math.Exp(x) - 1;
            Assert.True(Math.Abs(got - exact) <= 3e-7 * Math.Abs(exact) + 1e-45, $"expm1({x}): expected {exact}, got {got}");
        }
        Assert.Equal(-1f, Exp(width, float.NegativeInfinity, minusOne: true));
    }
}
