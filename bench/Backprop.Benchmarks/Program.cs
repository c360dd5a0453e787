using BenchmarkDotNet.Running;

namespace Backprop.Benchmarks;

/// <summary>Entry point: BenchmarkDotNet's switcher, so --filter, --job, --list work as documented in bench/README.md.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
