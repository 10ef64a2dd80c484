#!/usr/bin/env python3
"""The SimCLR (+ SEM) pretraining step of semharness written as ordinary PyTorch user code.

It is the Python side of a throughput race against the C++ harness: the same backbone, SEM block, projector,
NT-Xent loss, optimizer and online linear classifier as baselines/ and harness/train/pretrain.cpp, trained on
two fixed random views (augmentation is not timed), eager or under torch.compile.

    python_reference.py --backbone convnet|resnet18 --method simclr --sem off|on --L 5000 --V 13 --tau 1.0
                        --batch 256 --image 1x28x28|3x32x32 --steps N --warmup W --threads T
                        --mode eager|compile [--json]

With --json, stdout is one JSON line (step_ms, images_per_second, compile_s, ...); without it, a short
human-readable summary. Everything else goes to stderr. Exit 2: bad arguments; exit 3: torch.compile failed.
"""
import argparse
import contextlib
import json
import math
import statistics
import sys
import time
import warnings

# The wheel warns on import when NumPy is missing; nothing here needs NumPy.
warnings.filterwarnings("ignore", message=r".*Failed to initialize NumPy.*")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


# ---------------------------------------------------------------------------------------------------------
# Backbones (baselines/backbones.cpp)


def scaled(channels, width):
    return max(1, round(channels * width))


def conv3x3(cin, cout, stride, padding=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=padding, bias=False)


class ConvNet(nn.Module):
    """Four conv-BN-ReLU stages (stride 1, 2, 2, 2), global average pooling."""

    def __init__(self, in_channels, width=1.0):
        super().__init__()
        widths = [scaled(c, width) for c in (32, 64, 128, 128)]
        layers, cin = [], in_channels
        for w, stride in zip(widths, (1, 2, 2, 2)):
            layers += [conv3x3(cin, w, stride), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            cin = w
        self.layers = nn.Sequential(*layers)
        self.output_dim = cin

    def forward(self, x):
        return self.layers(x).mean((2, 3))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = conv3x3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = conv3x3(cout, cout, 1)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class ResNet18(nn.Module):
    """CIFAR ResNet-18: 3x3 stride-1 stem (padding 2 as in the paper's code), no max-pool, fc removed."""

    def __init__(self, in_channels, width=1.0, stem_padding=2):
        super().__init__()
        widths = [scaled(c, width) for c in (64, 128, 256, 512)]
        self.stem = nn.Sequential(conv3x3(in_channels, widths[0], 1, stem_padding), nn.BatchNorm2d(widths[0]),
                                  nn.ReLU(inplace=True))
        blocks, cin = [], widths[0]
        for stage, w in enumerate(widths):
            blocks += [BasicBlock(cin, w, 1 if stage == 0 else 2), BasicBlock(w, w, 1)]
            cin = w
        self.blocks = nn.Sequential(*blocks)
        self.output_dim = cin
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        return self.blocks(self.stem(x)).mean((2, 3))


def make_backbone(name, in_channels, width, stem_padding):
    if name == "convnet":
        return ConvNet(in_channels, width)
    return ResNet18(in_channels, width, stem_padding)


# ---------------------------------------------------------------------------------------------------------
# Heads, SEM, encoder, SimCLR (baselines/mlp_head.cpp, sem/simplicial_embedding.cpp, baselines/encoder.cpp,
# baselines/simclr.cpp)


class MLPHead(nn.Module):
    """(Linear -> [BatchNorm1d] -> ReLU) x (layers - 1) -> Linear. SimCLR: 2 layers, no BN."""

    def __init__(self, in_features, hidden, out_features, layers=2, batch_norm=True):
        super().__init__()
        mods, cin = [], in_features
        for _ in range(layers - 1):
            mods.append(nn.Linear(cin, hidden))
            if batch_norm:
                mods.append(nn.BatchNorm1d(hidden))
            mods.append(nn.ReLU(inplace=True))
            cin = hidden
        mods.append(nn.Linear(cin, out_features))
        self.layers = nn.Sequential(*mods)

    def forward(self, x):
        return self.layers(x)


class SEM(nn.Module):
    """e = BN(Linear(h)) read as [B, V, L]; y = softmax(e / tau) over V, flattened back to [B, L*V]."""

    def __init__(self, in_features, L, V):
        super().__init__()
        self.L, self.V = L, V
        self.linear = nn.Linear(in_features, L * V, bias=False)
        self.bn = nn.BatchNorm1d(L * V)

    @property
    def output_dim(self):
        return self.L * self.V

    def forward(self, h, tau):
        e = self.bn(self.linear(h))
        return torch.softmax(e.view(e.size(0), self.V, self.L) / tau, dim=1).view(e.size(0), -1)


class Encoder(nn.Module):
    def __init__(self, backbone, sem, projector):
        super().__init__()
        self.backbone, self.sem, self.projector = backbone, sem, projector

    def forward(self, x, tau):
        h = self.backbone(x)
        y = self.sem(h, tau) if self.sem is not None else None
        z = self.projector(y if y is not None else h)
        return h, y, z


def nt_xent_loss(z1, z2, temperature):
    n = z1.size(0)
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = z @ z.t() / temperature
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))
    index = torch.arange(n, device=z.device)
    return F.cross_entropy(logits, torch.cat([index + n, index]))


