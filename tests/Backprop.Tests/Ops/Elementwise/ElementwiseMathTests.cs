using Backprop.Autograd;
using Backprop.NN;
using Backprop.Ops.Elementwise;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Elementwise;

public class ElementwiseMathTests
{
    public static TheoryData<int[], int[]> BroadcastShapes => new()
    {
        { [3, 4], [3, 4] },
        { [3, 4], [4] },
        { [3, 1], [1, 4] },
        { [2, 3, 4], [3, 1] },
        { [], [2, 3] },
        { [5], [] },
    };

    // PyTorch reference points; literals below were printed by Debian python3-torch 1.13.1
    // (torch.nn.functional / torch.* in float64 on this x, `repr(float(v))` per element).
    private static readonly double[] X = [-3.0, -1.5, -0.5, 0.0, 0.25, 1.0, 2.5, 30.0];

    private static Tensor Xf64() => T.F64(X, X.Length);

    /// <summary>Float64 leaf in [-2, 2] with every element at least <paramref name="gap"/> from each kink.</summary>
    private static Tensor AwayFrom(int seed, double[] kinks, int[] shape, double gap = 0.05)
    {
        Tensor t = Tensor.Uniform(shape, -2, 2, DType.Float64, new Generator((ulong)seed));
        Span<double> v = t.AsSpan<double>();
        for (int i = 0; i < v.Length; i++)
            foreach (double k in kinks)
                if (Math.Abs(v[i] - k) < gap) v[i] = k + (v[i] >= k ? gap : -gap) * 2;
        return t.RequireGrad();
    }

    private static Tensor AwayFromZero(int seed, params int[] shape) => AwayFrom(seed, [0], shape);

    // ---------------- Exp, Log, Sigmoid, Tanh ----------------

    [Fact]
    public void Exp_Forward_GradCheck_SecondOrder()
    {
        T.Close([0.049787068367863944, 0.22313016014842982, 0.6065306597126334, 1.0, 1.2840254166877414, 2.718281828459045, 12.182493960703473],
            Xf64().Exp().ToDoubleArray()[..7], 1e-14);
        GradCheck.Verify(x => x[0].Exp(), [T.Param(1, 3, 4)]);
        GradCheck.VerifySecondOrder(x => x[0].Exp(), [T.Param(1, 3, 4)]);
    }

    [Fact]
    public void SinCos_Forward_MatchPyTorch_GradCheck_SecondOrder()
    {
        // torch.sin / torch.cos (Debian python3-torch) on these points, float64 and float32.
        Tensor x = T.F64([-3.0, -1.5, -0.25, 0.0, 0.5, 1.0, 2.0, 7.5], 8);
        T.Close([-0.1411200080598672, -0.9974949866040544, -0.24740395925452294, 0.0, 0.479425538604203, 0.8414709848078965, 0.9092974268256817, 0.9379999767747389],
            x.Sin(), 1e-15);
        T.Close([-0.9899924966004454, 0.0707372016677029, 0.9689124217106447, 1.0, 0.8775825618903728, 0.5403023058681398, -0.4161468365471424, 0.3466353178350258],
            x.Cos(), 1e-15);
        T.Close([-0.14112000167369843, -0.9974949955940247, -0.24740396440029144, 0.0, 0.4794255495071411, 0.8414709568023682, 0.9092974066734314, 0.937999963760376],
            x.To(DType.Float32).Sin(), 1e-7);
        GradCheck.Verify(t => t[0].Sin(), [T.Param(1, 3, 4)]);
        GradCheck.Verify(t => t[0].Cos(), [T.Param(2, 3, 4)]);
        GradCheck.Verify(t => (t[0].Sin() * t[1].Cos()).Sum(), [T.Param(3, 2, 3), T.Param(4, 3)]); // broadcast
        GradCheck.VerifySecondOrder(t => t[0].Sin(), [T.Param(5, 3, 4)]);
        GradCheck.VerifySecondOrder(t => t[0].Cos(), [T.Param(6, 3, 4)]);
        Assert.Equal(DType.Float32, Tensor.FromArray(new long[] { 1, 2 }).Sin().DType); // as PyTorch: int64 → float32
    }

