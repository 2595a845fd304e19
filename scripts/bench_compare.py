"""The side-by-side table of scripts/bench-vs-pytorch.sh and scripts/gpu-vs-pytorch.sh: reads the
first table of several `hitogata bench` outputs and of several benches/pytorch/bench.py outputs
(rounds of the same measurement, alternated), and prints each figure per round and the ratio of
the sums (hitogata's speed over PyTorch's).
    python3 scripts/bench_compare.py TITLE HITOGATA.md... -- PYTORCH.md...
"""
import sys


def rows(path):
    """{ngf: {column header: value}} from the first table of a bench's markdown output."""
    r, header = {}, None
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None and "ngf" in cells:
            header = cells
        elif header and len(cells) == len(header) and cells[1].isdigit():
            r[int(cells[1])] = {k: float(v) for k, v in zip(header[2:], cells[2:])}
        elif header and r and not line.startswith("|"):
            break
    return r


def fmt(vals, unit):
    return " / ".join(f"{v:.0f}" if unit == "img/s" else f"{v:.2f}" for v in vals)


def main():
    title, rest = sys.argv[1], sys.argv[2:]
    split = rest.index("--")
    h = [rows(p) for p in rest[:split]]
    p = [rows(p) for p in rest[split + 1:]]
    print(title)
    print()
    print("| | hitogata | PyTorch | ratio (hitogata / PyTorch speed) |")
    print("|---|---|---|---|")
    for ngf in sorted(h[0], reverse=True):
        hi = [r[ngf]["train img/s"] for r in h]
        pi = [r[ngf]["train img/s"] for r in p]
        print(f"| WGAN iteration img/s, ngf {ngf} | {fmt(hi, 'img/s')} | {fmt(pi, 'img/s')} | "
              f"{sum(hi) / sum(pi):.2f} |")
        # burn's generator forward, then the pictures as hitogata draws them (its CPU path on
        # the CPU), both against PyTorch's generator forward.
        for batch in (1, 16):
            pb = [r[ngf][f"G batch {batch} (ms)"] for r in p]
            for name, col in (("generator", f"G batch {batch} (ms)"),
                              ("pictures", f"pictures batch {batch} (ms)")):
                hb = [r[ngf][col] for r in h]
                print(f"| {name} batch {batch} (ms), ngf {ngf} | {fmt(hb, 'ms')} | "
                      f"{fmt(pb, 'ms')} | {sum(pb) / sum(hb):.2f} |")


if __name__ == "__main__":
    main()
