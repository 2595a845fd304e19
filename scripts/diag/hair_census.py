"""Top-of-head colour census of generated faces (a development diagnostic, not a test).

    hitogata generate --checkpoint checkpoints/faces --seed 77 --count 1000 --out /tmp/g/f.png
    python3 scripts/diag/hair_census.py real /tmp/g        (needs: pip install numpy pillow)

Every face of assets/datasets/faces has one of five flat hair colours on top of its head. This
assigns the top of each head (the median of a 4x8 patch just below its first non-white row,
columns 28-35) to the nearest of those five and the dataset's five skin colours, and counts.
Real faces: 0 of 4,000 land on a skin colour; a face whose hair is blended or washed out
towards skin does. The shipped model: 214 of 1,000 (seed 77). "real" is the dataset itself.
Also prints the mean number of distinct colours per image (first 100): flat art has few (real:
94), a generator's slightly uneven flat areas many (shipped: 1,467)."""
import sys, glob, collections
from pathlib import Path
import numpy as np
from PIL import Image

HAIR = {"auburn": (165, 87, 40), "light brown": (181, 129, 67), "black": (44, 27, 24),
        "blond": (214, 179, 112), "brown": (114, 65, 51)}

# The dataset's five cheek colours (pixel (24, 38), each ~800 faces).
SKIN = {"skin1": (92, 60, 44), "skin2": (196, 140, 124), "skin3": (188, 140, 108),
        "skin4": (244, 196, 164), "skin5": (164, 108, 76)}
BOTH = {**HAIR, **SKIN}

def top_colour(a):
    cols = a[:, 28:36].astype(int)
    nonwhite = (np.abs(cols - 255).sum(axis=2) > 60).any(axis=1)
    rows = np.nonzero(nonwhite)[0]
    if len(rows) == 0:
        return None
    t = rows[0]
    patch = cols[t + 2:t + 6].reshape(-1, 3)
    return np.median(patch, axis=0)

def load(d):
    files = sorted(glob.glob(d + "/*.png"))
    return [np.asarray(Image.open(f).convert("RGB")) for f in files]

def census(images, palette):
    names = list(palette)
    P = np.array([palette[n] for n in names], float)
    c = collections.Counter()
    for a in images:
        t = top_colour(a)
        if t is None:
            c["none"] += 1
            continue
        c[names[int(np.argmin(((P - t) ** 2).sum(1)))]] += 1
    return c

if __name__ == "__main__":
    dataset = str(Path(__file__).resolve().parents[2] / "assets/datasets/faces")
    for d in sys.argv[1:]:
        imgs = load(dataset if d == "real" else d)
        c = census(imgs, BOTH)
        skin = sum(v for k, v in c.items() if k.startswith("skin"))
        colours = np.mean([len(np.unique(a.reshape(-1, 3), axis=0)) for a in imgs[:100]])
        print(d, len(imgs), "on skin:", skin, dict(sorted(c.items())), f"colours/image {colours:.0f}")
