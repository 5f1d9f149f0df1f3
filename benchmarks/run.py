"""Run every family's benchmark and print one table of ratios (`python -m benchmarks [--quick]`)."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import platform
import sys
import traceback
from pathlib import Path

os.environ.setdefault("KERASVIZ_PROGRESS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.common import format_table  # noqa: E402


def main(argv=None) -> int:
    """Run `benchmarks/bench_*.py` modules' `run(quick)` and print their rows as one table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (about a minute each)")
    parser.add_argument("--only", nargs="*", help="family names, e.g. attribution inspect")
    args = parser.parse_args(argv)
    rows, failed = [], []
    folder = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(folder)]), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        if args.only and info.name[len("bench_"):] not in args.only:
            continue
        print(f"running {info.name} ...", file=sys.stderr, flush=True)
        try:
            rows.extend(importlib.import_module(f"benchmarks.{info.name}").run(quick=args.quick))
        except Exception:
            failed.append(info.name)
            traceback.print_exc()
    import tensorflow as tf

    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"TensorFlow {tf.__version__}, GPUs: {len(tf.config.list_physical_devices('GPU'))}\n")
    print(format_table(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
