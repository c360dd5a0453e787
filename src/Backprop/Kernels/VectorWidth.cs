using System.Globalization;
using Backprop.Kernels.Elementwise;

namespace Backprop.Kernels;

/// <summary>
/// The SIMD width the library's kernels run at on this machine: the widest vector the runtime accelerates
/// (512-bit with AVX-512, 256-bit with AVX2 and FMA, 128-bit on ARM64, WebAssembly and SSE-only x86), fixed
/// for the life of the process. Benchmarks report it; an application may log it.
/// </summary>
/// <remarks>
/// The runtime's switches narrow it: <c>DOTNET_EnableAVX512=0</c> gives 256, <c>DOTNET_EnableAVX=0</c> 128 and
/// <c>DOTNET_EnableHWIntrinsic=0</c> the scalar paths (0).
/// </remarks>
public static class VectorWidth
{
    /// <summary>Bits per vector: 512, 256, 128, or 0 when every kernel runs its scalar path.</summary>
    public static int Bits => SimdWidths.Widest;

    /// <summary>"512", "256", "128" or "scalar".</summary>
    public static string Name => Bits == 0 ? "scalar" : Bits.ToString(CultureInfo.InvariantCulture);
}
