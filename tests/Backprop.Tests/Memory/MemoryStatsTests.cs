using Backprop.Memory;
using Backprop.NN;
using Backprop.Tensors;

namespace Backprop.Tests.Memory;

/// <summary>
/// <see cref="MemoryStats"/> counts the bytes the thread's scopes own: up when a scope takes a buffer, down
/// when it is recycled, escapes into a parameter or .Grad, or is kept past the outermost scope. Per thread,
/// so these tests may run beside others.
/// </summary>
public class MemoryStatsTests
{
    [Fact]
    public void CountsScopeOwnedBuffers_FromMakingToRecycling()
    {
        long start = MemoryStats.ScopedBytes;
        using (TensorScope.Begin())
        {
            Tensor a = Tensor.Zeros([2048]);                    // float32: 8 KiB
            Assert.Equal(start + 8192, MemoryStats.ScopedBytes);
            Tensor b = Tensor.Zeros([1024], DType.Float64);     // 8 KiB
            Tensor small = Tensor.Zeros([1023]);                // under the pooling threshold: not counted
            Tensor view = a.Reshape(32, 64);                    // shares a's storage: nothing new
            Assert.Equal(start + 16384, MemoryStats.ScopedBytes);
            GC.KeepAlive((b, small, view));
        }
        Assert.Equal(start, MemoryStats.ScopedBytes);
    }

    [Fact]
    public void EscapedAndKeptBuffers_LeaveTheCount_PeakRemembersTheMost()
    {
        long start = MemoryStats.ScopedBytes;
        Tensor kept;
        var p = new Parameter(Tensor.Zeros([4096]));
        using (var outer = TensorScope.Begin())
        {
            MemoryStats.ResetPeak();
            using (var inner = TensorScope.Begin())
            {
                Tensor t = Tensor.Zeros([4096]);
                inner.Keep(t);                                  // moves to the outer scope: still counted
                Assert.Equal(start + 16384, MemoryStats.ScopedBytes);
                Tensor dead = Tensor.Zeros([8192]);             // 32 KiB, recycled with the inner scope
                GC.KeepAlive(dead);
            }
            Assert.Equal(start + 16384, MemoryStats.ScopedBytes);
            Assert.Equal(start + 16384 + 32768, MemoryStats.PeakScopedBytes);
            kept = outer.Keep(Tensor.Zeros([4096]) + 1.0);   // the sum is made in the outer scope; kept past the last one
            p.Data.Grad = Tensor.Zeros([4096]);                 // stored as .Grad: escapes
            Assert.Equal(start + 2 * 16384, MemoryStats.ScopedBytes); // t and the Zeros operand of the sum
            MemoryStats.ResetPeak();
            Assert.Equal(MemoryStats.ScopedBytes, MemoryStats.PeakScopedBytes);
        }
        Assert.Equal(start, MemoryStats.ScopedBytes);
        Assert.Equal(1.0, kept[0]);
    }
}
