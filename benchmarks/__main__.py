"""Run every benchmark module (``benchmarks/bench_*.py``, each with ``run() -> list[Row]``)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil

import benchmarks
from benchmarks.report import Row, print_table


def main() -> None:
    """Run the benchmarks named on the command line, or all of them, and print one table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("only", nargs="*", help="module names to run (default: all)")
    args = parser.parse_args()
    names = sorted(
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_")
    )
    rows: list[Row] = []
    for name in names:
        if args.only and name not in args.only and name.removeprefix("bench_") not in args.only:
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        rows.extend(module.run())
    print_table(rows)


if __name__ == "__main__":
    main()
