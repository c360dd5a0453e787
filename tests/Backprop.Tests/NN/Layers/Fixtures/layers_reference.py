#!/usr/bin/python3
# Generates LayersReferenceValues.cs: outputs and gradients of the layers and losses added for issue #12
# (Conv1d, "same" padding, padding modes, ConvTranspose2d, adaptive pooling, GroupNorm, RMSNorm, L1, smooth L1,
# Huber, KL divergence, BCE) in float64, from Debian's python3-torch (1.13):
#   /usr/bin/python3 tests/Backprop.Tests/NN/Layers/Fixtures/layers_reference.py > tests/Backprop.Tests/NN/Layers/Fixtures/LayersReferenceValues.cs
# Every tensor is filled as Tests/Support/SineFill does: element k (row-major) of a tensor with seed s is
# 0.5*sin(0.37*(k + 1) + s). Inputs have seed 1 (targets 2), parameters seed 10 + i (named_parameters order),
# and gradients come from backward(gradient = fill(99, *y.shape)) for a tensor output, or backward() of the
# loss times 1.0 for a scalar one. torch 1.13 has no RMSNorm: its values are torch 2.x's formula
# x * rsqrt(mean(x^2, normalized dims) + eps) * weight with eps = finfo(float64).eps by default.
import math
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def fill(seed, *shape):
    n = 1
    for d in shape:
        n *= d
    return torch.tensor([0.5 * math.sin(0.37 * (k + 1) + seed) for k in range(n)]).reshape(*shape)


def fill_parameters(module):
    with torch.no_grad():
        for i, (_, p) in enumerate(module.named_parameters()):
            p.copy_(fill(10.0 + i, *p.shape))


def leaf(t):
    return t.clone().requires_grad_()


def flat(t):
    return t.detach().reshape(-1).tolist()


entries = []


def emit(key, values):
    entries.append((key, values))


def run(key, f, *inputs, names=None):
    """Emits f(*inputs) (key/y) and the gradient of every input (key/grad/<name>)."""
    xs = [leaf(x) for x in inputs]
    y = f(*xs)
    emit(key + "/y", flat(y))
    if y.dim() == 0:
        y.backward()
    else:
        y.backward(fill(99, *y.shape))
    for i, x in enumerate(xs):
        emit(key + "/grad/" + (names[i] if names else str(i)), flat(x.grad))


def run_module(key, m, x):
    fill_parameters(m)
    xl = leaf(x)
    y = m(xl)
    emit(key + "/y", flat(y))
    y.backward(fill(99, *y.shape))
    emit(key + "/grad/input", flat(xl.grad))
    for name, p in m.named_parameters():
        emit(key + "/grad/" + name, flat(p.grad))


# ---- convolutions ----
run("conv1d/basic", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, groups=2),
    fill(1, 2, 4, 9), fill(10, 6, 2, 3), fill(11, 6), names=["input", "weight", "bias"])
run("conv1d/dilated", lambda x, w: F.conv1d(x, w, None, padding=2, dilation=2),
    fill(1, 1, 3, 10), fill(10, 2, 3, 4), names=["input", "weight"])
run("conv1d/same_even", lambda x, w, b: F.conv1d(x, w, b, padding="same"),
    fill(1, 2, 2, 7), fill(10, 3, 2, 4), fill(11, 3), names=["input", "weight", "bias"])
run("conv1d/same_dilated", lambda x, w: F.conv1d(x, w, None, padding="same", dilation=3),
    fill(1, 2, 2, 8), fill(10, 3, 2, 3), names=["input", "weight"])
run("conv2d/same_even", lambda x, w, b: F.conv2d(x, w, b, padding="same"),
    fill(1, 1, 2, 5, 6), fill(10, 3, 2, 4, 3), fill(11, 3), names=["input", "weight", "bias"])
run("conv2d/same_dilated", lambda x, w: F.conv2d(x, w, None, padding="same", dilation=(2, 1)),
    fill(1, 2, 2, 5, 4), fill(10, 2, 2, 2, 2), names=["input", "weight"])

