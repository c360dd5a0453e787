using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Norm;

public class NormTests
{
    // Literals: torch 1.13, float64, seq(shape, a, b, scale) = scale·sin(a·i + b).
    // x = seq([2,3,4], 0.53, 0.7, 2), w = seq([3,4], 0.3, 0.9), b = seq([3,4], 0.6, 0.1, 0.5)
    private static readonly double[] LayerNormAffine = // F.layer_norm(x, [3,4], w, b)
    [
        0.7600545645, 1.561688338, 1.86457719, 1.505461346, 0.6797118974, -0.1829335606, -0.6766534346, -0.6504309844,
        -0.271832819, 0.1070758076, 0.1871475786, -0.0929544043, 0.8216594529, 1.589817952, 1.837763072, 1.430587748,
        0.5881186987, -0.2548928671, -0.7100079316, -0.6544468872, -0.2763476845, 0.07276724752, 0.1150360209, -0.1827985098,
    ];

    private static readonly double[] LayerNormLast = // F.layer_norm(x, [4])
    [
        -1.346764456, 0.8119876585, 1.099068809, -0.5642920119, 1.442381809, 0.3581263352, -0.6084300909, -1.192078054,
        -1.164218148, -0.6303840435, 0.3330019239, 1.461600268, -0.9944300086, 1.001934434, 0.9979058765, -1.005410302,
        1.462133438, 0.3322864233, -0.6310016645, -1.163418196, -1.192799035, -0.6078501955, 0.358781969, 1.441867262,
    ];

    [Theory]
    [InlineData(DType.Float64, 1e-9)]
    [InlineData(DType.Float32, 1e-5)]
    public void LayerNorm_MatchesPyTorch(DType dtype, double tol)
    {
        Tensor x = ConvReference.Seq([2, 3, 4], 0.53, 0.7, 2, dtype);
        Tensor w = ConvReference.Seq([3, 4], 0.3, 0.9, 1, dtype);
        Tensor b = ConvReference.Seq([3, 4], 0.6, 0.1, 0.5, dtype);
        T.Close(LayerNormAffine, Functional.LayerNorm(x, [3, 4], w, b), tol);
        T.Close(LayerNormLast, Functional.LayerNorm(x, [4]), tol);
    }

    [Fact]
    public void LayerNorm_GradCheck_InputWeightBias()
    {
        GradCheck.Verify(v => Functional.LayerNorm(v[0], [3, 4], v[1], v[2]), [T.Param(1, 2, 3, 4), T.Param(2, 3, 4), T.Param(3, 3, 4)]);
        GradCheck.Verify(v => Functional.LayerNorm(v[0], [5], v[1], v[2]), [T.Param(1, 3, 2, 5), T.Param(2, 5), T.Param(3, 5)]);
        GradCheck.Verify(v => Functional.LayerNorm(v[0], [4]), [T.Param(4, 3, 4)]);
        GradCheck.Verify(v => Functional.LayerNorm(v[0], [7], v[1]), [T.Param(5, 7), T.Param(6, 7)]);
        GradCheck.Verify(v => Functional.LayerNorm(v[0], [2, 3], null, v[1], eps: 0.1), [T.Param(7, 1, 2, 3), T.Param(8, 2, 3)]);
    }

    [Fact]
    public void LayerNorm_SecondOrder()
    {
        GradCheck.VerifySecondOrder(v => Functional.LayerNorm(v[0], [4], v[1], v[2]), [T.Param(1, 3, 4), T.Param(2, 4), T.Param(3, 4)]);
        GradCheck.VerifySecondOrder(v => Functional.LayerNorm(v[0], [2, 3]), [T.Param(4, 2, 2, 3)]);
    }

    [Fact]
    public void LayerNorm_NonContiguousInput()
    {
        Tensor x = T.Param(1, 4, 3);
        T.Close(Functional.LayerNorm(x.T().Contiguous(), [4]).ToDoubleArray(), Functional.LayerNorm(x.T(), [4]), 1e-12);
        GradCheck.Verify(v => Functional.LayerNorm(v[0].T(), [4]), [x]);
        GradCheck.VerifySecondOrder(v => Functional.LayerNorm(v[0].T(), [4]), [T.Param(2, 4, 3)]);
    }

    [Fact]
    public void LayerNorm_Errors()
    {
        var shape = Assert.Throws<ArgumentException>(() => Functional.LayerNorm(Tensor.Zeros([2, 3]), [4]));
        Assert.Contains("LayerNorm", shape.Message);
        Assert.Contains("[4]", shape.Message);
        Assert.Contains("[2, 3]", shape.Message);
        var weight = Assert.Throws<ArgumentException>(() => Functional.LayerNorm(Tensor.Zeros([2, 3]), [3], Tensor.Zeros([2])));
        Assert.Contains("weight", weight.Message);
        var dtype = Assert.Throws<ArgumentException>(() => Functional.LayerNorm(Tensor.Zeros([2, 3], DType.Int64), [3]));
        Assert.Contains("int64", dtype.Message);
    }

