"""Writes the safetensors fixtures of tests/Backprop.Tests/IO (run with Debian's /usr/bin/python3, torch 1.13).

Debian has no `safetensors` Python package, so `save_file` below writes the format the way the reference
implementation (the Rust crate behind safetensors.torch.save_file) does: 8-byte little-endian header length,
compact JSON with "__metadata__" first and then the tensors in data order, the header padded with spaces to a
multiple of 8, tensors sorted by dtype (the crate's enum order, descending: I64, F64, F32, I32, BF16, F16, BOOL)
and then by name.

  cnn.safetensors, cnn_io.safetensors   nn.Sequential(conv, batchnorm, relu, maxpool, conv, relu, flatten, linear)
                                        state dict (eval mode), and an input with the model's output
  gpt.safetensors, gpt_io.safetensors   a 2-block pre-LN GPT (embeddings, LayerNorm, MultiheadAttention,
                                        Linear, GELU) state dict, and token ids with the logits
  dtypes.safetensors                    every readable dtype beside its widened float32/int64 values

Usage: /usr/bin/python3 make_safetensors_fixtures.py   (writes next to this script)
"""
import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_models import Gpt

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {  # torch dtype -> (safetensors name, rank in the crate's enum order)
    torch.bool: ("BOOL", 0), torch.float16: ("F16", 11), torch.bfloat16: ("BF16", 12), torch.int32: ("I32", 13),
    torch.float32: ("F32", 15), torch.float64: ("F64", 16), torch.int64: ("I64", 17),
}


def save_file(tensors, path, metadata=None):
    items = sorted(tensors.items(), key=lambda kv: (-DTYPES[kv[1].dtype][1], kv[0].encode("utf-8")))
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    for name, t in items:
        t = t.detach().contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype in (torch.float16, torch.bfloat16) else t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype][0], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(os.path.join(HERE, path), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def perturb(model):
    # PyTorch initialises some biases to zero (attention, layer norm); noise makes every tensor matter.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))


torch.manual_seed(0)
cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(4, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(32, 5))
perturb(cnn)
with torch.no_grad():
    cnn[1].running_mean.copy_(0.2 * torch.randn(4))
    cnn[1].running_var.copy_(0.5 + torch.rand(4))
    cnn[1].num_batches_tracked.fill_(7)
cnn.eval()
x = torch.randn(2, 1, 8, 8)
with torch.no_grad():
    y = cnn(x)
save_file(cnn.state_dict(), "cnn.safetensors", {"format": "pt"})
save_file({"input": x, "output": y}, "cnn_io.safetensors")


torch.manual_seed(1)
gpt = Gpt()
perturb(gpt)
gpt.eval()
ids = torch.randint(0, 16, (2, 8))
with torch.no_grad():
    logits = gpt(ids)
save_file(gpt.state_dict(), "gpt.safetensors", {"format": "pt", "model": "gpt-test"})
save_file({"ids": ids, "logits": logits}, "gpt_io.safetensors")

half = torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 6e-8, 1e-5, float("inf"), float("-inf"), float("nan"), 0.1, 3.14159],
                    dtype=torch.float16)
bf = torch.tensor([0.0, -1.0, 1.5, 3e38, -1e-38, 1e-40, float("inf"), float("nan"), 0.1, 255.0, -7.25], dtype=torch.bfloat16)
i32 = torch.tensor([[0, 1, -1], [2147483647, -2147483648, 12345]], dtype=torch.int32)
save_file({
    "f16": half, "f16_as_f32": half.float(),
    "bf16": bf.reshape(11, 1), "bf16_as_f32": bf.float().reshape(11, 1),
    "i32": i32, "i32_as_i64": i32.long(),
    "bool": torch.tensor([True, False, True]), "f64": torch.tensor([[1.0, -2.0], [0.5, 1e300]], dtype=torch.float64),
    "i64_scalar": torch.tensor(-9007199254740993), "empty": torch.zeros(0, 3),
}, "dtypes.safetensors", {"source": "make_safetensors_fixtures.py", "torch": torch.__version__})
print("wrote", sorted(f for f in os.listdir(HERE) if f.endswith(".safetensors")))
