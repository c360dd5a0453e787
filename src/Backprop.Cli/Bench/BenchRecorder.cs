using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Backprop.Cli.Bench;

/// <summary>Writes benchmark records as JSON lines in the peers' format (../shared/peers/WORKLOADS.md).</summary>
internal sealed class BenchRecorder(TextWriter output, int threads)
{
    public const string Peer = "backprop";

    /// <summary>How this program's code was compiled: "jit" (tiered JIT, PGO) or "nativeaot" (ahead of time).</summary>
    public static string Build => RuntimeFeature.IsDynamicCodeCompiled ? "jit" : "nativeaot";

    public void Emit(string workload, string metric, double value, string unit, int? threadsOverride = null, params (string Key, object Value)[] details)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("peer", Peer);
            w.WriteString("workload", workload);
            w.WriteString("metric", metric);
            w.WriteNumber("value", value);
            w.WriteString("unit", unit);
            w.WriteNumber("threads", threadsOverride ?? threads);
            w.WriteString("dotnet", Environment.Version.ToString());
            w.WriteString("build", Build);
            w.WriteString("simd", Backprop.Kernels.VectorWidth.Name); // the widest vector width the kernels ran at
            foreach (var (key, v) in details)
            {
                switch (v)
                {
                    case int i: w.WriteNumber(key, i); break;
                    case long l: w.WriteNumber(key, l); break;
                    case double d: w.WriteNumber(key, d); break;
                    case string s: w.WriteString(key, s); break;
                    case bool b: w.WriteBoolean(key, b); break;
                    default: w.WriteString(key, v.ToString()); break;
                }
            }
            w.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        output.Flush();
    }

    /// <summary>VmHWM of this process in MiB (the peak resident set size).</summary>
    public static double PeakRssMiB()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }
}
