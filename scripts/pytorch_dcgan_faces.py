#!/usr/bin/env python3
"""Trains PyTorch's DCGAN tutorial model on the shipped faces, as a PyTorch user would, and
saves what that tutorial saves: netG_epoch_N.pth and netD_epoch_N.pth (state dicts). hitogata
ships the result (checkpoints/pytorch-faces) to show and test opening a model trained in
PyTorch; a development tool, never needed to build or test hitogata.

The model and loop are the tutorial's (pytorch/examples dcgan/main.py): nz 100, Adam 2e-4
(beta1 0.5), BCE, N(0, 0.02) weights, batch 128; ngf = ndf = 32 rather than 64 to train on a
laptop CPU. Pictures are read with a small PNG decoder below (the shipped faces are 64x64
palette PNGs), so that only torch is needed. Also writes expected.pth: PyTorch's own pictures
for fixed z, which hitogata's test compares with its own.

    ~/.cache/hitogata-torch-venv/bin/python scripts/pytorch_dcgan_faces.py EPOCHS OUT_DIR
"""

import os
import struct
import sys
import time
import zlib

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from pytorch_fixtures import ExamplesDiscriminator, ExamplesGenerator  # noqa: E402


def read_palette_png(path):
    """An 8-bit palette or RGB(A), non-interlaced PNG as a [3, H, W] uint8 tensor (alpha onto white)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, palette, alpha = 8, b"", None, None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and colour in (2, 3, 6), (path, depth, colour)
        elif kind == b"PLTE":
            palette = [tuple(body[i:i + 3]) for i in range(0, len(body), 3)]
        elif kind == b"tRNS":
            alpha = list(body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = {2: 3, 3: 1, 6: 4}[colour]
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    pixels = []
    for line in rows:
        for x in range(width):
            if colour == 3:
                i = line[x]
                r, g, b = palette[i]
                t = alpha[i] if alpha and i < len(alpha) else 255
            else:
                r, g, b = line[x * bpp:x * bpp + 3]
                t = line[x * bpp + 3] if colour == 6 else 255
            pixels.append([(v * t + 255 * (255 - t)) // 255 for v in (r, g, b)])
    return torch.tensor(pixels, dtype=torch.uint8).view(height, width, 3).permute(2, 0, 1)


def weights_init(m):
    # The tutorial's.
    name = m.__class__.__name__
    if name.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif name.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


def main(epochs, out_dir, data_dir="assets/datasets/faces"):
    torch.manual_seed(999)
    os.makedirs(out_dir, exist_ok=True)
    names = sorted(n for n in os.listdir(data_dir) if n.endswith(".png"))
    started = time.time()
    images = torch.stack([read_palette_png(os.path.join(data_dir, n)) for n in names])
    data = images.float() / 127.5 - 1.0
    print(f"{len(names)} pictures read in {time.time() - started:.0f} s")
    nz, ngf, ndf, batch = 100, 32, 32, 128
    netG, netD = ExamplesGenerator(nz, ngf, 3), ExamplesDiscriminator(ndf, 3)
    netG.apply(weights_init)
    netD.apply(weights_init)
    criterion = nn.BCELoss()
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for epoch in range(epochs):
        order = torch.randperm(len(data))
        for i in range(0, len(data) - batch + 1, batch):
            real = data[order[i:i + batch]]
            netD.zero_grad()
            label = torch.full((batch,), 1.0)
            errD_real = criterion(netD(real).view(-1), label)
            errD_real.backward()
            noise = torch.randn(batch, nz, 1, 1)
            fake = netG(noise)
            label.fill_(0.0)
            errD_fake = criterion(netD(fake.detach()).view(-1), label)
            errD_fake.backward()
            optD.step()
            netG.zero_grad()
            label.fill_(1.0)
            errG = criterion(netD(fake).view(-1), label)
            errG.backward()
            optG.step()
        print(f"epoch {epoch + 1}/{epochs}: loss D {(errD_real + errD_fake).item():.3f}, "
              f"loss G {errG.item():.3f}, {time.time() - started:.0f} s", flush=True)
    last = epochs - 1
    torch.save(netG.state_dict(), os.path.join(out_dir, f"netG_epoch_{last}.pth"))
    torch.save(netD.state_dict(), os.path.join(out_dir, f"netD_epoch_{last}.pth"))
    netG.eval()
    netD.eval()
    z = torch.randn(4, nz, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        pictures = netG(z.view(4, nz, 1, 1))
        scores = netD.score(pictures)
    torch.save({"z": z, "pictures": pictures, "scores": scores},
               os.path.join(out_dir, "expected.pth"))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