    [Fact]
    public void Log_Forward_GradCheck_SecondOrder()
    {
        T.Close([0, Math.Log(2), -Math.Log(4)], T.F64([1, 2, 0.25], 3).Log(), 1e-15);
        GradCheck.Verify(x => x[0].Log(), [T.Uniform(1, 0.5, 3, 3, 4)]);
        GradCheck.VerifySecondOrder(x => x[0].Log(), [T.Uniform(1, 0.5, 3, 3, 4)]);
    }

    [Fact]
    public void Log_OfZeroIsNegativeInfinity_OfNegativeIsNaN()
    {
        double[] y = T.F32([0f, -1f], 2).Log().ToDoubleArray();
        Assert.Equal(double.NegativeInfinity, y[0]);
        Assert.True(double.IsNaN(y[1]));
    }

    [Fact]
    public void Sigmoid_Forward_GradCheck_SecondOrder()
    {
        T.Close([0.04742587317756678, 0.18242552380635635, 0.3775406687981454, 0.5, 0.5621765008857981, 0.7310585786300049, 0.9241418199787566, 0.9999999999999065],
            Xf64().Sigmoid(), 1e-15);
        GradCheck.Verify(x => x[0].Sigmoid(), [T.Param(2, 3, 4)]);
        GradCheck.VerifySecondOrder(x => x[0].Sigmoid(), [T.Param(2, 3, 4)]);
    }

    [Fact]
    public void Tanh_Forward_GradCheck_SecondOrder()
    {
        T.Close([-0.9950547536867305, -0.9051482536448664, -0.46211715726000974, 0.0, 0.24491866240370913, 0.7615941559557649, 0.9866142981514303, 1.0],
            Xf64().Tanh(), 1e-15);
        GradCheck.Verify(x => x[0].Tanh(), [T.Param(3, 3, 4)]);
        GradCheck.VerifySecondOrder(x => x[0].Tanh(), [T.Param(3, 3, 4)]);
    }

    // ---------------- Pow and roots ----------------

    [Theory]
    [MemberData(nameof(BroadcastShapes))]
    public void Pow_Tensor_GradCheck_BothInputs(int[] sa, int[] sb)
    {
        GradCheck.Verify(x => x[0].Pow(x[1]), [T.Uniform(1, 0.5, 2, sa), T.Uniform(2, -2, 2, sb)]);
        GradCheck.VerifySecondOrder(x => x[0].Pow(x[1]), [T.Uniform(1, 0.5, 2, sa), T.Uniform(2, -2, 2, sb)]);
    }

    [Fact]
    public void Pow_BaseZero_MatchesPyTorch()
    {
        // torch.pow(a, b).sum().backward() with a = [0, 0, 2, 0], b = [0, 2, 3, -1]:
        // y = [1, 0, 8, inf], a.grad = [0, 0, 12, -inf], b.grad = [0, 0, 5.545177444479562, -inf].
        Tensor a = T.F64([0, 0, 2, 0], 4).RequireGrad();
        Tensor b = T.F64([0, 2, 3, -1], 4).RequireGrad();
        Tensor y = a.Pow(b);
        Assert.Equal([1, 0, 8, double.PositiveInfinity], y.ToDoubleArray());
        y.Sum().Backward();
        Assert.Equal([0, 0, 12, double.NegativeInfinity], a.Grad!.ToDoubleArray());
        double[] db = b.Grad!.ToDoubleArray();
        Assert.Equal([0, 0], db[..2]);
        Assert.Equal(5.545177444479562, db[2], 1e-14);
        Assert.Equal(double.NegativeInfinity, db[3]);
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(3.0)]
    [InlineData(0.5)]
    [InlineData(-0.5)]
    [InlineData(-1.0)]
    [InlineData(1.7)]
    [InlineData(1.0)]
    [InlineData(0.0)]
    public void Pow_Scalar_Forward_GradCheck_SecondOrder(double e)
    {
        Tensor x = T.F64([0.5, 1.5, 2.0, 4.0], 4);
        T.Close([Math.Pow(0.5, e), Math.Pow(1.5, e), Math.Pow(2, e), Math.Pow(4, e)], x.Pow(e), 1e-15);
        T.Close([Math.Pow(0.5, e), Math.Pow(1.5, e), Math.Pow(2, e), Math.Pow(4, e)], x.To(DType.Float32).Pow(e), 1e-6);
        GradCheck.Verify(v => v[0].Pow(e), [T.Uniform(4, 0.5, 2, 3, 4)]);
        if (e != 0) // x⁰ has a constant zero gradient: nothing to differentiate twice
            GradCheck.VerifySecondOrder(v => v[0].Pow(e), [T.Uniform(4, 0.5, 2, 3, 4)]);
    }

