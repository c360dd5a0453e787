using BenchmarkDotNet.Attributes;
using Backprop.Kernels.Gemm;
using Backprop.Tensors;
using Backprop.Threading;

namespace Backprop.Benchmarks.Kernels;

/// <summary>
/// The packed GEMM kernel on float32 row-major buffers, C = op(A)·op(B) with beta = 0. Shapes: square
/// products and the MLP's first layer (batch 128, 784 → 512) forward and its two backward products.
/// </summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    /// <summary>One product: name, M, N, K and which operands are transposed.</summary>
    public sealed record Shape(string Name, int M, int N, int K, bool TransA, bool TransB)
    {
        public override string ToString() => Name;
    }

    public static IEnumerable<Shape> Shapes =>
    [
        new("256³", 256, 256, 256, false, false),
        new("512³", 512, 512, 512, false, false),
        new("1024³", 1024, 1024, 1024, false, false),
        new("mlp-fwd", 128, 512, 784, false, true),  // x·Wᵀ: [128, 784]·[512, 784]ᵀ
        new("mlp-dx", 128, 784, 512, false, false),  // dy·W: [128, 512]·[512, 784]
        new("mlp-dW", 512, 784, 128, true, false),   // dyᵀ·x: [128, 512]ᵀ·[128, 784]
    ];

    [ParamsSource(nameof(Shapes))]
    public Shape S { get; set; } = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    private float[] _a = [], _b = [], _c = [];

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.ThreadCount = Threads;
        var rng = new Random(0);
        _a = Fill(rng, S.M * S.K);
        _b = Fill(rng, S.K * S.N);
        _c = new float[S.M * S.N];
    }

    [Benchmark]
    public void Multiply()
    {
        int lda = S.TransA ? S.M : S.K, ldb = S.TransB ? S.K : S.N;
        GemmKernel.Multiply(S.TransA, S.TransB, S.M, S.N, S.K, 1f, _a, lda, _b, ldb, 0f, _c, S.N);
    }

    internal static float[] Fill(Random rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}

/// <summary>The tensor-level product the gemm workload times: a fresh C per call, allocation included.</summary>
[MemoryDiagnoser]
public class MatMulBenchmarks
{
    [Params(256, 1024)]
    public int N { get; set; }

    private Tensor _a = null!, _b = null!;

    [GlobalSetup]
    public void Setup()
    {
        var g = new Generator(0);
        _a = Tensor.Uniform([N, N], -1, 1, generator: g);
        _b = Tensor.Uniform([N, N], -1, 1, generator: g);
    }

    [Benchmark]
    public Tensor MatMul() => _a.MatMul(_b);
}
