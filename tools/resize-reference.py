#!/usr/bin/python3
# Reference values for tests/Backprop.Tests/Data/ResizeReferenceTests.cs, from Debian's torch (/usr/bin/python3).
# torchvision.transforms.functional.resize on a tensor calls F.interpolate(x, size, mode, align_corners=False,
# antialias=...) (torchvision >= 0.17 defaults to antialias=True), so the references are F.interpolate's.
# The input is SineFill: element k of seed s is 0.5*sin(0.37*(k+1) + s), float64.
import math
import torch
import torch.nn.functional as F


def sine(seed, *shape):
    k = torch.arange(math.prod(shape), dtype=torch.float64)
    return (0.5 * torch.sin(0.37 * (k + 1) + seed)).reshape(shape)


def literal(name, t):
    values = ", ".join(repr(float(v)) for v in t.flatten())
    print(f"    // {name}: shape {list(t.shape)}")
    print(f"    private static readonly double[] {name} = [{values}];")


def resize(x, size, mode, antialias=False):
    y = x.unsqueeze(0)
    if mode == "nearest":
        return F.interpolate(y, size=size, mode="nearest").squeeze(0)
    return F.interpolate(y, size=size, mode=mode, align_corners=False, antialias=antialias).squeeze(0)


print(f"    // torch {torch.__version__}")
x = sine(0.0, 2, 7, 9)
literal("ShrinkAntialias", resize(x, (3, 4), "bilinear", True))
literal("ShrinkOddAntialias", resize(x, (5, 2), "bilinear", True))
literal("ShrinkNoAntialias", resize(x, (3, 4), "bilinear", False))
literal("GrowAntialias", resize(x, (10, 13), "bilinear", True))
literal("GrowNoAntialias", resize(x, (10, 13), "bilinear", False))
literal("MixedAntialias", resize(x, (12, 5), "bilinear", True))
literal("NearestShrink", resize(x, (4, 5), "nearest"))
literal("NearestGrow", resize(x, (11, 20), "nearest"))