    // x = seq([4,3,2,2], 0.41, 0.2, 3), w = seq([3], 1.3, 0.4), b = seq([3], 0.8, 1.0), running mean [0.1, -0.2, 0.3], var [1.5, 0.5, 2.0]
    // F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2, eps=1e-5), then F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-3).
    private static readonly double[] BatchNormTrain =
    [
        1.038555334, 1.259279392, 1.423991894, 1.505390366, 2.200844488, 1.949250515, 1.523117, 0.9930791333, 0.4188177663, 0.3454939407,
        0.2959026489, 0.2782640618, 0.3798365356, 0.5179251478, 0.722887863, 0.960750399, 1.517379257, 1.945176695, 2.199109862, 2.237087212,
        0.6684821449, 0.6100267887, 0.5314554368, 0.4457919471, 0.5809374556, 0.4171398229, 0.3369223028, 0.3535816195, -0.1522474907,
        0.2757041029, 0.8065204536, 1.352214317, 0.6326481013, 0.6818739624, 0.6990745584, 0.6813987469, 1.322559228, 1.116945758,
        0.8789137219, 0.6479189163, -0.1570785751, -0.4084548434, -0.4435612936, -0.2565787381, 0.3682112952, 0.4469597971, 0.5326220194,
        0.6109987332,
    ];

    private static readonly double[] BatchNormEval =
    [
        1.004404287, 1.310639681, 1.539163922, 1.652097208, 3.474524625, 3.012329112, 2.229492399, 1.255776212, 0.3975246424, 0.3035490291,
        0.2399902606, 0.2173837337, 0.09048936528, 0.2820752796, 0.5664431835, 0.8964567211, 2.218951768, 3.004845224, 3.471337998, 3.541105014,
        0.7175074432, 0.6425880305, 0.5418869157, 0.4320961498, 0.3694993648, 0.1422444252, 0.03094960751, 0.05406295752, -0.8482679394,
        -0.06209129015, 0.9130550259, 1.91553236, 0.6715806767, 0.7346710902, 0.7567162651, 0.7340620295, 1.398434937, 1.113164169,
        0.7829154641, 0.4624303038, -0.8571429752, -1.31893855, -1.383431525, -1.03993165, 0.3326647675, 0.4335929268, 0.5433820684,
        0.6438337249,
    ];

    [Theory]
    [InlineData(DType.Float64, 1e-9)]
    [InlineData(DType.Float32, 1e-5)]
    public void BatchNorm_TrainingThenEval_MatchesPyTorch(DType dtype, double tol)
    {
        Tensor x = ConvReference.Seq([4, 3, 2, 2], 0.41, 0.2, 3, dtype);
        Tensor w = ConvReference.Seq([3], 1.3, 0.4, 1, dtype), b = ConvReference.Seq([3], 0.8, 1.0, 1, dtype);
        Tensor rm = T.F64([0.1, -0.2, 0.3], 3).To(dtype), rv = T.F64([1.5, 0.5, 2.0], 3).To(dtype);
        int version = rm.Storage.Version;
        T.Close(BatchNormTrain, Functional.BatchNorm(x, rm, rv, w, b, training: true, momentum: 0.2, eps: 1e-5), tol);
        T.Close([-0.001271141811, -0.1256075092, 0.316514767], rm, tol);
        T.Close([2.036829164, 1.430942001, 2.463696624], rv, tol);
        Assert.True(rm.Storage.Version > version); // in-place update is visible to autograd's version check
        T.Close(BatchNormEval, Functional.BatchNorm(x, rm, rv, w, b, training: false, eps: 1e-3), tol);
        T.Close([-0.001271141811, -0.1256075092, 0.316514767], rm, tol); // eval leaves the running stats alone
    }

    [Fact]
    public void BatchNorm_2d_NoAffine_MatchesPyTorch()
    {
        // x = seq([5,3], 0.41, 0.2, 3); rm = zeros(3), rv = ones(3); F.batch_norm(x, rm, rv, None, None, training=True)
        Tensor x = ConvReference.Seq([5, 3], 0.41, 0.2, 3);
        Tensor rm = Tensor.Zeros([3], DType.Float64), rv = Tensor.Ones([3], DType.Float64);
        T.Close([0.263767164, 0.7967896594, 1.202821331, 1.374253255, 1.342355657, 1.099245852, 0.6349256841, 0.09747750784,
                 -0.4537372082, -0.9697827403, -1.280258976, -1.388292786, -1.303163363, -0.9563638484, -0.4600371895],
            Functional.BatchNorm(x, rm, rv, training: true), 1e-9);
        T.Close([0.003205326737, 0.000495004726, -0.002297368454], rm, 1e-9);
        T.Close([1.47142085, 1.47818541, 1.474790768], rv, 1e-9);
    }

    public static TheoryData<int[]> BatchShapes => new() { { [5, 3] }, { [4, 3, 2, 2] }, { [2, 2, 3] }, { [3, 2, 1, 2, 2] } };