    [Fact]
    public void Square_Forward_GradCheck_SecondOrder()
    {
        T.Close([9, 2.25, 0.25, 0, 0.0625, 1, 6.25, 900], Xf64().Square(), 0);
        GradCheck.Verify(x => x[0].Square(), [T.Param(5, 3, 4)]);
        GradCheck.VerifySecondOrder(x => x[0].Square(), [T.Param(5, 3, 4)]);
    }

    [Fact]
    public void Sqrt_Rsqrt_Reciprocal_Forward()
    {
        Tensor x = T.F32([0.25f, 1f, 4f, 16f], 4);
        T.Close([0.5, 1, 2, 4], x.Sqrt(), 1e-7);
        T.Close([2, 1, 0.5, 0.25], x.Rsqrt(), 1e-6);
        T.Close([4, 1, 0.25, 0.0625], x.Reciprocal(), 1e-7);
        Assert.True(double.IsNaN(T.F64([-1], 1).Sqrt().Item()));
        Assert.Equal(double.PositiveInfinity, T.F64([0], 1).Reciprocal().Item());
    }

    [Fact]
    public void Sqrt_Rsqrt_Reciprocal_GradCheck_SecondOrder()
    {
        GradCheck.Verify(x => x[0].Sqrt(), [T.Uniform(6, 0.5, 3, 3, 4)]);
        GradCheck.VerifySecondOrder(x => x[0].Sqrt(), [T.Uniform(6, 0.5, 3, 3, 4)]);
        GradCheck.Verify(x => x[0].Rsqrt(), [T.Uniform(7, 0.5, 3, 3, 4)]);
        GradCheck.VerifySecondOrder(x => x[0].Rsqrt(), [T.Uniform(7, 0.5, 3, 3, 4)]);
        GradCheck.Verify(x => x[0].Reciprocal(), [T.Uniform(8, 0.5, 3, 3, 4)]);
        GradCheck.VerifySecondOrder(x => x[0].Reciprocal(), [T.Uniform(8, 0.5, 3, 3, 4)]);
    }

    [Fact]
    public void Sqrt_GradientAtZeroIsInfinity()
    {
        // torch: sqrt([0, 4]).sum().backward() -> grad [inf, 0.25]
        Tensor x = T.F64([0, 4], 2).RequireGrad();
        x.Sqrt().Sum().Backward();
        Assert.Equal([double.PositiveInfinity, 0.25], x.Grad!.ToDoubleArray());
    }

    // ---------------- Abs, Sign, Round, Floor ----------------

    [Fact]
    public void Abs_Forward_GradCheck()
    {
        T.Close([3, 1.5, 0.5, 0, 0.25, 1, 2.5, 30], Xf64().Abs(), 0);
        GradCheck.Verify(x => x[0].Abs(), [AwayFromZero(9, 3, 4)]);
        GradCheck.VerifySecondOrder(x => x[0].Abs() * x[0], [AwayFromZero(9, 3, 4)]);
    }