class SimCLR(nn.Module):
    def __init__(self, encoder, temperature=0.2, tau_online=1.0, tau_target=1.0):
        super().__init__()
        self.online = encoder
        self.temperature, self.tau_online, self.tau_target = temperature, tau_online, tau_target

    def forward(self, view1, view2):
        """The loss of one batch and view 1's backbone feature (for the online classifier)."""
        h1, _, z1 = self.online(view1, self.tau_online)
        _, _, z2 = self.online(view2, self.tau_target)
        return nt_xent_loss(z1, z2, self.temperature), h1


# ---------------------------------------------------------------------------------------------------------
# Optimizers (baselines/optimizers.cpp, baselines/schedules.cpp)


class LARS(torch.optim.Optimizer):
    """SGD with momentum and LARS trust ratios (solo-learn's LARS, without its host-side branches):
    d = g + wd * w; d *= min(eta * ||w|| / (||g|| + wd * ||w|| + eps) / lr, 1) when clip_lr (1 where ||w|| or
    ||g|| is 0); 1-d parameters (biases, BatchNorm) get neither decay nor adaptation."""

    def __init__(self, params, lr, momentum=0.9, weight_decay=0.0, eta=0.02, clip_lr=True, exclude_bias_n_norm=True,
                 eps=1e-8):
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eta=eta, clip_lr=clip_lr,
                        exclude_bias_n_norm=exclude_bias_n_norm, eps=eps)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, wd, eta, eps = group["lr"], group["weight_decay"], group["eta"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad
                if p.ndim > 1 or not group["exclude_bias_n_norm"]:
                    if wd != 0:
                        d_p = d_p.add(p, alpha=wd)
                    w_norm = torch.linalg.vector_norm(p)
                    g_norm = torch.linalg.vector_norm(p.grad)
                    trust = eta * w_norm / (g_norm + wd * w_norm + eps)
                    if group["clip_lr"]:
                        trust = torch.clamp(trust / lr, max=1.0)
                    trust = torch.where((w_norm > 0) & (g_norm > 0), trust, torch.ones_like(trust))
                    d_p = d_p * trust
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    state["momentum_buffer"] = buf = d_p.clone()
                else:
                    buf.mul_(group["momentum"]).add_(d_p)
                p.add_(buf, alpha=-lr)
        return loss


def warmup_cosine_lr(base_lr, step, warmup_steps, total_steps):
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    decay_steps = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * progress))


# ---------------------------------------------------------------------------------------------------------
# Command line


class ArgumentError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ArgumentError(message)


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def nonnegative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def positive_float(text):
    value = float(text)
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def nonnegative_float(text):
    value = float(text)
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def image_shape(text):
    parts = text.lower().split("x")
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected CxHxW such as 1x28x28 or 3x32x32, got '{text}'")
    return shape