    [Theory]
    [MemberData(nameof(BatchShapes))]
    public void BatchNorm_Training_GradCheck(int[] shape)
    {
        int c = shape[1];
        GradCheck.Verify(v => Functional.BatchNorm(v[0], null, null, v[1], v[2], training: true), [T.Param(1, shape), T.Param(2, c), T.Param(3, c)]);
        GradCheck.Verify(v => Functional.BatchNorm(v[0], null, null, training: true), [T.Param(4, shape)]);
        GradCheck.VerifySecondOrder(v => Functional.BatchNorm(v[0], null, null, v[1], v[2], training: true), [T.Param(1, shape), T.Param(2, c), T.Param(3, c)]);
    }

    [Theory]
    [MemberData(nameof(BatchShapes))]
    public void BatchNorm_Eval_GradCheck(int[] shape)
    {
        int c = shape[1];
        Tensor rm = Tensor.Randn([c], DType.Float64, new Generator(5));
        Tensor rv = Tensor.Uniform([c], 0.5, 2, DType.Float64, new Generator(6));
        GradCheck.Verify(v => Functional.BatchNorm(v[0], rm, rv, v[1], v[2]), [T.Param(1, shape), T.Param(2, c), T.Param(3, c)]);
        GradCheck.VerifySecondOrder(v => Functional.BatchNorm(v[0] * v[0], rm, rv, v[1], v[2]), [T.Param(1, shape), T.Param(2, c), T.Param(3, c)]);
    }

    [Fact]
    public void BatchNorm_Training_UpdatesRunningStatsWhileRecording()
    {
        Tensor x = T.Param(1, 4, 2, 3), w = T.Param(2, 2);
        Tensor rm = Tensor.Zeros([2], DType.Float64), rv = Tensor.Ones([2], DType.Float64);
        Functional.BatchNorm(x, rm, rv, w, null, training: true).Sum().Backward();
        Assert.NotNull(x.Grad);
        Assert.NotEqual(0, rm.ToDoubleArray()[0]);
    }

    [Fact]
    public void BatchNorm_Errors()
    {
        var one = Assert.Throws<ArgumentException>(() => Functional.BatchNorm(Tensor.Zeros([1, 3]), null, null, training: true));
        Assert.Contains("more than 1 value per channel", one.Message);
        Assert.Contains("[1, 3]", one.Message);
        var eval = Assert.Throws<ArgumentException>(() => Functional.BatchNorm(Tensor.Zeros([2, 3]), null, null));
        Assert.Contains("runningMean", eval.Message);
        var channels = Assert.Throws<ArgumentException>(() => Functional.BatchNorm(Tensor.Zeros([2, 3, 4]), Tensor.Zeros([4]), Tensor.Ones([4])));
        Assert.Contains("BatchNorm", channels.Message);
        Assert.Contains("[2, 3, 4]", channels.Message);
        Assert.Contains("[4]", channels.Message);
        var rank = Assert.Throws<ArgumentException>(() => Functional.BatchNorm(Tensor.Zeros([3]), null, null, training: true));
        Assert.Contains("[3]", rank.Message);
        var dtype = Assert.Throws<ArgumentException>(() => Functional.BatchNorm(Tensor.Zeros([2, 3], DType.Int64), null, null, training: true));
        Assert.Contains("int64", dtype.Message);
    }

    /// <summary>Gradients from the fused kernel (plain backward) and from the recorded tensor-op backward (createGraph) agree.</summary>
    private static void AssertFusedMatchesRecorded(Func<Tensor[], Tensor> f, Tensor[] inputs)
    {
        Tensor dy = Tensor.Randn(f(inputs).Shape, DType.Float64, new Generator(99));
        Tensor?[] fused = Gradients.Grad([f(inputs)], inputs, [dy]);
        Tensor?[] recorded = Gradients.Grad([f(inputs)], inputs, [dy], createGraph: true);
        for (int i = 0; i < inputs.Length; i++)
            T.Close(recorded[i]!.ToDoubleArray(), fused[i]!, 1e-10);
    }

    [Fact]
    public void FusedBackward_MatchesRecordedBackward()
    {
        AssertFusedMatchesRecorded(v => Functional.LayerNorm(v[0], [3, 4], v[1], v[2]), [T.Param(1, 2, 3, 4), T.Param(2, 3, 4), T.Param(3, 3, 4)]);
        AssertFusedMatchesRecorded(v => Functional.LayerNorm(v[0], [5]), [T.Param(1, 3, 5)]);
        foreach (bool training in new[] { true, false })
        {
            Tensor rm = Tensor.Randn([3], DType.Float64, new Generator(5));
            Tensor rv = Tensor.Uniform([3], 0.5, 2, DType.Float64, new Generator(6));
            AssertFusedMatchesRecorded(v => Functional.BatchNorm(v[0], training ? null : rm, training ? null : rv, v[1], v[2], training),
                [T.Param(1, 4, 3, 2, 2), T.Param(2, 3), T.Param(3, 3)]);
            AssertFusedMatchesRecorded(v => Functional.BatchNorm(v[0], training ? null : rm, training ? null : rv, v[1], null, training),
                [T.Param(1, 6, 3), T.Param(2, 3)]);
            AssertFusedMatchesRecorded(v => Functional.BatchNorm(v[0], training ? null : rm, training ? null : rv, null, null, training),
                [T.Param(1, 2, 3, 5)]);
        }
    }
}
