using Backprop.Autograd;
using Backprop.Memory;
using Backprop.Optim;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.NN.Layers;

/// <summary>
/// Rnn, Lstm and Gru (2 layers, bidirectional, batch first) against torch.nn.RNN/LSTM/GRU (Debian
/// python3-torch, float64), every parameter and input filled with 0.5·sin(0.37·(k + 1) + seed).
/// </summary>
public class RecurrentLayerTests
{
    private const int I = 3, H = 2, B = 2, S = 3, L = 2;

    private static Tensor X() => SineFill.Tensor(1.0, B, S, I);

    private static Tensor H0() => SineFill.Tensor(2.0, 2 * L, B, H);

    private static Tensor C0() => SineFill.Tensor(3.0, 2 * L, B, H);

    [Fact]
    public void Lstm_MatchesPyTorch()
    {
        var lstm = SineFill.Parameters(new Lstm(I, H, numLayers: L, batchFirst: true, bidirectional: true, dtype: DType.Float64));
        var (output, (h, c)) = lstm.Forward(X(), (H0(), C0()));
        Assert.Equal([B, S, 2 * H], output.Shape.ToArray());
        T.Close([-0.03873198841192121, -0.014563422089901606, 0.41919105613543983, 0.4527629394453773, -0.11603608516680866, -0.09323190698747984,
                 0.3982498634671899, 0.4269410744782685, -0.19363590024091007, -0.11196412352780152, 0.36307343115503926, 0.379311150104935,
                 -0.012910827001337548, -0.03514186910633737, 0.3955947265423619, 0.4230775547346606, -0.1081422622110853, -0.08257266058060352,
                 0.3662947953137808, 0.3879544585463909, -0.1579965441117099, -0.09019889161321022, 0.3268025831498832, 0.29556778403756856], output, 1e-13);
        T.Close([0.4804598563676339, 0.35205686569891725, 0.2636563828042724, 0.297374227879833, -0.07559681614313253, 0.04989542977473749,
                 -0.0752621802806922, -0.14608543482287129, -0.19363590024091007, -0.11196412352780152, -0.1579965441117099, -0.09019889161321022,
                 0.41919105613543983, 0.4527629394453773, 0.3955947265423619, 0.4230775547346606], h, 1e-13);
        T.Close([0.8056716213986808, 0.7840355164008542, 0.645066947944019, 0.7830233460266971, -0.1220274283488714, 0.09635804339970376,
                 -0.1694976921913755, -0.21807152090151766, -0.5201024299871841, -0.3999621978659169, -0.44609793177697415, -0.34431429574623584,
                 0.6736655987181562, 0.9320997118370691, 0.639816226584722, 0.8278184800351348], c, 1e-13);
    }

    [Fact]
    public void Gru_MatchesPyTorch()
    {
        var gru = SineFill.Parameters(new Gru(I, H, numLayers: L, batchFirst: true, bidirectional: true, dtype: DType.Float64));
        var (output, h) = gru.Forward(X(), H0());
        T.Close([-0.33407314509216457, -0.1181764162088849, 0.5553770827587844, 0.4387767897736131, -0.3465735653479137, -0.21690674654997988,
                 0.5822206582780869, 0.4387063922215304, -0.3707317663232835, -0.2804634355514739, 0.484894376139578, 0.41418112629420667,
                 -0.1845378942274704, -0.211900382490527, 0.6687535374368505, 0.5657793936961749, -0.22572313722468934, -0.2527526641878516,
                 0.5736774340097188, 0.5072474905132027, -0.25402687976604227, -0.1790600295553592, 0.5117763218281355, 0.48811695388402865], output, 1e-13);
        T.Close([0.5642327646659775, 0.4538932530250947, 0.38907718566542077, 0.3476458239880833, -0.21386006326341844, 0.1775522393378872,
                 -0.42057833415472845, -0.4451574016997843, -0.3707317663232835, -0.2804634355514739, -0.25402687976604227, -0.1790600295553592,
                 0.5553770827587844, 0.4387767897736131, 0.6687535374368505, 0.5657793936961749], h, 1e-13);
    }

    [Fact]
    public void Rnn_MatchesPyTorch()
    {
        var rnn = SineFill.Parameters(new Rnn(I, H, numLayers: L, batchFirst: true, bidirectional: true, dtype: DType.Float64));
        var (output, h) = rnn.Forward(X(), H0());
        T.Close([0.4566449425628337, -0.3573232194629233, 0.08904477853824358, 0.3039684757681381, 0.4187278910024841, 0.4541694481640969,
                 0.3129577221499226, 0.13914568418719905, 0.595609641054231, 0.7062870021827562, -0.20530545151482701, -0.3089282749258788,
                 0.3277206404450081, 0.5626461763783537, -0.37898113069652906, -0.5255305065341119, 0.7035095978626056, 0.4703784594125004,
                 0.4114155583204871, 0.4007252606229464, 0.7499136396783522, 0.5975697712183671, -0.2362952935855891, -0.048056235830903786], output, 1e-13);
        T.Close([0.41098227084903194, 0.6351227799427867, -0.31283081527924106, 0.23625099968181898, -0.32745799691120125, -0.5889954046405075,
                 -0.897777737488403, -0.4360147270075544, 0.595609641054231, 0.7062870021827562, 0.7499136396783522, 0.5975697712183671,
                 0.08904477853824358, 0.3039684757681381, -0.37898113069652906, -0.5255305065341119], h, 1e-13);
    }

