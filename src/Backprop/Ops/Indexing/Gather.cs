using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Indexing;
using Backprop.Ops.View;
using Backprop.Tensors;

namespace Backprop.Ops.Indexing;

/// <summary>y[p] = x[p with coordinate dim replaced by index[p]]; y has the index's shape.</summary>
internal sealed class GatherNode : Node
{
    private readonly Shape _inputShape;
    private readonly int _dim;
    private readonly SavedTensor _index;

    private GatherNode(Tensor x, int dim, Tensor index) : base(x)
    {
        _inputShape = x.Shape;
        _dim = dim;
        _index = Save(index);
    }

    public static Tensor Forward(Tensor x, int dim, Tensor index)
    {
        const string op = "Gather";
        IndexCheck.Int64(index, op);
        int d = x.Shape.NormalizeDim(dim, op);
        if (index.Rank != x.Rank)
            throw new ArgumentException($"{op}: index shape {index.Shape} must have the same number of dimensions as input shape {x.Shape}");
        for (int k = 0; k < x.Rank; k++)
            if (k != d && index.Shape[k] > x.Shape[k])
                throw new ArgumentException($"{op}: index shape {index.Shape} is larger than input shape {x.Shape} in dimension {k} (only dimension {dim} may be larger)");
        int size = x.Rank == 0 ? 1 : x.Shape[d];
        ReadOnlySpan<long> idx = IndexCheck.InRange(index, size, dim, x.Shape, op);

        var y = new Tensor(index.Shape, x.DType);
        ReadOnlySpan<int> indexShape = x.Rank == 0 ? [1] : index.Shape.Dims;
        ReadOnlySpan<int> strides = x.Rank == 0 ? [0] : x.Strides;
        DTypeSwitch.Element(x.DType, new GatherKernel(x, strides, idx, indexShape, d, y));
        if (GradMode.Records(x)) y.SetGradFn(new GatherNode(x, d, index));
        return y;
    }

    private readonly ref struct GatherKernel(Tensor x, ReadOnlySpan<int> strides, ReadOnlySpan<long> idx, ReadOnlySpan<int> indexShape, int dim, Tensor y)
        : IElementAction
    {
        private readonly ReadOnlySpan<int> _strides = strides, _indexShape = indexShape;
        private readonly ReadOnlySpan<long> _idx = idx;

        public void Run<T>() where T : unmanaged
            => IndexKernels.Gather(x.Data<T>(), x.Offset, _strides, _idx, _indexShape, dim, y.Elements<T>());
    }

    // dx[q] = Σ over p with (p, dim ← index[p]) = q of dy[p]: scatter-add dy into zeros (repeated indices add up).
    protected internal override Tensor?[] Backward(Tensor dy)
        => [ScatterAddNode.Forward(new Tensor(_inputShape, dy.DType), _dim, _index.Value, dy)];
}

/// <summary>
/// Out-of-place scatter-add: y = copy of self, then y[p with coordinate dim replaced by index[p]] += src[p]
/// for every position p of index.
/// </summary>
internal sealed class ScatterAddNode : Node
{
    private readonly int _dim;
    private readonly Shape _srcShape;
    private readonly SavedTensor? _index;

    private ScatterAddNode(Tensor self, Tensor src, int dim, Tensor index) : base(self, src)
    {
        _dim = dim;
        _srcShape = src.Shape;
        if (NeedsInputGrad(1)) _index = Save(index);
    }

    public static Tensor Forward(Tensor self, int dim, Tensor index, Tensor src)
    {
        const string op = "ScatterAdd";
        IndexCheck.Int64(index, op);
        Tensor.CheckSameDType(self, src, op);
        int d = self.Shape.NormalizeDim(dim, op);
        if (index.Rank != self.Rank || src.Rank != self.Rank)
            throw new ArgumentException($"{op}: self shape {self.Shape}, index shape {index.Shape} and src shape {src.Shape} must have the same number of dimensions");
        for (int k = 0; k < self.Rank; k++)
        {
            if (index.Shape[k] > src.Shape[k])
                throw new ArgumentException($"{op}: index shape {index.Shape} is larger than src shape {src.Shape} in dimension {k}");
            if (k != d && index.Shape[k] > self.Shape[k])
                throw new ArgumentException($"{op}: index shape {index.Shape} is larger than self shape {self.Shape} in dimension {k} (only dimension {dim} may be larger)");
        }
        int size = self.Rank == 0 ? 1 : self.Shape[d];
        ReadOnlySpan<long> idx = IndexCheck.InRange(index, size, dim, self.Shape, op);

        Tensor y;
        using (GradMode.Disable()) y = self.Clone();
        DTypeSwitch.Number(self.DType, new ScatterAddKernel(idx, index, d, src, y));
        if (GradMode.Records(self, src)) y.SetGradFn(new ScatterAddNode(self, src, d, index));
        return y;
    }

    private readonly ref struct ScatterAddKernel(ReadOnlySpan<long> idx, Tensor index, int dim, Tensor src, Tensor y) : INumberAction
    {
        private readonly ReadOnlySpan<long> _idx = idx;

        public void Run<T>() where T : unmanaged, INumber<T>
        {
            bool scalar = y.Rank == 0;
            IndexKernels.ScatterAdd(_idx, scalar ? [1] : index.Shape.Dims, dim,
                src.Data<T>(), src.Offset, scalar ? [0] : src.Strides,
                y.Elements<T>(), scalar ? [0] : y.Strides);
        }
    }

    // dy/dself = identity; dy/dsrc[p] = dy[p with dim ← index[p]] = gather(dy) (zero where src is beyond the index).
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor? dsrc = null;
        if (_index is not null)
        {
            Tensor index = _index.Value;
            dsrc = GatherNode.Forward(dy, _dim, index);
            if (index.Shape != _srcShape)
            {
                int[] dims = index.Shape.ToArray();
                for (int k = 0; k < dims.Length; k++)
                {
                    if (dims[k] == _srcShape[k]) continue;
                    dims[k] = _srcShape[k];
                    dsrc = SlicePadNode.Forward(dsrc, new Shape(dims), k, 0, 1);
                }
            }
        }
        return [NeedsInputGrad(0) ? dy : null, dsrc];
    }
}
