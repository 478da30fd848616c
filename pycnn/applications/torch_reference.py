"""The tutorials' networks in PyTorch, for side-by-side timing.

Same layers, sizes and hyperparameters as ``pycnn.applications`` (Keras
defaults carried over: BatchNorm momentum 0.99 -> torch 0.01, epsilon 1e-3,
LeakyReLU slope 0.3, RMSprop rho 0.9, epsilon 1e-7 everywhere). Torch
flattens NCHW where Keras flattens NHWC; the parameter counts are the same
(93,322 / 592,554 with the BN moving statistics / 5,595,042). The softmax
is folded into the loss (``CrossEntropyLoss`` on logits), as PyTorch users
write it.

Two ways of writing each network:
- ``tuned=False``: what a typical user writes: NCHW, ``torch.optim`` with
  its default implementation, ``torch.no_grad()`` for inference;
- ``tuned=True``: channels_last tensors and weights, ``fused=True`` Adam /
  ``foreach=True`` RMSprop, ``torch.inference_mode()`` for inference.

torch is passed in rather than imported here, and nothing here imports
pycnn: a benchmark can load this file on its own so that a PyTorch process
does not carry pycnn's memory.
"""

SHAPES = {"mnist": (1, 28, 28), "cifar10": (3, 32, 32), "faces": (3, 112, 92)}
CLASSES = {"mnist": 10, "cifar10": 10, "faces": 2}


def build(torch, name):
    """The network ``name`` (mnist, cifar10, faces) as an ``nn.Sequential`` producing logits."""
    nn = torch.nn
    if name == "mnist":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
            nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10))
    if name == "cifar10":
        layers, cin = [], 3
        for cout, stride in ((32, 1), (32, 2), (64, 1), (64, 2)):
            layers += [nn.Conv2d(cin, cout, 3, stride, padding=1), nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01),
                       nn.LeakyReLU(0.3)]
            cin = cout
        return nn.Sequential(
            *layers, nn.Flatten(), nn.Linear(8 * 8 * 64, 128), nn.BatchNorm1d(128, eps=1e-3, momentum=0.01),
            nn.LeakyReLU(0.3), nn.Dropout(0.5), nn.Linear(128, 10))
    if name == "faces":
        # Keras 'same' 2x2 pooling pads the odd row at the bottom: ceil_mode does the same (23 -> 12).
        layers, cin = [], 3
        for cout in (16, 32, 64):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True)]
            cin = cout
        return nn.Sequential(
            *layers, nn.Flatten(), nn.Linear(14 * 12 * 64, 512), nn.ReLU(), nn.Dropout(0.4),
            nn.Linear(512, 128), nn.ReLU(), nn.Dropout(0.4), nn.Linear(128, 2))
    raise ValueError(f"no PyTorch twin for network {name!r}; choose one of: {', '.join(SHAPES)}")


def parameter_counts(net):
    """(trainable parameters, parameters + BN moving statistics) — Keras' trainable and total counts."""
    params = sum(p.numel() for p in net.parameters())
    stats = sum(b.numel() for n, b in net.named_buffers() if n.endswith(("running_mean", "running_var")))
    return params, params + stats


def make_optimizer(torch, params, optimizer, learning_rate, tuned=False):
    """torch.optim with Keras' hyperparameters; ``optimizer`` is "RMSprop" or "Adam"."""
    if optimizer == "RMSprop":
        extra = {"foreach": True} if tuned else {}
        return torch.optim.RMSprop(params, lr=learning_rate, alpha=0.9, eps=1e-7, **extra)
    if optimizer == "Adam":
        extra = {"fused": True} if tuned else {}
        return torch.optim.Adam(params, lr=learning_rate, betas=(0.9, 0.999), eps=1e-7, **extra)
    raise ValueError(f"unsupported optimizer {optimizer!r}")


def _inputs(torch, name, batch, tuned, seed):
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand((batch,) + SHAPES[name], generator=generator)
    return x.contiguous(memory_format=torch.channels_last) if tuned else x


def training_step(torch, name, batch, optimizer, learning_rate, tuned=False, seed=0):
    """A function running one step (forward, loss, backward, update) on fixed random data.

    Returns (step, net).
    """
    torch.manual_seed(seed)
    net = build(torch, name)
    if tuned:
        net = net.to(memory_format=torch.channels_last)
    net.train()
    opt = make_optimizer(torch, net.parameters(), optimizer, learning_rate, tuned)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = _inputs(torch, name, batch, tuned, seed)
    y = torch.randint(0, CLASSES[name], (batch,), generator=torch.Generator().manual_seed(seed + 1))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss

    return step, net


def inference(torch, name, batch, tuned=False, seed=0):
    """A function computing the logits of one batch in eval mode. Returns (predict, net)."""
    torch.manual_seed(seed)
    net = build(torch, name).eval()
    if tuned:
        net = net.to(memory_format=torch.channels_last)
    x = _inputs(torch, name, batch, tuned, seed)
    guard = torch.inference_mode if tuned else torch.no_grad

    def predict():
        with guard():
            return net(x)

    return predict, net


def set_threads(torch, n):
    """Intra-op threads = inter-op threads = n (inter-op can only be set before the first parallel work)."""
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(n)
    except RuntimeError:
        pass