    [Fact]
    public void ParameterNames_FollowPyTorch()
    {
        string[] expected = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l0_reverse", "weight_hh_l0_reverse",
                             "bias_ih_l0_reverse", "bias_hh_l0_reverse", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
                             "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"];
        Assert.Equal(expected, new Lstm(I, H, numLayers: 2, bidirectional: true).NamedParameters().Select(kv => kv.Key));
        var lstm = new Lstm(I, H, numLayers: 2, bidirectional: true);
        Assert.Equal([4 * H, 2 * H], lstm.NamedParameters().First(kv => kv.Key == "weight_ih_l1").Value!.Shape.ToArray());
    }

    [Fact]
    public void BackpropThroughTime_MatchesFiniteDifferences()
    {
        var gru = new Gru(I, H, numLayers: 2, bidirectional: true, generator: new Generator(1), dtype: DType.Float64);
        GradCheck.Verify(t => gru.Forward(t[0], t[1]).Output, [T.Param(1, S, B, I), T.Param(2, 4, B, H)]);
        var lstm = new Lstm(I, H, batchFirst: true, generator: new Generator(2), dtype: DType.Float64);
        GradCheck.Verify(t => lstm.Forward(t[0], (t[1], t[2])).State.C, [T.Param(3, B, S, I), T.Param(4, 1, B, H), T.Param(5, 1, B, H)]);
        var rnn = new Rnn(I, H, nonlinearity: "tanh", generator: new Generator(3), dtype: DType.Float64);
        GradCheck.Verify(t => rnn.Forward(t[0], t[1]).H, [T.Param(6, S, B, I), T.Param(7, 1, B, H)]);
    }

    [Fact]
    public void BatchFirstAndUnbatched_GiveTheSameNumbers()
    {
        var lstm = new Lstm(I, H, generator: new Generator(4));
        Tensor seq = Tensor.Uniform([S, B, I], -1, 1, generator: new Generator(5));
        var first = new Lstm(I, H, batchFirst: true, generator: new Generator(4));
        Assert.Equal(lstm.Forward(seq).ToArray<float>(), first.Forward(seq.Transpose(0, 1)).Transpose(0, 1).ToArray<float>());
        Tensor one = seq.Select(1, 0);                                                  // [seq, input]
        var (output, (h, _)) = lstm.Forward(one, null);
        Assert.Equal([S, H], output.Shape.ToArray());
        Assert.Equal([1, H], h.Shape.ToArray());
        // A batch of one takes other GEMM paths than a batch of two: equal to float32 rounding, not bit for bit.
        T.Close(lstm.Forward(seq).Select(1, 0).ToDoubleArray(), output.ToDoubleArray(), 1e-6);
    }

    [Fact]
    public void DropoutBetweenLayers_OnlyWhileTraining()
    {
        var gru = new Gru(I, H, numLayers: 2, dropout: 0.5, generator: new Generator(6));
        Tensor seq = Tensor.Uniform([S, B, I], -1, 1, generator: new Generator(7));
        gru.Eval();
        float[] a = gru.Forward(seq).ToArray<float>(), b = gru.Forward(seq).ToArray<float>();
        Assert.Equal(a, b);
        gru.Train();
        Assert.NotEqual(a, gru.Forward(seq).ToArray<float>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Lstm_LearnsToRecallThePreviousInput(bool fused)
    {
        var g = new Generator(30);
        var lstm = new Lstm(1, 16, batchFirst: true, generator: g) { Fused = fused };
        var head = new Linear(16, 1, generator: g);
        var optimizer = new Adam([.. lstm.Parameters(), .. head.Parameters()], new AdamOptions(LearningRate: 0.02));
        double first = 0, last = 0;
        for (int step = 0; step < 150; step++)
        {
            using var scope = TensorScope.Begin();
            Tensor x = Tensor.Uniform([16, 10, 1], -1, 1, generator: g);
            Tensor y = head.Forward(lstm.Forward(x)).Narrow(1, 1, 9);          // at step t, predict x[t − 1]
            Tensor loss = Functional.MseLoss(y, x.Narrow(1, 0, 9));
            optimizer.ZeroGrad();
            loss.Backward();
            optimizer.Step();
            last = loss.Item();
            if (step == 0) first = last;
        }
        Assert.True(last < 0.05 * first, $"loss went from {first} to {last}");
    }

    [Fact]
    public void WrongShapes_AreRefusedWithTheShapes()
    {
        var lstm = new Lstm(I, H, numLayers: 2);
        var e = Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Zeros([S, B, I + 1])));
        Assert.Contains("Lstm", e.Message);
        Assert.Contains($"[{S}, {B}, {I + 1}]", e.Message);
        e = Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Zeros([S, B, I]), (Tensor.Zeros([1, B, H]), Tensor.Zeros([2, B, H]))));
        Assert.Contains("h0", e.Message);
        Assert.Contains($"[2, {B}, {H}]", e.Message);
        Assert.Throws<ArgumentException>(() => new Gru(I, H, dropout: 1.5));
    }
}