run_module("conv2d/reflect", torch.nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode="reflect"), fill(1, 2, 2, 5, 6))
run_module("conv2d/replicate", torch.nn.Conv2d(2, 3, 3, stride=2, padding=(2, 1), padding_mode="replicate"), fill(1, 2, 2, 5, 6))
run_module("conv2d/circular", torch.nn.Conv2d(2, 3, (2, 3), padding=(1, 2), padding_mode="circular"), fill(1, 1, 2, 4, 5))
run_module("conv2d/reflect_same", torch.nn.Conv2d(2, 3, (4, 3), padding="same", padding_mode="reflect"), fill(1, 1, 2, 5, 6))
run_module("conv1d/circular", torch.nn.Conv1d(2, 3, 3, padding=2, padding_mode="circular"), fill(1, 2, 2, 7))
run_module("conv1d/replicate_same", torch.nn.Conv1d(2, 4, 4, padding="same", padding_mode="replicate", groups=2), fill(1, 2, 2, 6))

run("convt/basic", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
    fill(1, 2, 4, 3, 4), fill(10, 4, 3, 3, 3), fill(11, 3), names=["input", "weight", "bias"])
run("convt/groups", lambda x, w: F.conv_transpose2d(x, w, None, stride=(1, 2), padding=(0, 1), output_padding=(0, 1), groups=2, dilation=(2, 1)),
    fill(1, 1, 4, 4, 3), fill(10, 4, 2, 2, 3), names=["input", "weight"])
run("convt/dilation_outpad", lambda x, w, b: F.conv_transpose2d(x, w, b, output_padding=1, dilation=2),
    fill(1, 1, 2, 3, 3), fill(10, 2, 2, 3, 3), fill(11, 2), names=["input", "weight", "bias"])
run("convt/pointwise", lambda x, w, b: F.conv_transpose2d(x, w, b),
    fill(1, 2, 3, 4, 4), fill(10, 3, 5, 1, 1), fill(11, 5), names=["input", "weight", "bias"])
m = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
fill_parameters(m)
xt = leaf(fill(1, 1, 2, 4, 4))
yt = m(xt, output_size=[8, 7])
emit("convt/output_size/y", flat(yt))
emit("convt/output_size/shape", list(yt.shape))

# ---- pooling ----
run("adaptive_avg/5x7_to_3x4", lambda x: F.adaptive_avg_pool2d(x, (3, 4)), fill(1, 2, 3, 5, 7), names=["input"])
run("adaptive_avg/global", lambda x: F.adaptive_avg_pool2d(x, 1), fill(1, 2, 3, 5, 7), names=["input"])
run("adaptive_avg/upsample", lambda x: F.adaptive_avg_pool2d(x, (5, 4)), fill(1, 1, 2, 3, 2), names=["input"])
run("adaptive_avg/none", lambda x: F.adaptive_avg_pool2d(x, (None, 3)), fill(1, 1, 2, 4, 6), names=["input"])
run("adaptive_max/5x7_to_3x4", lambda x: F.adaptive_max_pool2d(x, (3, 4)), fill(1, 2, 3, 5, 7), names=["input"])
run("adaptive_max/upsample", lambda x: F.adaptive_max_pool2d(x, (5, 4)), fill(1, 1, 2, 3, 2), names=["input"])

# ---- normalisation ----
run("groupnorm/affine", lambda x, w, b: F.group_norm(x, 3, w, b, 1e-5),
    fill(1, 3, 6, 4, 5), fill(10, 6), fill(11, 6), names=["input", "weight", "bias"])
run("groupnorm/rank2", lambda x: F.group_norm(x, 2), fill(1, 4, 6), names=["input"])
run("groupnorm/rank3", lambda x, w, b: F.group_norm(x, 4, w, b, 1e-3),
    fill(1, 2, 4, 7), fill(10, 4), fill(11, 4), names=["input", "weight", "bias"])


