"""The same DCGAN shapes and WGAN iteration as `hitogata bench --device cpu`, in PyTorch eager,
for a side-by-side comparison on one machine (scripts/bench-vs-pytorch.sh runs both in turn).

Generator: z (40) -> ConvT 4x4 (8 ngf) -> BN ReLU -> three ConvT 4x4 stride 2 (4, 2, 1 ngf) each
BN ReLU -> ConvT to 3 channels -> tanh. Critic (WGAN, no BatchNorm): four Conv 4x4 stride 2
(ndf, 2, 4, 8 ndf) with LeakyReLU 0.2 -> Conv 4x4 to 1 (with bias). One WGAN iteration: 5
critic steps (RMSProp 5e-5, weights clipped to +-0.01) + 1 generator step, batch 64: 384
generated pictures, as hitogata counts them.

Prints the same table as `hitogata bench`: | device | ngf | G batch 1 (ms) | G batch 16 (ms) |
train s/iter | train img/s |. `--device cuda` measures on an NVIDIA GPU (convolutions in TF32,
PyTorch's default, unless `--no-tf32`); `--profile` adds the table of `hitogata bench --profile`:
each convolution at the training shapes, forward and with both gradients. Every iteration reads
its losses back (`.item()`, as the tutorial's loop and hitogata's do). PyTorch is a benchmark
dependency only.
"""
import argparse
import statistics
import time
import warnings

# The bench reads pictures back as a uint8 tensor; NumPy is not needed.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402
from torch import nn
from torch.nn import functional as F

LATENT = 40


def generator(ngf):
    def up(i, o, first=False):
        return nn.ConvTranspose2d(i, o, 4, 1 if first else 2, 0 if first else 1, bias=False)

    return nn.Sequential(
        up(LATENT, 8 * ngf, True), nn.BatchNorm2d(8 * ngf), nn.ReLU(True),
        up(8 * ngf, 4 * ngf), nn.BatchNorm2d(4 * ngf), nn.ReLU(True),
        up(4 * ngf, 2 * ngf), nn.BatchNorm2d(2 * ngf), nn.ReLU(True),
        up(2 * ngf, ngf), nn.BatchNorm2d(ngf), nn.ReLU(True),
        up(ngf, 3), nn.Tanh(),
    )


def critic(ndf):
    def down(i, o):
        return nn.Conv2d(i, o, 4, 2, 1, bias=False)

    return nn.Sequential(
        down(3, ndf), nn.LeakyReLU(0.2, True),
        down(ndf, 2 * ndf), nn.LeakyReLU(0.2, True),
        down(2 * ndf, 4 * ndf), nn.LeakyReLU(0.2, True),
        down(4 * ndf, 8 * ndf), nn.LeakyReLU(0.2, True),
        nn.Conv2d(8 * ndf, 1, 4, 1, 0, bias=True),
    )


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def forward_ms(g, batch, runs, dev):
    g.eval()
    times = []
    with torch.no_grad():
        for _ in range(runs + 3):
            z = torch.randn(batch, LATENT, 1, 1, device=dev)
            sync(dev)
            t = time.perf_counter()
            x = g(z)
            # As hitogata does: the pictures as bytes, read back.
            ((x + 1) * 127.5).clamp(0, 255).to(torch.uint8).contiguous().cpu()
            times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times[3:])


def train_rate(ngf, batch, iters, dev):
    g, d = generator(ngf).to(dev), critic(ngf).to(dev)
    g.train()
    opt_g = torch.optim.RMSprop(g.parameters(), lr=5e-5)
    opt_d = torch.optim.RMSprop(d.parameters(), lr=5e-5)
    data = torch.rand(256, 3, 64, 64, device=dev) * 2 - 1

    def iteration():
        for _ in range(5):
            real = data[torch.randint(0, 256, (batch,), device=dev)]
            with torch.no_grad():
                fake = g(torch.randn(batch, LATENT, 1, 1, device=dev))
            loss = d(fake).mean() - d(real).mean()
            opt_d.zero_grad(set_to_none=True)
            loss.backward()
            opt_d.step()
            with torch.no_grad():
                for p in d.parameters():
                    p.clamp_(-0.01, 0.01)
        errD = loss.item()
        loss = -d(g(torch.randn(batch, LATENT, 1, 1, device=dev))).mean()
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
        return errD, loss.item()

    iteration()
    sync(dev)
    t = time.perf_counter()
    for _ in range(iters):
        iteration()
    sync(dev)
    per_iter = (time.perf_counter() - t) / iters
    return per_iter, 6 * batch / per_iter


