#!/usr/bin/env python3
"""Writes the PyTorch checkpoints hitogata's import tests read, with PyTorch's own pictures
and critic scores for fixed z (tests/fixtures/pytorch/). A development tool: the tests read
what it wrote and never need Python.

The two code bases almost every DCGAN was trained with, copied as they define their models:
- pytorch/examples dcgan/main.py (the PyTorch DCGAN tutorial's): nn.Sequential, keys main.N.*
- martinarjovsky/WassersteinGAN models/dcgan.py: named modules (main.initial.*, main.pyramid.*,
  main.extra-layers-*, main.final.*), any size a multiple of 16, _nobn variants.
WassersteinGAN's 2017 code named its modules with '.', which PyTorch has since refused; forks
use ':'. Both spellings are written here.

    ~/.cache/hitogata-torch-venv/bin/python scripts/pytorch_fixtures.py [OUT_DIR]
    .../python scripts/pytorch_fixtures.py --check-export netG.pth [NAME.expected.pth]
    .../python scripts/pytorch_fixtures.py --fuzz-seeds [fuzz/seeds/pytorch]
"""

import os
import sys
from collections import OrderedDict

import torch
import torch.nn as nn

Z_COUNT = 3


# --- pytorch/examples dcgan/main.py -------------------------------------------------------
class ExamplesGenerator(nn.Module):
    def __init__(self, nz, ngf, nc):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


class ExamplesDiscriminator(nn.Module):
    def __init__(self, ndf, nc):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x)

    def score(self, x):
        """The logit before the Sigmoid: hitogata's critic score for a DCGAN discriminator."""
        return self.main[:-1](x).view(-1)


