"""The same DCGAN shapes and WGAN iteration as `hitogata bench --device cpu`, in PyTorch eager,
for a side-by-side comparison on one machine (scripts/bench-vs-pytorch.sh runs both in turn).

Generator: z (40) -> ConvT 4x4 (8 ngf) -> BN ReLU -> three ConvT 4x4 stride 2 (4, 2, 1 ngf) each
BN ReLU -> ConvT to 3 channels -> tanh. Critic (WGAN, no BatchNorm): four Conv 4x4 stride 2
(ndf, 2, 4, 8 ndf) with LeakyReLU 0.2 -> Conv 4x4 to 1 (with bias). One WGAN iteration: 5
critic steps (RMSProp 5e-5, weights clipped to +-0.01) + 1 generator step, batch 64: 384
generated pictures, as hitogata counts them.

Prints the same table as `hitogata bench`: | device | ngf | G batch 1 (ms) | G batch 16 (ms) |
train s/iter | train img/s |. PyTorch is a benchmark dependency only.
"""
import argparse
import statistics
import time
import warnings

# The bench reads pictures back as a uint8 tensor; NumPy is not needed.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402
from torch import nn

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


def forward_ms(g, batch, runs):
    g.eval()
    times = []
    with torch.no_grad():
        for _ in range(runs + 1):
            z = torch.randn(batch, LATENT, 1, 1)
            t = time.perf_counter()
            x = g(z)
            # As hitogata does: the pictures as bytes.
            ((x + 1) * 127.5).clamp(0, 255).to(torch.uint8).contiguous()
            times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times[1:])


def train_rate(ngf, batch, iters):
    g, d = generator(ngf), critic(ngf)
    g.train()
    opt_g = torch.optim.RMSprop(g.parameters(), lr=5e-5)
    opt_d = torch.optim.RMSprop(d.parameters(), lr=5e-5)
    data = torch.rand(256, 3, 64, 64) * 2 - 1

    def iteration():
        for _ in range(5):
            real = data[torch.randint(0, 256, (batch,))]
            with torch.no_grad():
                fake = g(torch.randn(batch, LATENT, 1, 1))
            loss = d(fake).mean() - d(real).mean()
            opt_d.zero_grad(set_to_none=True)
            loss.backward()
            opt_d.step()
            with torch.no_grad():
                for p in d.parameters():
                    p.clamp_(-0.01, 0.01)
        loss = -d(g(torch.randn(batch, LATENT, 1, 1))).mean()
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()

    iteration()
    t = time.perf_counter()
    for _ in range(iters):
        iteration()
    per_iter = (time.perf_counter() - t) / iters
    return per_iter, 6 * batch / per_iter


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ngf", default="64,32")
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--train-iters", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    a = p.parse_args()
    torch.manual_seed(0)
    print(f"| device | ngf | G batch 1 (ms) | G batch 16 (ms) | train s/iter | train img/s |")
    print("|---|---|---|---|---|---|")
    for ngf in [int(n) for n in a.ngf.split(",")]:
        g = generator(ngf)
        b1 = forward_ms(g, 1, a.runs)
        b16 = forward_ms(g, 16, -(-a.runs // 3))
        per_iter, rate = train_rate(ngf, a.batch_size, a.train_iters)
        print(f"| pytorch {torch.__version__} ({torch.get_num_threads()} threads) | {ngf} | "
              f"{b1:.2f} | {b16:.2f} | {per_iter:.2f} | {rate:.0f} |", flush=True)


if __name__ == "__main__":
    main()
