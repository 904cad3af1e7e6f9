"""Convert the Free Spoken Digit Dataset into SHD-layout spike files (a thin CLI over helpers.data).

    python scripts/convert_fsdd.py                       # ../shared/data/fsdd -> $SGF_DATA/fsdd (or ~/.cache/sgf/data/fsdd)
    python scripts/convert_fsdd.py --split speaker_out --held-out-speaker theo --out /tmp/fsdd_theo

Then ``helpers.data.load_shd(OUT, "train")`` reads the result through tonic. The spikes are derived
from FSDD recordings and so fall under its CC BY-SA 4.0 license; never write them into the repository.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import h5py
import numpy as np

from helpers import data

DEFAULT_FSDD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fsdd"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fsdd", type=Path, default=DEFAULT_FSDD, help="FSDD folder holding recordings/")
    parser.add_argument("--out", type=Path, default=data.default_root() / "fsdd", help="dataset root to write")
    parser.add_argument("--split", choices=data.FSDD_SPLITS, default="official")
    parser.add_argument("--held-out-speaker", default=None, help="test speaker for --split speaker_out")
    parser.add_argument("--n-channels", type=int, default=data.SHD_N_CHANNELS)
    parser.add_argument("--level-dbfs", type=float, default=-20.0, help="RMS level of each recording, dB re full scale")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    out = data.convert_fsdd(args.fsdd, args.out, args.split, args.held_out_speaker, args.n_channels,
                            level_dbfs=args.level_dbfs, n_workers=args.workers, seed=args.seed)
    elapsed = time.perf_counter() - start
    for split in data.SPLITS:
        with h5py.File(data.shd_path(out, split), "r") as f:
            counts = np.array([len(t) for t in f["spikes/times"][()]])
        print(f"{split}: {counts.size} samples, spikes per sample mean {counts.mean():.0f}, "
              f"median {np.median(counts):.0f}, range [{counts.min()}, {counts.max()}]")
    print(f"wrote {out} in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
