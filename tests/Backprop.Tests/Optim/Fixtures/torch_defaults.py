#!/usr/bin/python3
# Generates TorchDefaults.cs: the default value of every keyword of the optimizers, schedulers, layers and
# functions Backprop mirrors, read from Debian's python3-torch (1.13) with inspect.signature.
#   /usr/bin/python3 tests/Backprop.Tests/Optim/Fixtures/torch_defaults.py > tests/Backprop.Tests/Optim/Fixtures/TorchDefaults.cs
# A keyword without a default (or SGD's lr, torch.optim.optimizer.required) is written as "required"; a tuple default (Adam's betas) as one entry per
# element ("betas.0", "betas.1"). Values are Python reprs: 0.001, True, None, 'mean'.
import inspect
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim import lr_scheduler as sch
from torch.optim.optimizer import required

SKIP = {"self", "params", "optimizer", "args", "kwargs", "device", "dtype"}

TARGETS = [
    ("torch.optim.SGD", optim.SGD.__init__),
    ("torch.optim.Adam", optim.Adam.__init__),
    ("torch.optim.AdamW", optim.AdamW.__init__),
    ("torch.optim.RMSprop", optim.RMSprop.__init__),
    ("torch.optim.Adagrad", optim.Adagrad.__init__),
    ("torch.optim.lr_scheduler.StepLR", sch.StepLR.__init__),
    ("torch.optim.lr_scheduler.MultiStepLR", sch.MultiStepLR.__init__),
    ("torch.optim.lr_scheduler.ExponentialLR", sch.ExponentialLR.__init__),
    ("torch.optim.lr_scheduler.LambdaLR", sch.LambdaLR.__init__),
    ("torch.optim.lr_scheduler.ConstantLR", sch.ConstantLR.__init__),
    ("torch.optim.lr_scheduler.LinearLR", sch.LinearLR.__init__),
    ("torch.optim.lr_scheduler.CosineAnnealingLR", sch.CosineAnnealingLR.__init__),
    ("torch.optim.lr_scheduler.SequentialLR", sch.SequentialLR.__init__),
    ("torch.optim.lr_scheduler.ChainedScheduler", sch.ChainedScheduler.__init__),
    ("torch.optim.lr_scheduler.ReduceLROnPlateau", sch.ReduceLROnPlateau.__init__),
    ("torch.optim.lr_scheduler.OneCycleLR", sch.OneCycleLR.__init__),
    ("torch.optim.Optimizer.zero_grad", optim.Optimizer.zero_grad),
    ("torch.nn.utils.clip_grad_norm_", torch.nn.utils.clip_grad_norm_),
    ("torch.nn.Module.zero_grad", nn.Module.zero_grad),
    ("torch.nn.Module.train", nn.Module.train),
    ("torch.nn.Module.load_state_dict", nn.Module.load_state_dict),
    ("torch.nn.Module.named_parameters", nn.Module.named_parameters),
    ("torch.nn.Linear", nn.Linear.__init__),
    ("torch.nn.Conv2d", nn.Conv2d.__init__),
    ("torch.nn.BatchNorm1d", nn.BatchNorm1d.__init__),
    ("torch.nn.BatchNorm2d", nn.BatchNorm2d.__init__),
    ("torch.nn.LayerNorm", nn.LayerNorm.__init__),
    ("torch.nn.Dropout", nn.Dropout.__init__),
    ("torch.nn.Embedding", nn.Embedding.__init__),
    ("torch.nn.LeakyReLU", nn.LeakyReLU.__init__),
    ("torch.nn.GELU", nn.GELU.__init__),
    ("torch.nn.Softplus", nn.Softplus.__init__),
    ("torch.nn.MaxPool2d", nn.MaxPool2d.__init__),
    ("torch.nn.AvgPool2d", nn.AvgPool2d.__init__),
    ("torch.nn.Flatten", nn.Flatten.__init__),
    ("torch.nn.MultiheadAttention", nn.MultiheadAttention.__init__),
    ("torch.nn.RNNBase", nn.RNNBase.__init__),
    ("torch.nn.RNNCell", nn.RNNCell.__init__),
    ("torch.nn.LSTMCell", nn.LSTMCell.__init__),
    ("torch.nn.GRUCell", nn.GRUCell.__init__),
    ("torch.nn.functional.dropout", F.dropout),
    ("torch.nn.functional.leaky_relu", F.leaky_relu),
    ("torch.nn.functional.gelu", None),
    ("torch.nn.functional.softplus", None),
    ("torch.nn.functional.gumbel_softmax", F.gumbel_softmax),
    ("torch.nn.functional.cross_entropy", F.cross_entropy),
    ("torch.nn.functional.nll_loss", F.nll_loss),
    ("torch.nn.functional.mse_loss", F.mse_loss),
    ("torch.nn.functional.binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits),
    ("torch.nn.functional.layer_norm", F.layer_norm),
    ("torch.nn.functional.batch_norm", F.batch_norm),
    ("torch.nn.functional.embedding", F.embedding),
    ("torch.nn.functional.linear", None),
    ("torch.nn.init.calculate_gain", nn.init.calculate_gain),
    ("torch.nn.init.xavier_uniform_", nn.init.xavier_uniform_),
    ("torch.nn.init.xavier_normal_", nn.init.xavier_normal_),
    ("torch.nn.init.kaiming_uniform_", nn.init.kaiming_uniform_),
    ("torch.nn.init.kaiming_normal_", nn.init.kaiming_normal_),
    ("torch.nn.init.orthogonal_", nn.init.orthogonal_),
]


def cs(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


rows = []
for name, fn in TARGETS:
    if fn is None:
        continue  # a builtin without a Python signature in 1.13
    for p in inspect.signature(fn).parameters.values():
        if p.name in SKIP or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name.startswith("_"):
            continue
        if p.default is inspect.Parameter.empty or p.default is required:
            rows.append((f"{name}:{p.name}", "required"))
        elif isinstance(p.default, tuple):
            for i, v in enumerate(p.default):
                rows.append((f"{name}:{p.name}.{i}", repr(v)))
        else:
            rows.append((f"{name}:{p.name}", repr(p.default)))

# torch.nn.RNN takes *args, **kwargs and pops nonlinearity itself (rnn.py: kwargs.pop('nonlinearity', 'tanh')).
rows.append(("torch.nn.RNN:nonlinearity", repr("tanh")))

print("// <auto-generated> by torch_defaults.py from torch " + torch.__version__ + "; do not edit by hand. </auto-generated>")
print("namespace Backprop.Tests.Optim.Fixtures;")
print()
print("/// <summary>Defaults of torch " + torch.__version__ + " keyword arguments, \"module:keyword\" → Python repr (\"required\": no default).</summary>")
print("internal static class TorchDefaults")
print("{")
print("    public static readonly (string Key, string Value)[] All =")
print("    [")
for k, v in rows:
    print(f"        ({cs(k)}, {cs(v)}),")
print("    ];")
print("}")
