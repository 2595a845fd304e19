"""Packs rendered PNGs into the shipped form: RGB on white, 64×64, palette PNG, plus a manifest.

Usage: python3 pack.py RAW_DIR OUT_DIR
Pinned: Pillow 11.3.0 (palette quantisation must match byte for byte).
"""
import hashlib
import sys
from pathlib import Path

from PIL import Image

COLOURS = 96  # flat art: 96 colours look the same as the original at 64×64


def pack(src: Path, dst: Path) -> None:
    img = Image.open(src).convert("RGBA")
    if img.size != (64, 64):
        img = img.resize((64, 64), Image.Resampling.LANCZOS)
    white = Image.new("RGBA", img.size, (255, 255, 255, 255))
    rgb = Image.alpha_composite(white, img).convert("RGB")
    pal = rgb.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    pal.save(dst, format="PNG", optimize=True)


def main() -> None:
    raw, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for src in sorted(raw.glob("*.png")):
        dst = out / src.name
        pack(src, dst)
        lines.append(f"{hashlib.sha256(dst.read_bytes()).hexdigest()}  {src.name}\n")
    (out / "MANIFEST.sha256").write_text("".join(lines))
    print(f"packed {len(lines)} images into {out}")


if __name__ == "__main__":
    main()