def parse_args(argv):
    p = Parser(prog="python_reference.py", description=__doc__.split("\n")[0])
    p.add_argument("--backbone", choices=["convnet", "resnet18"], required=True)
    p.add_argument("--method", choices=["simclr"], default="simclr")
    p.add_argument("--sem", choices=["off", "on"], default="on")
    p.add_argument("--L", type=positive_int, default=5000, help="simplices")
    p.add_argument("--V", type=positive_int, default=13, help="vertices per simplex")
    p.add_argument("--tau", type=positive_float, default=1.0, help="SEM temperature of both views")
    p.add_argument("--batch", type=positive_int, default=256)
    p.add_argument("--image", type=image_shape, default=None, help="CxHxW; default 1x28x28 (convnet), 3x32x32")
    p.add_argument("--steps", type=positive_int, default=20, help="timed training steps")
    p.add_argument("--warmup", type=nonnegative_int, default=3, help="untimed steps first (compile happens here)")
    p.add_argument("--threads", type=positive_int, default=2)
    p.add_argument("--mode", choices=["eager", "compile"], default="eager")
    p.add_argument("--json", action="store_true", help="stdout: one JSON line")
    p.add_argument("--count-flops", action="store_true",
                   help="eager only: count the FLOPs of one extra untimed step (torch.utils.flop_counter), in all "
                        "and in the backbone")
    # The harness's defaults (harness/config/config_keys.cpp, experiments/quick.ini) for the rest.
    p.add_argument("--optimizer", choices=["lars", "sgd"], default="lars",
                   help="lars (the paper's SimCLR) or sgd (the harness's config default)")
    p.add_argument("--lr", type=positive_float, default=0.3)
    p.add_argument("--wd", type=nonnegative_float, default=1e-5)
    p.add_argument("--lars-eta", type=positive_float, default=0.02)
    p.add_argument("--lars-clip", choices=["on", "off"], default="on")
    p.add_argument("--grad-clip", type=nonnegative_float, default=0.0, help="global gradient L2 norm; 0: off")
    p.add_argument("--proj-hidden", type=positive_int, default=512)
    p.add_argument("--proj-out", type=positive_int, default=128)
    p.add_argument("--simclr-temperature", type=positive_float, default=0.2)
    p.add_argument("--online-lr", type=positive_float, default=0.1)
    p.add_argument("--classes", type=positive_int, default=10, help="online classifier outputs")
    p.add_argument("--width", type=positive_float, default=1.0, help="backbone channel multiplier")
    p.add_argument("--stem-padding", type=nonnegative_int, default=2, help="ResNet-18 stem padding")
    p.add_argument("--seed", type=nonnegative_int, default=0)
    args = p.parse_args(argv)
    if args.image is None:
        args.image = (1, 28, 28) if args.backbone == "convnet" else (3, 32, 32)
    if args.batch < 2:
        p.error("--batch must be >= 2 (BatchNorm and NT-Xent need two images)")
    if args.mode == "compile" and args.count_flops:
        p.error("--count-flops needs --mode eager (the counter runs the eager model)")
    if args.mode == "compile" and args.warmup < 1:
        p.error("--mode compile needs --warmup >= 1 (compilation happens in the untimed steps)")
    return args


# ---------------------------------------------------------------------------------------------------------
# The race


class CompileFailed(Exception):
    pass


def build(args):
    c, _, _ = args.image
    backbone = make_backbone(args.backbone, c, args.width, args.stem_padding)
    sem = SEM(backbone.output_dim, args.L, args.V) if args.sem == "on" else None
    projector_in = sem.output_dim if sem is not None else backbone.output_dim
    projector = MLPHead(projector_in, args.proj_hidden, args.proj_out, layers=2, batch_norm=False)
    method = SimCLR(Encoder(backbone, sem, projector), args.simclr_temperature, args.tau, args.tau)
    classifier = nn.Linear(backbone.output_dim, args.classes)
    return method, classifier


