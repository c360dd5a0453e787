#!/usr/bin/python3
# Reference values for tests/Backprop.Tests/Data/TorchvisionReferenceTests.cs, from Debian's torchvision
# (apt-get install --no-install-recommends python3-torchvision; /usr/bin/python3 has torch). The input is
# SineFill: element k of seed s is 0.5*sin(0.37*(k+1) + s), float64, so the C# side rebuilds it exactly.
import math
import torch
import torchvision
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode as IM


def sine(seed, *shape):
    k = torch.arange(math.prod(shape), dtype=torch.float64)
    return (0.5 * torch.sin(0.37 * (k + 1) + seed)).reshape(shape)


def literal(name, t):
    values = ", ".join(repr(float(v)) for v in t.flatten())
    print(f"    // {name}: shape {list(t.shape)}")
    print(f"    private static readonly double[] {name} = [{values}];")


print(f"    // torchvision {torchvision.__version__}, torch {torch.__version__}")
x = sine(0.0, 2, 7, 9)
literal("AffineNearest", F.affine(x, angle=30.0, translate=[1, -2], scale=1.2, shear=[10.0, 5.0], interpolation=IM.NEAREST, fill=0.5))
literal("AffineBilinear", F.affine(x, angle=30.0, translate=[1, -2], scale=1.2, shear=[10.0, 5.0], interpolation=IM.BILINEAR, fill=0.5))
literal("AffineBilinearNoFill", F.affine(x, angle=30.0, translate=[1, -2], scale=1.2, shear=[10.0, 5.0], interpolation=IM.BILINEAR))
literal("AffineCenter", F.affine(x, angle=-47.0, translate=[0, 1], scale=0.8, shear=[0.0, 0.0], interpolation=IM.BILINEAR, fill=0.0, center=[2, 3]))
literal("RotateBilinear", F.rotate(x, 37.0, interpolation=IM.BILINEAR, fill=[0.25]))
literal("RotateNearest", F.rotate(x, -61.0, interpolation=IM.NEAREST, fill=[-1.0]))
y = sine(1.0, 1, 4, 5)
literal("PadReflect", F.pad(y, [2, 1, 3, 2], padding_mode="reflect"))
literal("PadSymmetric", F.pad(y, [2, 1, 3, 2], padding_mode="symmetric"))
literal("PadEdge", F.pad(y, [2, 1, 3, 2], padding_mode="edge"))
# RandomCrop((8, 7), padding=1, pad_if_needed=True, padding_mode="reflect") on y: pads 1 all round (6x7),
# then 2 rows above and below (10x7) on the padded image; the C# test crops this at its drawn corner.
z = F.pad(y, [1, 1, 1, 1], padding_mode="reflect")
z = F.pad(z, [0, 8 - z.shape[-2]], padding_mode="reflect")
literal("CropPadReflect", z)
literal("Normalized", F.normalize(sine(2.0, 2, 3, 2, 2), mean=[0.1, -0.2, 0.3], std=[0.5, 2.0, 0.25]))