    [Fact]
    public void Abs_GradientAtZeroIsZero()
    {
        // torch: abs([-1, 0, 1]) grad -> [-1, 0, 1]
        Tensor x = T.F64([-1, 0, 1], 3).RequireGrad();
        x.Abs().Sum().Backward();
        Assert.Equal([-1, 0, 1], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void Abs_Sign_Int64()
    {
        Tensor x = Tensor.FromArray(new long[] { -3, 0, 5, long.MinValue });
        Assert.Equal([3, 0, 5, long.MinValue], x.Abs().ToArray<long>()); // wraps, as PyTorch
        Assert.Equal([-1, 0, 1, -1], x.Sign().ToArray<long>());
    }

    [Fact]
    public void Sign_Round_Floor_Forward_AndZeroGradient()
    {
        T.Close([-1, -1, -1, 0, 1, 1, 1, 1], Xf64().Sign(), 0);
        Assert.Equal(0, T.F64([double.NaN], 1).Sign().Item()); // torch.sign(nan) = 0
        // torch.round([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.6]) = [-2, -2, -0, 0, 2, 2, 3] (half to even)
        T.Close([-2, -2, 0, 0, 2, 2, 3], T.F32([-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 2.6f], 7).Round(), 0);
        T.Close([-3, -2, -1, 0, 0, 1, 2, 30], Xf64().Floor(), 0);

        Tensor x = T.Param(10, 2, 3);
        (x.Sign() + x.Round() + x.Floor()).Sum().Backward();
        Assert.All(x.Grad!.ToDoubleArray(), g => Assert.Equal(0, g));
    }

    // ---------------- Clamp ----------------

    [Fact]
    public void Clamp_Forward()
    {
        Tensor x = T.F32([-2f, -0.5f, 0f, 0.5f, 2f, float.NaN], 6);
        double[] y = x.Clamp(-1, 1).ToDoubleArray();
        T.Close([-1, -0.5, 0, 0.5, 1], y[..5], 0);
        Assert.True(double.IsNaN(y[5]));
        T.Close([-1, -0.5, 0, 0.5, 2], x.ClampMin(-1).ToDoubleArray()[..5], 0);
        T.Close([-2, -0.5, 0, 0.5, 1], x.ClampMax(1).ToDoubleArray()[..5], 0);
        T.Close([-2, -0.5, 0, 0.5, 2], x.Clamp(null, 5).ToDoubleArray()[..5], 0);
        // min > max: everything becomes max, as torch.clamp.
        T.Close([1, 1, 1, 1, 1], x.Clamp(3, 1).ToDoubleArray()[..5], 0);
    }

    [Fact]
    public void Clamp_GradCheck_AwayFromBounds()
    {
        GradCheck.Verify(x => x[0].Clamp(-0.5, 0.7), [AwayFrom(11, [-0.5, 0.7], [3, 4])]);
        GradCheck.Verify(x => x[0].ClampMin(0.3), [AwayFrom(12, [0.3], [3, 4])]);
        GradCheck.Verify(x => x[0].ClampMax(0.3), [AwayFrom(13, [0.3], [3, 4])]);
        GradCheck.VerifySecondOrder(x => x[0].Clamp(-0.5, 0.7) * x[0], [AwayFrom(11, [-0.5, 0.7], [3, 4])]);
    }

    [Fact]
    public void Clamp_GradientAtBoundsIsOne()
    {
        // torch.clamp([-1, 0, 0.5, 1, 2], 0, 1) grad -> [0, 1, 1, 1, 0]
        Tensor x = T.F64([-1, 0, 0.5, 1, 2], 5).RequireGrad();
        x.Clamp(0, 1).Sum().Backward();
        Assert.Equal([0, 1, 1, 1, 0], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void Clamp_NoBounds_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros([2]).Clamp(null, null));
        Assert.Contains("Clamp", e.Message);
    }

    // ---------------- Maximum, Minimum ----------------

    [Theory]
    [MemberData(nameof(BroadcastShapes))]
    public void Maximum_Minimum_GradCheck(int[] sa, int[] sb)
    {
        Tensor a = T.Param(14, sa), b = T.Param(15, sb);
        GradCheck.Verify(x => x[0].Maximum(x[1]), [a, b]);
        GradCheck.Verify(x => x[0].Minimum(x[1]), [a, b]);
        GradCheck.VerifySecondOrder(x => x[0].Maximum(x[1]) * x[0], [a, b]);
    }

    [Fact]
    public void Maximum_Minimum_TiesSplitTheGradient()
    {
        // torch.maximum([1, 2, 3], [2, 2, 2]): a.grad [0, 0.5, 1], b.grad [1, 0.5, 0]; minimum the mirror.
        Tensor a = T.F64([1, 2, 3], 3).RequireGrad(), b = T.F64([2, 2, 2], 3).RequireGrad();
        a.Maximum(b).Sum().Backward();
        Assert.Equal([0, 0.5, 1], a.Grad!.ToDoubleArray());
        Assert.Equal([1, 0.5, 0], b.Grad!.ToDoubleArray());
        a.Grad = null; b.Grad = null;
        a.Minimum(b).Sum().Backward();
        Assert.Equal([1, 0.5, 0], a.Grad!.ToDoubleArray());
        Assert.Equal([0, 0.5, 1], b.Grad!.ToDoubleArray());
    }

    [Fact]
    public void Maximum_BroadcastTie_SumsHalves()
    {
        // b (scalar 2) ties with two elements of a: it collects 0.5 + 0.5 + 1 (from the 1).
        Tensor a = T.F64([1, 2, 2, 3], 4).RequireGrad(), b = T.F64([2]).RequireGrad();
        a.Maximum(b).Sum().Backward();
        Assert.Equal([0, 0.5, 0.5, 1], a.Grad!.ToDoubleArray());
        Assert.Equal(2.0, b.Grad!.Item());
    }

    [Fact]
    public void Maximum_Minimum_Forward_Int64_AndNaN()
    {
        Tensor a = Tensor.FromArray(new long[] { 1, 5, -3 }), b = Tensor.FromArray(new long[] { 2, 4, -3 });
        Assert.Equal([2, 5, -3], a.Maximum(b).ToArray<long>());
        Assert.Equal([1, 4, -3], a.Minimum(b).ToArray<long>());
        double[] y = T.F32([float.NaN, 1f], 2).Maximum(T.F32([0f, float.NaN], 2)).ToDoubleArray();
        Assert.True(double.IsNaN(y[0]) && double.IsNaN(y[1]));
    }

    // ---------------- Activations ----------------

    [Fact]
    public void Relu_Forward_GradCheck()
    {
        T.Close([0, 0, 0, 0, 0.25, 1, 2.5, 30], Functional.Relu(Xf64()), 0);
        T.Close([0, 0, 0, 0, 0.25, 1, 2.5, 30], Xf64().To(DType.Float32).Relu(), 0);
        GradCheck.Verify(x => x[0].Relu(), [AwayFromZero(16, 4, 5)]);
        GradCheck.VerifySecondOrder(x => x[0].Relu() * x[0], [AwayFromZero(16, 4, 5)]);
    }

    [Fact]
    public void Relu_GradientAtZeroIsZero()
    {
        // torch.relu([-1, 0, 1]) grad -> [0, 0, 1]
        Tensor x = T.F64([-1, 0, 1], 3).RequireGrad();
        x.Relu().Sum().Backward();
        Assert.Equal([0, 0, 1], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void LeakyRelu_Forward_GradCheck()
    {
        T.Close([-0.30000000000000004, -0.15000000000000002, -0.05, 0.0, 0.25, 1.0, 2.5, 30.0], Functional.LeakyRelu(Xf64(), 0.1), 1e-16);
        T.Close([-0.03, -0.015, -0.005, 0, 0.25, 1, 2.5, 30], Xf64().LeakyRelu(), 1e-16); // default slope 0.01
        GradCheck.Verify(x => x[0].LeakyRelu(0.2), [AwayFromZero(17, 4, 5)]);
        GradCheck.VerifySecondOrder(x => x[0].LeakyRelu(0.2) * x[0], [AwayFromZero(17, 4, 5)]);
        Tensor z = T.F64([0], 1).RequireGrad();
        z.LeakyRelu(0.2).Sum().Backward();
        Assert.Equal(0.2, z.Grad!.Item()); // x > 0 is false at 0: slope, as PyTorch
    }

    [Fact]
    public void Gelu_Forward_MatchesPyTorch()
    {
        T.Close([-0.00404969409489031, -0.10021080190328704, -0.15426876936299344, 0.0, 0.14967658142073093, 0.841344746068543, 2.4844758366855597, 30.0],
            Functional.Gelu(Xf64()), 1e-15);
        T.Close([-0.0036373920817729943, -0.10042842301976707, -0.15428599017485606, 0.0, 0.149675350701685, 0.8411919906082768, 2.484915733910001, 30.0],
            Xf64().Gelu(GeluApproximation.Tanh), 1e-15);
        // float32: torch gives -0.004049867391586304 at x = -3 (its float 1 + erf cancels); this evaluates
        // erfc in double, so it is within float rounding of the float64 value instead.
        T.Close([-0.00404969409489031, -0.10021080190328704, -0.15426876936299344, 0.0, 0.14967658142073093, 0.841344746068543, 2.4844758366855597, 30.0],
            Xf64().To(DType.Float32).Gelu(), 3e-7);
        T.Close([-0.0036373920817729943, -0.10042842301976707, -0.15428599017485606, 0.0, 0.149675350701685, 0.8411919906082768, 2.484915733910001, 30.0],
            Xf64().To(DType.Float32).Gelu(GeluApproximation.Tanh), 1e-6);
    }

    [Fact]
    public void Gelu_Gradient_MatchesPyTorch()
    {
        Tensor x = Xf64().RequireGrad();
        x.Gelu().Sum().Backward();
        T.Close([-0.01194564720418392, -0.1274691922299796, 0.13250487534383712, 0.5, 0.695373354883636, 1.0833154705876864, 1.037611085908145, 1.0], x.Grad!, 1e-15);
        x.Grad = null;
        x.Gelu(GeluApproximation.Tanh).Sum().Backward();
        T.Close([-0.011584166630969648, -0.12771079315143308, 0.13263009646535764, 0.5, 0.6953540951510604, 1.0829640838457826, 1.037951576212666, 1.0], x.Grad!, 1e-14);
    }

    [Theory]
    [InlineData(GeluApproximation.None)]
    [InlineData(GeluApproximation.Tanh)]
    public void Gelu_GradCheck_SecondOrder(GeluApproximation approximate)
    {
        GradCheck.Verify(x => x[0].Gelu(approximate), [T.Param(18, 4, 5)]);
        GradCheck.VerifySecondOrder(x => x[0].Gelu(approximate), [T.Param(18, 4, 5)]);
    }

    [Fact]
    public void Softplus_Forward_MatchesPyTorch()
    {
        T.Close([0.04858735157374206, 0.2014132779827524, 0.4740769841801067, 0.6931471805599453, 0.8259394198788436, 1.3132616875182228, 2.5788897342925496, 30.0],
            Functional.Softplus(Xf64()), 1e-15);
        T.Close([0.0012378425688652247, 0.02429367578687103, 0.15663084375911143, 0.34657359027997264, 0.48703849209005334, 1.0634640055214863, 2.503357674244559, 30.0],
            Xf64().Softplus(beta: 2, threshold: 5), 1e-15);
        T.Close([0.04858735157374206, 0.2014132779827524, 0.4740769841801067, 0.6931471805599453, 0.8259394198788436, 1.3132616875182228, 2.5788897342925496, 30.0],
            Xf64().To(DType.Float32).Softplus(), 1e-6);
    }

    [Fact]
    public void Softplus_AboveThreshold_IsLinear()
    {
        // βx = 2·2.5 = 5 is not > 5: smooth branch; βx = 2·2.6 > 5: exactly x with gradient exactly 1.
        Tensor x = T.F64([2.5, 2.6, 100], 3).RequireGrad();
        Tensor y = x.Softplus(beta: 2, threshold: 5);
        double[] v = y.ToDoubleArray();
        Assert.Equal(2.503357674244559, v[0], 1e-15);
        Assert.Equal(2.6, v[1]);
        Assert.Equal(100, v[2]);
        y.Sum().Backward();
        double[] g = x.Grad!.ToDoubleArray();
        Assert.Equal(0.9933071490757152, g[0], 1e-15);
        Assert.Equal(1.0, g[1]);
        Assert.Equal(1.0, g[2]);
    }

    [Fact]
    public void Softplus_Gradient_MatchesPyTorch_GradCheck_SecondOrder()
    {
        Tensor x = Xf64().RequireGrad();
        x.Softplus(beta: 2, threshold: 5).Sum().Backward();
        T.Close([0.0024726231566347748, 0.04742587317756679, 0.2689414213699951, 0.5, 0.6224593312018546, 0.8807970779778824, 0.9933071490757152, 1.0], x.Grad!, 1e-15);
        GradCheck.Verify(v => v[0].Softplus(), [T.Param(19, 4, 5)]);
        GradCheck.Verify(v => v[0].Softplus(beta: 2, threshold: 1), [AwayFrom(20, [0.5], [4, 5])]);
        GradCheck.VerifySecondOrder(v => v[0].Softplus(beta: 2, threshold: 1), [AwayFrom(20, [0.5], [4, 5])]);
    }

    [Fact]
    public void Silu_Forward_Gradient_MatchesPyTorch()
    {
        T.Close([-0.14227761953270035, -0.2736382857095345, -0.1887703343990727, 0.0, 0.14054412522144952, 0.7310585786300049, 2.3103545499468914, 29.999999999997197],
            Functional.Silu(Xf64()), 1e-14);
        Tensor x = Xf64().RequireGrad();
        x.Silu().Sum().Backward();
        T.Close([-0.08810410601516962, -0.041294154299142946, 0.2600388126973482, 0.5, 0.6237100215701977, 0.9276705118714869, 1.0994011113415267, 1.000000000002711], x.Grad!, 1e-14);
    }

    [Fact]
    public void Silu_GradCheck_SecondOrder()
    {
        GradCheck.Verify(x => x[0].Silu(), [T.Param(21, 4, 5)]);
        GradCheck.VerifySecondOrder(x => x[0].Silu(), [T.Param(21, 4, 5)]);
    }

    [Fact]
    public void Erf_Erfc_Forward_GradCheck_SecondOrder()
    {
        T.Close([-0.9999779095030014, -0.9661051464753108, -0.5204998778130465, 0.0, 0.27632639016823696, 0.8427007929497149, 0.999593047982555, 1.0], Xf64().Erf(), 1e-16);
        T.Close([1.9999779095030015, 1.9661051464753108, 1.5204998778130465, 1.0, 0.7236736098317631, 0.15729920705028513, 0.0004069520174449589, 0.0], Xf64().Erfc(), 1e-16);
        GradCheck.Verify(x => x[0].Erf(), [T.Param(22, 3, 4)]);
        GradCheck.VerifySecondOrder(x => x[0].Erf(), [T.Param(22, 3, 4)]);
        GradCheck.Verify(x => x[0].Erfc(), [T.Param(23, 3, 4)]);
        GradCheck.VerifySecondOrder(x => x[0].Erfc(), [T.Param(23, 3, 4)]);
    }

    [Fact]
    public void FusedBackward_MatchesDifferentiableBackward()
    {
        // Without createGraph the activations use one fused kernel; with it, tensor ops. Same numbers.
        Func<Tensor, Tensor>[] fs =
        [
            t => t.Relu(), t => t.LeakyRelu(0.3), t => t.Gelu(), t => t.Gelu(GeluApproximation.Tanh),
            t => t.Softplus(1.5, 2), t => t.Silu(), t => t.Clamp(-0.5, 0.5),
        ];
        foreach (DType dtype in new[] { DType.Float32, DType.Float64 })
        {
            foreach (var f in fs)
            {
                Tensor x = Tensor.Uniform([7, 9], -4, 4, dtype, new Generator(24)).RequireGrad();
                Tensor w = Tensor.Uniform([7, 9], -1, 1, dtype, new Generator(25));
                Tensor fused = Gradients.Grad([(f(x) * w).Sum()], [x])[0]!;
                Tensor graph = Gradients.Grad([(f(x) * w).Sum()], [x], createGraph: true)[0]!;
                T.Close(graph.ToDoubleArray(), fused, dtype == DType.Float32 ? 1e-5 : 1e-13);
            }
        }
    }

    [Fact]
    public void Activations_OnNonContiguousInput()
    {
        Tensor x = T.F64([-1, 2, -3, 4, -5, 6], 2, 3).T(); // [[-1, 4], [2, -5], [-3, 6]]
        T.Close([0, 4, 2, 0, 0, 6], x.Relu(), 0);
        T.Close([-1, 1, 1, -1, -1, 1], x.Sign(), 0);
        T.Close([1, 1, 1, 0, 0, 1], x.Gt(T.F64([-2, 0], 2)), 0);
    }

    // ---------------- Comparisons ----------------

    [Fact]
    public void Comparisons_Broadcast_Bool_NoGrad()
    {
        Tensor a = T.F32([1f, 2f, 3f, 4f, 5f, 6f], 2, 3).RequireGrad();
        Tensor b = T.F32([2f, 5f, 3f], 3);
        Tensor gt = a.Gt(b);
        Assert.Equal(DType.Bool, gt.DType);
        Assert.False(gt.RequiresGrad);
        Assert.Equal(new Shape(2, 3), gt.Shape);
        T.Close([0, 0, 0, 1, 0, 1], gt, 0);
        T.Close([0, 0, 1, 1, 1, 1], a.Ge(b), 0);
        T.Close([1, 1, 0, 0, 0, 0], a.Lt(b), 0);
        T.Close([1, 1, 1, 0, 1, 0], a.Le(b), 0);
        T.Close([0, 0, 1, 0, 1, 0], a.Eq(b), 0);
        T.Close([1, 1, 0, 1, 0, 1], a.Ne(b), 0);
        T.Close([0, 0, 1, 1, 1, 1], a.Gt(2.5), 0);
        T.Close([0, 1, 0, 0, 0, 0], a.Eq(2), 0);
        T.Close([1, 1, 1, 0, 0, 0], a.Le(3), 0);
        T.Close([1, 1, 0, 0, 0, 0], a.Lt(3), 0);
        T.Close([0, 0, 1, 1, 1, 1], a.Ge(3), 0);
        T.Close([1, 0, 1, 1, 1, 1], a.Ne(2), 0);
    }

    [Fact]
    public void Comparisons_AsMask()
    {
        Tensor x = T.F64([-2, -1, 1, 2], 4);
        T.Close([0, 0, 1, 2], x * x.Gt(0), 0);
    }

    [Fact]
    public void Comparisons_Int64_AndNaN()
    {
        Tensor a = Tensor.FromArray(new long[] { 1, 2, 3 });
        Assert.Equal([false, false, true], a.Gt(2.5).ToArray<bool>()); // not a > 2
        Assert.Equal([false, true, true], a.Ge(2).ToArray<bool>());
        Assert.Equal([true, false, true], a.Ne(Tensor.FromArray(new long[] { 2 })).ToArray<bool>());
        Tensor n = T.F64([double.NaN, 1], 2);
        T.Close([0, 1], n.Eq(T.F64([double.NaN, 1], 2)), 0);
        T.Close([1, 0], n.Ne(T.F64([double.NaN, 1], 2)), 0);
        T.Close([0, 1], n.Gt(0), 0);
        T.Close([0, 0], n.Le(0), 0);
    }

    // ---------------- Errors ----------------

    [Fact]
    public void MixedDTypes_PromoteAsTorch() // more cases in PromotionAndBoolTests
    {
        Tensor f = Tensor.Ones([2]), d = Tensor.Ones([2], DType.Float64);
        foreach (Func<Tensor> op in new Func<Tensor>[] { () => f.Pow(d), () => f.Maximum(d), () => f.Minimum(d) })
            Assert.Equal(DType.Float64, op().DType);
    }

    [Fact]
    public void ShapeMismatch_NamesOpAndShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Ones([3, 4]).Maximum(Tensor.Ones([5])));
        Assert.Contains("Maximum", e.Message);
        Assert.Contains("[3, 4]", e.Message);
        Assert.Contains("[5]", e.Message);
    }

    [Fact]
    public void FloatOnlyOps_RejectInt64_NamingOp()
    {
        Tensor i = Tensor.FromArray(new long[] { 1, 2 });
        Assert.Contains("Sqrt", Assert.Throws<ArgumentException>(() => i.Sqrt()).Message);
        Assert.Contains("Gelu", Assert.Throws<ArgumentException>(() => i.Gelu()).Message);
        Assert.Contains("int64", Assert.Throws<ArgumentException>(() => i.Relu()).Message);
    }
}
