"""Writes the ONNX import fixtures of tests/Backprop.Tests/IO (run with Debian's /usr/bin/python3: torch 1.13, onnx 1.12).

Each model is exported by torch.onnx.export (opset 17, a dynamic batch dim, evaluation mode) and run by PyTorch on
two batches of different sizes; inputs and outputs are ONNX TensorProtos (onnx.numpy_helper), the format of the
ONNX test data:

  pytorch_cnn.onnx         conv, batch norm, relu, max pool, conv (stride 2), batch norm, relu, global average
                           pool, flatten, batch norm, dropout, linear; input [B, 3, 12, 12] (the exporter folds
                           the 2-D batch norms into the convolutions; the 1-D one stays a BatchNormalization)
  pytorch_attention.onnx   linear, layer norm, 2-head self-attention (q/k/v split and merged with reshapes of the
                           input's own size, so the graph computes shapes: Shape, Gather, Concat, Reshape), softmax,
                           exact GELU MLP, residuals, mean over time, linear; input [B, 5, 8]
  pytorch_gpt.onnx         a 2-block pre-LN GPT (token and position embeddings, nn.MultiheadAttention with a causal
                           mask, exact GELU MLP, final LayerNorm, head) trained for 60 Adam steps on a repeating token
                           pattern; input int64 ids [B, T] with B and T dynamic (batches [2, 8] and [3, 5])
  pytorch_<name>_input_<k>.pb, pytorch_<name>_output_<k>.pb   batch k (sizes 2 and 3)

Usage: /usr/bin/python3 make_onnx_fixtures.py   (writes next to this script)
"""
import math
import os

import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_models import Gpt

HERE = os.path.dirname(os.path.abspath(__file__))


class Attention(nn.Module):
    def __init__(self, d=8, heads=2, classes=3):
        super().__init__()
        self.embed = nn.Linear(d, d)
        self.norm1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 2 * d)
        self.fc2 = nn.Linear(2 * d, d)
        self.head = nn.Linear(d, classes)
        self.heads = heads

    def forward(self, x):
        x = self.embed(x)
        b, t, d = x.size()
        q, k, v = self.qkv(self.norm1(x)).split(d, dim=2)
        # [B, T, D] -> [B, H, T, D/H]
        q, k, v = (z.reshape(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d // self.heads), dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(b, t, d))
        x = x + self.fc2(F.gelu(self.fc1(self.norm2(x))))
        return self.head(x.mean(dim=1))


def perturb(model):
    # Running statistics and biases away from their initial 0 and 1, so every tensor matters.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.copy_(0.2 * torch.randn_like(m.running_mean))
                m.running_var.copy_(0.5 + torch.rand_like(m.running_var))


def write(name, model, shapes):
    model.eval()
    perturb(model)
    inputs = [torch.randn(*s) for s in shapes]
    torch.onnx.export(model, inputs[0], os.path.join(HERE, f"pytorch_{name}.onnx"), opset_version=17,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    for k, x in enumerate(inputs):
        with torch.no_grad():
            y = model(x)
        for kind, t in (("input", x), ("output", y)):
            with open(os.path.join(HERE, f"pytorch_{name}_{kind}_{k}.pb"), "wb") as f:
                f.write(onnx.numpy_helper.from_array(t.numpy(), kind).SerializeToString())


def write_gpt():
    torch.manual_seed(2)
    gpt = Gpt()
    # Trained, not just initialised: 60 Adam steps predicting the next token of a repeating pattern.
    opt = torch.optim.Adam(gpt.parameters(), lr=1e-2)
    seq = torch.tensor([(3 * i + 1) % 16 for i in range(64)])
    for step in range(60):
        starts = torch.randint(0, 64 - 9, (8,))
        batch = torch.stack([seq[s:s + 9] for s in starts])
        loss = F.cross_entropy(gpt(batch[:, :-1]).reshape(-1, 16), batch[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    gpt.eval()
    inputs = [torch.randint(0, 16, (2, 8)), torch.randint(0, 16, (3, 5))]
    torch.onnx.export(gpt, inputs[0], os.path.join(HERE, "pytorch_gpt.onnx"), opset_version=17,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch", 1: "time"}, "output": {0: "batch", 1: "time"}})
    for k, x in enumerate(inputs):
        with torch.no_grad():
            y = gpt(x)
        for kind, t in (("input", x), ("output", y)):
            with open(os.path.join(HERE, f"pytorch_gpt_{kind}_{k}.pb"), "wb") as f:
                f.write(onnx.numpy_helper.from_array(t.numpy(), kind).SerializeToString())


torch.manual_seed(0)
cnn = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.BatchNorm1d(16), nn.Dropout(0.3), nn.Linear(16, 5))
write("cnn", cnn, [(2, 3, 12, 12), (3, 3, 12, 12)])
write("attention", Attention(), [(2, 5, 8), (3, 5, 8)])
write_gpt()
for name in ("cnn", "attention", "gpt"):
    m = onnx.load(os.path.join(HERE, f"pytorch_{name}.onnx"))
    onnx.checker.check_model(m)
    print(name, sorted({n.op_type for n in m.graph.node}), [i.name for i in m.graph.initializer][:6])
