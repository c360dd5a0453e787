namespace Backprop.Tensors;

/// <summary>
/// A seeded pseudo-random generator (xoshiro256**) whose whole state can be saved and restored,
/// so runs are reproducible and resumable bit for bit.
/// </summary>
public sealed class Generator
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spareNormal;
    private bool _hasSpare;

    /// <summary>The process-wide generator used when no generator is passed.</summary>
    public static Generator Default { get; } = new(0);

    /// <summary>
    /// <paramref name="generator"/>, or <see cref="Default"/> when null: how the library's random ops
    /// pick their generator, which lets a gradient checkpoint record and replay their draws
    /// (see <see cref="GeneratorStates"/>).
    /// </summary>
    internal static Generator Use(Generator? generator)
    {
        Generator g = generator ?? Default;
        GeneratorStates.Touch(g);
        return g;
    }

    /// <summary>Creates a generator from a seed.</summary>
    public Generator(ulong seed) => Seed(seed);

    /// <summary>Resets the state from a seed (SplitMix64 expansion).</summary>
    public void Seed(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
        _hasSpare = false;
        _spareNormal = 0;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform float in [0, 1) with 24 random bits.</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform integer in [0, n).</summary>
    public long NextInt64(long n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        return (long)(NextDouble() * n) is var v && v < n ? v : n - 1;
    }

    /// <summary>Standard normal sample (Box–Muller, the second value of each pair is kept).</summary>
    public double NextNormal()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spareNormal;
        }
        double u1 = 1.0 - NextDouble(); // (0, 1], so log is finite
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        _hasSpare = true;
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>The full state, for checkpoints.</summary>
    public ulong[] GetState() => [_s0, _s1, _s2, _s3, _hasSpare ? 1UL : 0UL, BitConverter.DoubleToUInt64Bits(_spareNormal)];

    /// <summary>Restores a state produced by <see cref="GetState"/>; a refused state leaves the generator unchanged.</summary>
    /// <exception cref="ArgumentException">The state is not one <see cref="GetState"/> can produce (see <see cref="StateProblem"/>).</exception>
    public void SetState(ReadOnlySpan<ulong> state)
    {
        if (StateProblem(state) is string problem)
            throw new ArgumentException($"Generator.SetState: {problem}");
        (_s0, _s1, _s2, _s3) = (state[0], state[1], state[2], state[3]);
        _hasSpare = state[4] != 0;
        _spareNormal = BitConverter.UInt64BitsToDouble(state[5]);
    }

    /// <summary>
    /// Why <paramref name="state"/> is not a state <see cref="GetState"/> can produce, or null when it is one:
    /// it needs 6 words, xoshiro words that are not all zero (that state only ever yields zeros), a spare
    /// flag of 0 or 1, and a finite spare normal when the flag is set.
    /// </summary>
    public static string? StateProblem(ReadOnlySpan<ulong> state)
    {
        if (state.Length != 6)
            return $"expected 6 state words, got {state.Length}";
        if ((state[0] | state[1] | state[2] | state[3]) == 0)
            return "the four xoshiro256** words are all zero, a state no seed produces (the generator would return only zeros)";
        if (state[4] > 1)
            return $"word 4 (has a spare normal) must be 0 or 1, got {state[4]}";
        if (state[4] == 1 && !double.IsFinite(BitConverter.UInt64BitsToDouble(state[5])))
            return $"word 5 (the spare normal) must be a finite double, got {BitConverter.UInt64BitsToDouble(state[5])}";
        return null;
    }
}
