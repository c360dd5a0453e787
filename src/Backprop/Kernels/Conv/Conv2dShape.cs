namespace Backprop.Kernels.Conv;

/// <summary>
/// Sizes of a batched, grouped 2-D convolution: input x [N, C, H, W], weight w [OutC, C/Groups, KH, KW],
/// output y [N, OutC, OH, OW], with H, W, the kernel, stride, padding, dilation, OH and OW in <see cref="Window"/>.
/// </summary>
internal readonly record struct Conv2dShape(int N, int C, int OutC, int Groups, Window2d Window)
{
    /// <summary>Elements of x: N·C·H·W.</summary>
    public long InputLength => (long)N * C * Window.H * Window.W;

    /// <summary>Elements of w: OutC·(C/Groups)·KH·KW.</summary>
    public long WeightLength => (long)OutC * (C / Groups) * Window.KH * Window.KW;

    /// <summary>Elements of y: N·OutC·OH·OW.</summary>
    public long OutputLength => (long)N * OutC * Window.OH * Window.OW;

    /// <summary>Elements of y after a 2×2 max pool: N·OutC·⌊OH/2⌋·⌊OW/2⌋.</summary>
    public long PooledLength => (long)N * OutC * (Window.OH / 2) * (Window.OW / 2);

    /// <summary>
    /// 1×1 window, stride 1, no padding, output planes the size of the input's: the input already is the
    /// column matrix. (The last condition only fails for a transposed convolution's adjoint window, whose
    /// output size is given rather than computed.)
    /// </summary>
    public bool IsPointwise => Window is { KH: 1, KW: 1, SH: 1, SW: 1, PH: 0, PW: 0 } && Window.OH == Window.H && Window.OW == Window.W;
}
