# OneCycleLR with cycle_momentum (torch 1.13 defaults: base_momentum 0.85, max_momentum 0.95) for TorchOneCycleMomentumTests.
# Run: /usr/bin/python3 torch_onecycle_momentum.py
import torch
def seq(opt, sched, key, steps):
    lrs, moms = [], []
    for t in range(steps):
        g = opt.param_groups[0]
        lrs.append(g['lr']); moms.append(g['betas'][0] if key == 'betas' else g['momentum'])
        opt.step(); sched.step()
    return lrs, moms
def show(name, v): print(f"{name}: [{', '.join(repr(float(x)) for x in v)}]")
p = torch.nn.Parameter(torch.zeros(1))
o = torch.optim.SGD([p], lr=0.1, momentum=0.9)
lrs, moms = seq(o, torch.optim.lr_scheduler.OneCycleLR(o, 1.0, total_steps=12), 'momentum', 12)
show("sgd lr", lrs); show("sgd momentum", moms)
o = torch.optim.Adam([p], lr=0.1)
lrs, moms = seq(o, torch.optim.lr_scheduler.OneCycleLR(o, 0.5, total_steps=10, pct_start=0.4, base_momentum=0.8, max_momentum=0.9), 'betas', 10)
show("adam lr", lrs); show("adam beta1", moms)
# An Adam trajectory under the schedule: beta1 changes every step (bias correction uses the current beta1).
p = torch.nn.Parameter(torch.tensor([0.5, -0.3, 1.2], dtype=torch.float64))
o = torch.optim.AdamW([p], lr=0.1)
s = torch.optim.lr_scheduler.OneCycleLR(o, 0.05, total_steps=6)
for t in range(6):
    o.zero_grad(); (p * p * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum().backward(); o.step(); s.step()
show("adamw params after 6 steps", p.detach())
p = torch.nn.Parameter(torch.tensor([0.5, -0.3, 1.2], dtype=torch.float64))
o = torch.optim.SGD([p], lr=0.1)  # momentum 0: OneCycleLR still sets 0.95 and cycles it
s = torch.optim.lr_scheduler.OneCycleLR(o, 0.05, total_steps=6)
for t in range(6):
    o.zero_grad(); (p * p * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum().backward(); o.step(); s.step()
show("sgd(momentum=0) params after 6 steps", p.detach())
try:
    torch.optim.lr_scheduler.OneCycleLR(torch.optim.Adagrad([p]), 1.0, total_steps=5)
except ValueError as e: print("adagrad:", e)
print("adagrad without cycling:", torch.optim.lr_scheduler.OneCycleLR(torch.optim.Adagrad([p]), 1.0, total_steps=5, cycle_momentum=False).get_last_lr())
