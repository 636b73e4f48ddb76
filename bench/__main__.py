"""``python -m bench [B1 B2 ...] [--quick] [--markdown]``: run benchmarks, print the table."""
from __future__ import annotations

import argparse
import sys
import time
import traceback

from . import BENCHMARKS
from .common import Size
from .report import Result, load_average, machine, machine_text, markdown_table, text_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("ids", nargs="*", metavar="ID",
                        help="benchmarks to run (default: all): " + " ".join(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="fewer rounds and iterations (a smoke run, noisier)")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown (for RESULTS.md)")
    args = parser.parse_args(argv)
    ids = [i.upper() for i in args.ids] or list(BENCHMARKS)
    unknown = [i for i in ids if i not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {' '.join(unknown)}; choose from {' '.join(BENCHMARKS)}")

    size = Size(quick=args.quick)
    info = machine()
    print(machine_text(info), flush=True)
    print(f"mode: {'quick' if args.quick else 'full'}", flush=True)
    results: list[Result] = []
    failed: list[str] = []
    for bench_id in ids:
        started = time.perf_counter()
        print(f"... {bench_id}", end="", flush=True)
        try:
            produced = BENCHMARKS[bench_id](size)
        except Exception:  # one broken benchmark must not hide the others' results
            failed.append(bench_id)
            print(" FAILED")
            traceback.print_exc()
            continue
        results.extend(produced)
        summary = ", ".join(f"{r.ratio:.2f}x" for r in produced)
        print(f" {summary} ({time.perf_counter() - started:.0f} s)", flush=True)

    print()
    print(text_table(results))
    for result in results:
        for note in result.notes:
            print(f"  {result.id}: {note}")
    print(f"load average (1/5/15 min) at end: {load_average()}")
    if args.markdown:
        print()
        print(markdown_table(results))
    if failed:
        print(f"benchmarks that failed to run: {' '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