# (name, transposed, channels in, channels out, input size, stride, padding): the
# convolutions of `hitogata bench --profile`, in the order they run.
def layers(ngf, ndf):
    g, d = ngf, ndf
    return [
        ("G1", True, LATENT, 8 * g, 1, 1, 0), ("G2", True, 8 * g, 4 * g, 4, 2, 1),
        ("G3", True, 4 * g, 2 * g, 8, 2, 1), ("G4", True, 2 * g, g, 16, 2, 1),
        ("G5", True, g, 3, 32, 2, 1),
        ("D1", False, 3, d, 64, 2, 1), ("D2", False, d, 2 * d, 32, 2, 1),
        ("D3", False, 2 * d, 4 * d, 16, 2, 1), ("D4", False, 4 * d, 8 * d, 8, 2, 1),
        ("D5", False, 8 * d, 1, 4, 1, 0),
    ]


def timed_ms(work, runs, dev):
    """Median milliseconds of `work` (CUDA events on a GPU), after one warm-up."""
    times = []
    for _ in range(runs + 1):
        if dev.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            work()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        else:
            t = time.perf_counter()
            work()
            times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times[1:])


def layer_table(ngf, batch, runs, dev):
    print()
    print(f"pytorch on {dev}, ngf {ngf}, batch {batch}:")
    print()
    print("| layer | input → output | forward (ms) | forward GFLOP/s | both gradients (ms) | "
          "gradients GFLOP/s |")
    print("|---|---|---|---|---|---|")
    for name, transposed, cin, cout, size, stride, pad in layers(ngf, ngf):
        x = torch.randn(batch, cin, size, size, device=dev) * 0.02
        shape_w = (cin, cout, 4, 4) if transposed else (cout, cin, 4, 4)
        w = torch.randn(*shape_w, device=dev) * 0.02
        conv = F.conv_transpose2d if transposed else F.conv2d

        def apply(x, w):
            return conv(x, w, None, stride, pad)

        size_out = (size - 1) * stride + 4 - 2 * pad if transposed else (size + 2 * pad - 4) // stride + 1
        pixels = size if transposed else size_out
        flops = 2.0 * batch * pixels * pixels * cin * cout * 16
        with torch.no_grad():
            forward = timed_ms(lambda: apply(x, w), runs, dev)
        xg, wg = x.clone().requires_grad_(), w.clone().requires_grad_()
        both = timed_ms(lambda: torch.autograd.grad(apply(xg, wg).sum(), (xg, wg)), runs, dev)
        backward = max(both - forward, 1e-6)
        print(f"| {name} | {cin}×{size}² → {cout}×{size_out}² | {forward:.3f} | "
              f"{flops / forward / 1e6:.0f} | {backward:.3f} | {2 * flops / backward / 1e6:.0f} |")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ngf", default="64,32")
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--train-iters", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--no-tf32", action="store_true", help="full FP32 convolutions on a GPU")
    p.add_argument("--profile", action="store_true", help="time each convolution too")
    a = p.parse_args()
    torch.manual_seed(0)
    dev = torch.device(a.device)
    torch.backends.cudnn.allow_tf32 = not a.no_tf32
    if dev.type == "cuda":
        where = f"{torch.cuda.get_device_name(dev)}{', no TF32' if a.no_tf32 else ''}"
    else:
        where = f"{torch.get_num_threads()} threads"
    print(f"| device | ngf | G batch 1 (ms) | G batch 16 (ms) | train s/iter | train img/s |")
    print("|---|---|---|---|---|---|")
    for ngf in [int(n) for n in a.ngf.split(",")]:
        g = generator(ngf).to(dev)
        b1 = forward_ms(g, 1, a.runs, dev)
        b16 = forward_ms(g, 16, -(-a.runs // 3), dev)
        per_iter, rate = train_rate(ngf, a.batch_size, a.train_iters, dev)
        print(f"| pytorch {torch.__version__} ({where}) | {ngf} | "
              f"{b1:.2f} | {b16:.2f} | {per_iter:.2f} | {rate:.0f} |", flush=True)
    if a.profile:
        for ngf in [int(n) for n in a.ngf.split(",")]:
            layer_table(ngf, a.batch_size, max(a.train_iters, 3), dev)


if __name__ == "__main__":
    main()