# --- martinarjovsky/WassersteinGAN models/dcgan.py ----------------------------------------
def wgan_generator(isize, nz, nc, ngf, n_extra_layers=0, bn=True):
    cngf, tisize = ngf // 2, 4
    while tisize != isize:
        cngf, tisize = cngf * 2, tisize * 2
    main = nn.Sequential()
    main.add_module(f"initial:{nz}-{cngf}:convt", nn.ConvTranspose2d(nz, cngf, 4, 1, 0, bias=False))
    if bn:
        main.add_module(f"initial:{cngf}:batchnorm", nn.BatchNorm2d(cngf))
    main.add_module(f"initial:{cngf}:relu", nn.ReLU(True))
    csize = 4
    while csize < isize // 2:
        main.add_module(f"pyramid:{cngf}-{cngf // 2}:convt", nn.ConvTranspose2d(cngf, cngf // 2, 4, 2, 1, bias=False))
        if bn:
            main.add_module(f"pyramid:{cngf // 2}:batchnorm", nn.BatchNorm2d(cngf // 2))
        main.add_module(f"pyramid:{cngf // 2}:relu", nn.ReLU(True))
        cngf, csize = cngf // 2, csize * 2
    for t in range(n_extra_layers):
        main.add_module(f"extra-layers-{t}:{cngf}:conv", nn.Conv2d(cngf, cngf, 3, 1, 1, bias=False))
        if bn:
            main.add_module(f"extra-layers-{t}:{cngf}:batchnorm", nn.BatchNorm2d(cngf))
        main.add_module(f"extra-layers-{t}:{cngf}:relu", nn.ReLU(True))
    main.add_module(f"final:{cngf}-{nc}:convt", nn.ConvTranspose2d(cngf, nc, 4, 2, 1, bias=False))
    main.add_module(f"final:{nc}:tanh", nn.Tanh())
    return Wrapped(main)


def wgan_critic(isize, nc, ndf, n_extra_layers=0, bn=True):
    main = nn.Sequential()
    main.add_module(f"initial:conv:{nc}-{ndf}", nn.Conv2d(nc, ndf, 4, 2, 1, bias=False))
    main.add_module(f"initial:relu:{ndf}", nn.LeakyReLU(0.2, inplace=True))
    csize, cndf = isize / 2, ndf
    for t in range(n_extra_layers):
        main.add_module(f"extra-layers-{t}:{cndf}:conv", nn.Conv2d(cndf, cndf, 3, 1, 1, bias=False))
        if bn:
            main.add_module(f"extra-layers-{t}:{cndf}:batchnorm", nn.BatchNorm2d(cndf))
        main.add_module(f"extra-layers-{t}:{cndf}:relu", nn.LeakyReLU(0.2, inplace=True))
    while csize > 4:
        main.add_module(f"pyramid:{cndf}-{cndf * 2}:conv", nn.Conv2d(cndf, cndf * 2, 4, 2, 1, bias=False))
        if bn:
            main.add_module(f"pyramid:{cndf * 2}:batchnorm", nn.BatchNorm2d(cndf * 2))
        main.add_module(f"pyramid:{cndf * 2}:relu", nn.LeakyReLU(0.2, inplace=True))
        cndf, csize = cndf * 2, csize / 2
    main.add_module(f"final:{cndf}-1:conv", nn.Conv2d(cndf, 1, 4, 1, 0, bias=False))
    return Wrapped(main)


class Wrapped(nn.Module):
    def __init__(self, main):
        super().__init__()
        self.main = main

    def forward(self, x):
        return self.main(x)

    def score(self, x):
        # WGAN's critic returns the batch mean; each picture's own score is before it.
        return self.main(x).view(-1)


# --- writing ------------------------------------------------------------------------------
def settle_batch_norm(model, shape, generator):
    """A few forward passes in training mode, so the running statistics are not the 0/1 a
    fresh BatchNorm has (which would hide a swapped mean and variance)."""
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(*shape, generator=generator))
    model.eval()


def he_init(model, generator):
    """N(0, 2/fan-in) convolution weights, fan-in counting the taps that reach one output."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.ConvTranspose2d):
                taps = 1 if m.stride[0] == 1 else (m.kernel_size[0] // m.stride[0]) ** 2
                fan = m.in_channels * taps
            elif isinstance(m, nn.Conv2d):
                fan = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
            else:
                continue
            m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * (2.0 / fan) ** 0.5)


def perturb(model, generator):
    """BatchNorm's weight and bias away from 1 and 0, for the same reason."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.add_(0.3 * torch.randn(m.weight.shape, generator=generator))
                m.bias.add_(0.3 * torch.randn(m.bias.shape, generator=generator))


def rename(state, spelling, prefix):
    out = OrderedDict()
    for key, value in state.items():
        if spelling == ".":
            key = key.replace(":", ".")
        out[prefix + key] = value
    return out


def write_case(out_dir, name, make_g, make_d, nz, isize, nc, seed, *, spelling=":", prefix="",
               container=None, legacy=False):
    # He initialisation rather than DCGAN's N(0, 0.02): at these small widths that would draw
    # nearly the same flat picture for every z, and a test could not tell z apart.
    netg, netd = make_g(), make_d()
    g = torch.Generator().manual_seed(seed)
    for model in (netg, netd):
        he_init(model, g)
        perturb(model, g)
    settle_batch_norm(netg, (8, nz, 1, 1), g)
    settle_batch_norm(netd, (8, nc, isize, isize), g)
    z = torch.randn(Z_COUNT, nz, generator=g)
    with torch.no_grad():
        pictures = netg(z.view(Z_COUNT, nz, 1, 1))
        scores = netd.score(pictures)
    kwargs = {} if not legacy else {"_use_new_zipfile_serialization": False}
    for role, model in (("netG", netg), ("netD", netd)):
        state = rename(model.state_dict(), spelling, prefix)
        saved = state if container is None else {container.format(role=role): state, "epoch": 7}
        torch.save(saved, os.path.join(out_dir, f"{name}.{role}.pth"), **kwargs)
    expected = {"z": z, "pictures": pictures, "scores": scores}
    torch.save(expected, os.path.join(out_dir, f"{name}.expected.pth"))
    spread = pictures.std(dim=0).mean().item()
    print(f"{name}: pictures {tuple(pictures.shape)} (spread over z {spread:.3f}, "
          f"range {pictures.min().item():.2f}..{pictures.max().item():.2f}), scores {scores.tolist()}")


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    # The tutorial's layout: 64 px colour, nz 100 (its default), a width of 4 to stay small.
    write_case(out_dir, "examples-nz100-64-rgb", lambda: ExamplesGenerator(100, 4, 3),
               lambda: ExamplesDiscriminator(4, 3), 100, 64, 3, seed=1)
    # Trained with nn.DataParallel (module. prefix), grey (MNIST), saved inside a dict.
    write_case(out_dir, "examples-nz40-64-grey-dataparallel", lambda: ExamplesGenerator(40, 4, 1),
               lambda: ExamplesDiscriminator(4, 1), 40, 64, 1, seed=2, prefix="module.",
               container="{role}")
    # WassersteinGAN 2017 as released: '.' in names, the pre-1.6 (legacy) container, CIFAR's 32 px.
    write_case(out_dir, "wgan-nz100-32-rgb-legacy", lambda: wgan_generator(32, 100, 3, 8),
               lambda: wgan_critic(32, 3, 8), 100, 32, 3, seed=3, spelling=".", legacy=True)
    # A fork's ':' names, no BatchNorm (the _nobn models), grey, 128 px, one extra layer.
    write_case(out_dir, "wgan-nz40-128-grey-nobn-extra1",
               lambda: wgan_generator(128, 40, 1, 2, n_extra_layers=1, bn=False),
               lambda: wgan_critic(128, 1, 2, n_extra_layers=1, bn=False), 40, 128, 1, seed=4,
               container="state_dict")
    # BatchNorm and an extra layer at 64 px, with DataParallel's prefix.
    write_case(out_dir, "wgan-nz40-64-rgb-extra1", lambda: wgan_generator(64, 40, 3, 4, n_extra_layers=1),
               lambda: wgan_critic(64, 3, 4, n_extra_layers=1), 40, 64, 3, seed=5, prefix="module.")
    # Broken on purpose: the third convolution one feature map too wide.
    state = ExamplesGenerator(10, 2, 3).state_dict()
    state["main.6.weight"] = torch.zeros(8, 5, 4, 4)
    torch.save(state, os.path.join(out_dir, "broken-width.netG.pth"))


def fuzz_seeds(out_dir):
    """The smallest valid files of each container, for the `pytorch` fuzz target to mutate."""
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(6)
    both = {"netG": ExamplesGenerator(2, 1, 1).state_dict(),
            "netD": ExamplesDiscriminator(1, 1).state_dict()}
    torch.save(both, os.path.join(out_dir, "examples-zip-both.pth"))
    legacy = rename(wgan_generator(32, 2, 1, 2, bn=False).state_dict(), ".", "")
    torch.save(legacy, os.path.join(out_dir, "wgan-legacy.pth"), _use_new_zipfile_serialization=False)


def check_export(path, expected=None):
    """Loads an `export --pytorch` file into the tutorial's Generator, strictly (sizes read
    from its first and last weights); with the `.expected.pth` of the model it was imported
    from, compares the pictures for the same z too."""
    state = torch.load(path, weights_only=True)
    first, last = state["main.0.weight"], state[max((k for k in state if k.endswith(".weight")),
                                                     key=lambda k: int(k.split(".")[1]))]
    nz, ngf, nc = first.shape[0], first.shape[1] // 8, last.shape[1]
    netg = ExamplesGenerator(nz, ngf, nc)
    netg.load_state_dict(state, strict=True)
    netg.eval()
    print(f"{path}: the tutorial's Generator(nz={nz}, ngf={ngf}, nc={nc}) loads it strictly")
    if expected:
        want = torch.load(expected, weights_only=True)
        with torch.no_grad():
            got = netg(want["z"].reshape(-1, nz, 1, 1))
        error = (got - want["pictures"]).abs().max().item()
        print(f"  pictures for {expected}'s z: max |difference| {error:.2e}")
        if error > 1e-4:
            sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--check-export":
        check_export(*sys.argv[2:4])
    elif len(sys.argv) > 1 and sys.argv[1] == "--fuzz-seeds":
        fuzz_seeds(sys.argv[2] if len(sys.argv) > 2 else "fuzz/seeds/pytorch")
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/pytorch")
