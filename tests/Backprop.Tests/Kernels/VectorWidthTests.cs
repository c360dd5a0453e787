using System.Runtime.Intrinsics.X86;
using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

/// <summary>
/// The width the kernels run at follows the runtime's switches, so each re-run of the kernel tests in run-tests
/// (SIMD off, AVX-512 off, AVX off) really exercises the paths it is meant to. A switch the runtime ignores
/// (.NET 10 ignores DOTNET_EnableAVX512F; it reads DOTNET_EnableAVX512) fails here instead of silently re-running
/// the widest paths.
/// </summary>
[Trait("Category", "Kernels")]
public class VectorWidthTests
{
    private static bool Off(string knob) => Environment.GetEnvironmentVariable("DOTNET_" + knob) == "0";

    [Fact]
    public void Width_FollowsTheRuntimeSwitches()
    {
        int bits = VectorWidth.Bits;
        Assert.Equal(bits == 0 ? "scalar" : bits.ToString(), VectorWidth.Name);
        if (Off("EnableHWIntrinsic"))
            Assert.Equal(0, bits);
        else if (Off("EnableAVX"))
            Assert.Equal(128, bits);
        else if (Off("EnableAVX512") || Off("EnableAVX512F"))
            Assert.Equal(Avx2.IsSupported && Fma.IsSupported ? 256 : 128, bits);
        else if (Avx512F.IsSupported)
            Assert.Equal(512, bits);
        else
            Assert.InRange(bits, 128, 256); // every 64-bit x86 and ARM64 CPU has 128-bit vectors
    }
}