def run(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    method, classifier = build(args)
    method.train()
    classifier.train()
    params = [p for p in method.parameters() if p.requires_grad]
    if args.optimizer == "lars":
        optimizer = LARS(params, lr=args.lr, momentum=0.9, weight_decay=args.wd, eta=args.lars_eta,
                         clip_lr=args.lars_clip == "on")
    else:
        optimizer = torch.optim.SGD(params, lr=args.lr, momentum=0.9, weight_decay=args.wd)
    classifier_sgd = torch.optim.SGD(classifier.parameters(), lr=args.online_lr, momentum=0.9)

    # Two fixed views and labels, made once: the race times the training step, not augmentation.
    generator = torch.Generator().manual_seed(args.seed + 1)
    view1 = torch.randn(args.batch, *args.image, generator=generator)
    view2 = torch.randn(args.batch, *args.image, generator=generator)
    labels = torch.randint(0, args.classes, (args.batch,), generator=generator)

    def forward_loss(view1, view2, labels):
        loss, h1 = method(view1, view2)
        logits = classifier(h1.detach())
        online_loss = F.cross_entropy(logits, labels)
        correct = (logits.argmax(1) == labels).sum()
        return loss, online_loss, correct

    step_fn = torch.compile(forward_loss) if args.mode == "compile" else forward_loss

    loss_sum = torch.zeros(())
    online_correct = torch.zeros((), dtype=torch.long)
    total_steps = args.warmup + args.steps + (1 if args.count_flops else 0)

    def train_step(step):
        nonlocal loss_sum, online_correct
        lr = warmup_cosine_lr(args.lr, step, 0, total_steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        for group in classifier_sgd.param_groups:
            group["lr"] = args.online_lr * lr / args.lr
        loss, online_loss, correct = step_fn(view1, view2, labels)
        online_correct += correct
        optimizer.zero_grad(set_to_none=True)
        classifier_sgd.zero_grad(set_to_none=True)
        # One backward call for both losses: the classifier reads a detached feature, so the two graphs are
        # disjoint (pretrain.cpp calls backward twice; a compiled graph with both outputs can run backward once).
        torch.autograd.backward([loss, online_loss])
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, args.grad_clip)  # returns a tensor: no host sync
        optimizer.step()
        classifier_sgd.step()
        loss_sum += loss.detach()

    def timed(step):
        start = time.perf_counter()
        train_step(step)
        return (time.perf_counter() - start) * 1e3

    warmup_ms = []
    for step in range(args.warmup):
        try:
            warmup_ms.append(timed(step))
        except Exception as error:  # noqa: BLE001
            if args.mode == "compile":  # the eager step is the same code: a failure here is the compiler's
                raise CompileFailed(one_line_reason(error)) from error
            raise
    flops = {}
    if args.count_flops:
        from torch.utils.flop_counter import FlopCounterMode
        counter = FlopCounterMode(display=False)
        with counter:
            train_step(args.warmup)
        # The backbone alone, forward and backward on both views (what semharness times as the backbone step),
        # counted on its own: the per-module split of a whole step attributes backward ops only roughly.
        backbone = method.online.backbone
        backbone_counter = FlopCounterMode(display=False)
        with backbone_counter:
            (backbone(view1).sum() + backbone(view2).sum()).backward()
        optimizer.zero_grad(set_to_none=True)
        flops = {"flops_per_step": counter.get_total_flops(),
                 "backbone_flops_per_step": backbone_counter.get_total_flops()}
    graphs_before = compiled_graphs()
    step_ms = [timed(args.warmup + s) for s in range(args.steps)]
    recompiled = compiled_graphs() - graphs_before
    if recompiled:
        print(f"python_reference: warning: {recompiled} graph(s) compiled during the timed steps", file=sys.stderr)

    # Read once at the end, as pretrain.cpp reads its epoch totals.
    mean_loss = loss_sum.item() / total_steps
    if not math.isfinite(mean_loss):
        print(f"python_reference: warning: training loss became {mean_loss}", file=sys.stderr)

    median_ms = statistics.median(step_ms)
    compile_s = 0.0
    if args.mode == "compile":
        compile_s = sum(max(0.0, ms - median_ms) for ms in warmup_ms) / 1e3
    return {
        "impl": "python-" + args.mode,
        "backbone": args.backbone,
        "method": args.method,
        "sem": args.sem,
        "L": args.L,
        "V": args.V,
        "tau": args.tau,
        "batch": args.batch,
        "image": "x".join(str(d) for d in args.image),
        "threads": args.threads,
        "steps": args.steps,
        "warmup": args.warmup,
        "optimizer": args.optimizer,
        "proj_hidden": args.proj_hidden,
        "proj_out": args.proj_out,
        "step_ms": [round(ms, 3) for ms in step_ms],
        "warmup_ms": [round(ms, 3) for ms in warmup_ms],
        "median_step_ms": round(median_ms, 3),
        "images_per_second": round(args.batch / (median_ms / 1e3), 3),
        "compile_s": round(compile_s, 3),
        "recompiles_timed": recompiled,
        "mean_loss": mean_loss if math.isfinite(mean_loss) else None,  # JSON has no NaN (semharness parses it)
        "parameters": sum(p.numel() for p in params),
        "torch": torch.__version__,
        **flops,
    }


def one_line_reason(error):
    """The innermost cause of an exception as 'Type: first line of its message'."""
    seen = set()
    while id(error) not in seen:
        seen.add(id(error))
        inner = getattr(error, "inner_exception", None) or error.__cause__
        if inner is None:
            break
        error = inner
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else '(no message)'}"


def compiled_graphs():
    try:
        from torch._dynamo.utils import counters
        return int(counters["stats"]["unique_graphs"])
    except Exception:  # noqa: BLE001
        return 0


def main(argv):
    try:
        args = parse_args(argv)
    except ArgumentError as error:
        print(f"python_reference.py: bad arguments: {error}", file=sys.stderr)
        return 2
    real_stdout = sys.stdout
    try:
        # Nothing but the result reaches stdout (compilers and libraries may print).
        with contextlib.redirect_stdout(sys.stderr):
            result = run(args)
    except CompileFailed as error:
        print(f"python_reference.py: torch.compile failed: {error}", file=sys.stderr)
        return 3
    if args.json:
        print(json.dumps(result), file=real_stdout, flush=True)
    else:
        print(f"{result['impl']} {result['backbone']} sem={result['sem']} L={result['L']} V={result['V']} "
              f"batch={result['batch']} threads={result['threads']}: median {result['median_step_ms']:.1f} ms/step, "
              f"{result['images_per_second']:.1f} images/s, compile {result['compile_s']:.1f} s", file=real_stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
