using System.Numerics;
using Backprop.Memory;
using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// The keys and values one attention layer has seen, for incremental decoding: pass it to
/// <see cref="MultiheadAttention.Forward(Tensor, KeyValueCache?)"/> or
/// <see cref="TransformerBlock.Forward(Tensor, KeyValueCache?)"/> with only the new positions, and their
/// keys and values are appended while the queries attend causally over every cached position, so each
/// new token costs one step instead of a re-run of the context. A model with several layers keeps one
/// cache per layer (<see cref="ForLayers"/>). The buffers, [batch, heads, capacity, headDim] each, are
/// allocated by the first append and reused after <see cref="Reset"/>; an append allocates nothing.
/// Inference only: a forward with a cache refuses to run while gradients are recorded.
/// </summary>
public sealed class KeyValueCache
{
    private Tensor? _keys, _values;

    /// <summary>A cache for up to <paramref name="capacity"/> positions (the model's maximum context).</summary>
    /// <exception cref="ArgumentOutOfRangeException">capacity is not positive.</exception>
    public KeyValueCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
    }

    /// <summary>One cache per layer, each for up to <paramref name="capacity"/> positions.</summary>
    public static KeyValueCache[] ForLayers(int layers, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layers);
        var caches = new KeyValueCache[layers];
        for (int i = 0; i < layers; i++) caches[i] = new KeyValueCache(capacity);
        return caches;
    }

    /// <summary>Most positions the cache holds.</summary>
    public int Capacity { get; }

    /// <summary>Positions cached so far (the absolute position of the next one).</summary>
    public int Length { get; private set; }

    /// <summary>Forgets every position (keeps the buffers for the next sequence).</summary>
    public void Reset() => Length = 0;

    /// <summary>
    /// Appends the keys and values of new positions, <paramref name="keys"/> [B, H, n, D] and
    /// <paramref name="values"/> [B, H, n, Dv] (any strides), and returns views of all cached ones,
    /// [B, H, Length, ·].
    /// </summary>
    /// <exception cref="InvalidOperationException">The cache would exceed its capacity, or its batch, heads or head size differ from what it holds.</exception>
    internal (Tensor Keys, Tensor Values) Append(Tensor keys, Tensor values)
    {
        int b = keys.Shape[0], h = keys.Shape[1], n = keys.Shape[2];
        if (Length + n > Capacity)
            throw new InvalidOperationException(
                $"KeyValueCache: {n} new positions after the {Length} cached exceed its capacity of {Capacity}; Reset() it (or crop the context) first");
        if (_keys is null || _values is null || Length == 0 && !Fits(keys, values))
        {
            _keys = Ownership.Escape(Tensor.Zeros(new Shape(b, h, Capacity, keys.Shape[3]), keys.DType));
            _values = Ownership.Escape(Tensor.Zeros(new Shape(b, h, Capacity, values.Shape[3]), values.DType));
        }
        else if (!Fits(keys, values))
            throw new InvalidOperationException(
                $"KeyValueCache: new keys {keys.Shape} and values {values.Shape} do not fit the cached [{_keys.Shape[0]}, {_keys.Shape[1]}, {Length}, {_keys.Shape[3]}] " +
                $"and [{_values.Shape[0]}, {_values.Shape[1]}, {Length}, {_values.Shape[3]}] {_keys.DType.Name()}; Reset() the cache for a new sequence");
        DTypeSwitch.Float(keys.DType, new AppendRows(keys, _keys, Length));
        DTypeSwitch.Float(values.DType, new AppendRows(values, _values, Length));
        Length += n;
        _keys.BumpVersion();
        _values.BumpVersion();
        return (_keys.Narrow(2, 0, Length), _values.Narrow(2, 0, Length));
    }

    private bool Fits(Tensor keys, Tensor values)
        => _keys is not null && _values is not null && keys.DType == _keys.DType && values.DType == _values.DType
           && keys.Shape[0] == _keys.Shape[0] && keys.Shape[1] == _keys.Shape[1] && keys.Shape[3] == _keys.Shape[3]
           && values.Shape[0] == _values.Shape[0] && values.Shape[1] == _values.Shape[1] && values.Shape[3] == _values.Shape[3];

    /// <summary>cache[b, h, at + t, :] = source[b, h, t, :] row by row (the source's rows are contiguous).</summary>
    private readonly struct AppendRows(Tensor source, Tensor cache, int at) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            T[] src = source.Data<T>(), dst = cache.Data<T>();
            int b = source.Shape[0], h = source.Shape[1], n = source.Shape[2], d = source.Shape[3], capacity = cache.Shape[2];
            ReadOnlySpan<int> st = source.Strides;
            for (int i = 0; i < b; i++)
                for (int j = 0; j < h; j++)
                    for (int t = 0; t < n; t++)
                    {
                        int from = source.Offset + i * st[0] + j * st[1] + t * st[2];
                        int to = ((i * h + j) * capacity + at + t) * d;
                        if (d <= 1 || st[3] == 1) src.AsSpan(from, d).CopyTo(dst.AsSpan(to, d));
                        else for (int c = 0; c < d; c++) dst[to + c] = src[from + c * st[3]];
                    }
        }
    }
}
