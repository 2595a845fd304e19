"""Where in the picture the 16 px SWD gap lies (a development diagnostic, not a test).

    hitogata generate --checkpoint checkpoints/faces --seed 7 --count 1000 --out /tmp/g/f.png
    python3 scripts/diag/swd_by_position.py /tmp/g          (needs: pip install numpy pillow)

eval's 16 px level compares random 7x7 patches of the 16x16 low-pass images (two 5x5 binomial
blur + decimation steps of the 64x64 pictures). This takes the patch at each of the 10x10
positions separately, for every image, and prints the sliced Wasserstein distance (x1e3, 256
projections, descriptors normalised per colour channel as eval does) per position: real vs
real (two disjoint sets of 1,000 dataset images) and generated vs real, and the excess. Row y
of the grid is the patch whose top edge is at 16 px row y (64 px row 4y).

Thirteenth session, the shipped faces model (three-seed SWD 9.02): the excess is ~35-45 in the
top three rows (patches that hold the top of the head: hair shape and colour), ~20 in rows 4-6
and ~5-10 in the bottom rows (face, collar, shirt). Together with hair_census.py (about one
face in five has hair blended towards a skin colour): the coarse gap is mostly the hair.
"""
import sys, glob
import numpy as np
from PIL import Image

BINOMIAL = np.array([1, 4, 6, 4, 1], float)


def down(x):
    """One Gaussian pyramid step (5x5 binomial blur with edge clamping, then 2x decimation)."""
    n, h, w, c = x.shape
    p = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="edge")
    t = sum(BINOMIAL[i] * p[:, i:i + h, :, :] for i in range(5)) / 16
    t = sum(BINOMIAL[i] * t[:, :, i:i + w, :] for i in range(5)) / 16
    return t[:, ::2, ::2, :]


def load(folder, n):
    files = sorted(glob.glob(folder + "/*.png"))[:n]
    if not files:
        sys.exit(f"no PNG files in {folder}")
    return np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files]) / 255.0


def descriptors(x, a, b, stats):
    d = x[:, b:b + 7, a:a + 7, :].transpose(0, 3, 1, 2).reshape(len(x), 3, 49)
    mean, std = stats
    return ((d - mean) / std).reshape(len(x), -1)


def channel_stats(x):
    """Per-channel mean and deviation over the whole set, as eval normalises each set."""
    p = x.transpose(0, 3, 1, 2).reshape(len(x), 3, -1)
    return p.mean(axis=(0, 2), keepdims=True), p.std(axis=(0, 2), keepdims=True)


def swd(a, b, directions=256, seed=3):
    rng = np.random.default_rng(seed)
    d = rng.standard_normal((a.shape[1], directions))
    d /= np.linalg.norm(d, axis=0)
    return np.abs(np.sort(a @ d, axis=0) - np.sort(b @ d, axis=0)).mean() * 1e3


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    real = load("assets/datasets/faces", 4000)
    generated = load(sys.argv[1], 1000)
    real_a, real_b = down(down(real[:1000])), down(down(real[2000:3000]))
    gen = down(down(generated))
    sa, sb, sg = channel_stats(real_a), channel_stats(real_b), channel_stats(gen)
    floor, gap = np.zeros((10, 10)), np.zeros((10, 10))
    for y in range(10):
        for x in range(10):
            ref = descriptors(real_a, x, y, sa)
            floor[y, x] = swd(ref, descriptors(real_b, x, y, sb))
            gap[y, x] = swd(ref, descriptors(gen, x, y, sg))
    np.set_printoptions(precision=0, suppress=True, linewidth=120)
    print("real vs real, by patch position (row = y):")
    print(floor)
    print("generated vs real:")
    print(gap)
    print("excess (generated - floor); mean per row:", np.round((gap - floor).mean(axis=1), 1))
    print(gap - floor)


if __name__ == "__main__":
    main()