def rms_norm(x, dims, w, eps):
    y = x * torch.rsqrt(x.pow(2).mean(dim=dims, keepdim=True) + (torch.finfo(x.dtype).eps if eps is None else eps))
    return y if w is None else y * w


run("rmsnorm/last", lambda x, w: rms_norm(x, [-1], w, None), fill(1, 3, 4, 8), fill(10, 8), names=["input", "weight"])
run("rmsnorm/two", lambda x: rms_norm(x, [-2, -1], None, 1e-6), fill(1, 2, 3, 4), names=["input"])
run("rmsnorm/affine2d", lambda x, w: rms_norm(x, [-2, -1], w, 1e-5), fill(1, 2, 3, 4), fill(10, 3, 4), names=["input", "weight"])

# ---- losses ----
X, T = 3 * fill(1, 4, 5), 2 * fill(2, 4, 5)  # differences on both sides of 1 and of 0.3
for red in ["none", "mean", "sum"]:
    run("l1/" + red, lambda x, t: F.l1_loss(x, t, reduction=red), X, T, names=["input", "target"])
    for beta in [1.0, 0.3]:
        run(f"smooth_l1/{beta}/{red}", lambda x, t: F.smooth_l1_loss(x, t, reduction=red, beta=beta), X, T, names=["input", "target"])
        run(f"huber/{beta}/{red}", lambda x, t: F.huber_loss(x, t, reduction=red, delta=beta), X, T, names=["input", "target"])
run("smooth_l1/0.0/mean", lambda x, t: F.smooth_l1_loss(x, t, beta=0.0), X, T, names=["input", "target"])

LOGP = torch.log_softmax(2 * fill(1, 4, 5), dim=1)
P = torch.softmax(2 * fill(2, 4, 5), dim=1)
for red in ["none", "mean", "sum", "batchmean"]:
    run("kl/" + red, lambda x, t: F.kl_div(x, t, reduction=red), LOGP, P, names=["input", "target"])
    run("kl_log/" + red, lambda x, t: F.kl_div(x, t, reduction=red, log_target=True), LOGP, torch.log(P), names=["input", "target"])
PZ = P.clone()
PZ[0, 1] = 0.0
PZ[2, 3] = 0.0
run("kl_zero/sum", lambda x, t: F.kl_div(x, t, reduction="sum"), LOGP, PZ, names=["input", "target"])

PROB = torch.sigmoid(4 * fill(1, 4, 5))
TGT = 0.5 + fill(2, 4, 5)  # in [0, 1]
W = 1.5 + fill(3, 5)
for red in ["none", "mean", "sum"]:
    run("bce/" + red, lambda x, t: F.binary_cross_entropy(x, t, reduction=red), PROB, TGT, names=["input", "target"])
    run("bce_weight/" + red, lambda x, t: F.binary_cross_entropy(x, t, weight=W, reduction=red), PROB, TGT, names=["input", "target"])
EDGE = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5, 1e-60])
EDGE_T = torch.tensor([0.0, 1.0, 0.3, 0.6, 1.0, 0.2])
emit("bce_edges/y", flat(F.binary_cross_entropy(EDGE, EDGE_T, reduction="none")))
xe = leaf(EDGE)
F.binary_cross_entropy(xe, EDGE_T, reduction="sum").backward()
emit("bce_edges/grad/input", flat(xe.grad))


def number(v):
    if math.isnan(v):
        return "double.NaN"
    if math.isinf(v):
        return "double.PositiveInfinity" if v > 0 else "double.NegativeInfinity"
    return repr(float(v))


print(f"// Generated by layers_reference.py (Debian python3-torch {torch.__version__}, float64); do not edit.")
print("namespace Backprop.Tests.NN.Layers.Fixtures;")
print()
print("/// <summary>Reference values for the issue #12 layers and losses from PyTorch (see layers_reference.py).</summary>")
print("internal static class LayersReferenceValues")
print("{")
print("    public static readonly Dictionary<string, double[]> Values = new()")
print("    {")
for key, values in entries:
    print(f'        ["{key}"] = [{", ".join(number(v) for v in values)}],')
print("    };")
print("}")
