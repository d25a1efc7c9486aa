"""Run time of every chapter at its default parameters: the cost of one run of a sweep.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/bench_chapters.py [name ...]``).
Each chapter is executed with papermill in a temporary copy (the committed notebooks are not
touched), with its claims in strict mode, one after another; the script prints each chapter's
wall-clock time, the number of claims its ledger checked, and the total. Figures are measured on
the machine at hand, which may be busy, and never asserted.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill as pm

ROOT = Path(__file__).resolve().parents[1]
LEDGER = "application/vnd.dlnlib.ledger+json"


def claims_checked(path: Path) -> int:
    nb = nbformat.read(path, as_version=4)
    return sum(
        len(out["data"][LEDGER]["claims"])
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if LEDGER in out.get("data", {})
    )


def main(names: list[str]) -> None:
    chapters = sorted(p.stem for p in (ROOT / "chapters").glob("*.ipynb"))
    selected = names or chapters
    unknown = sorted(set(selected) - set(chapters))
    if unknown:
        sys.exit(f"no such chapter: {', '.join(unknown)}")
    os.environ["DLNLIB_CLAIMS"] = "strict"
    print(f"{'chapter':<14}{'seconds':>9}{'claims':>8}")
    total = 0.0
    with tempfile.TemporaryDirectory(prefix="dln-bench-") as tmp:
        work = Path(tmp) / "chapters"
        shutil.copytree(ROOT / "chapters", work)
        for name in selected:
            path = work / f"{name}.ipynb"
            start = time.perf_counter()
            pm.execute_notebook(
                str(path),
                str(path),
                cwd=str(work),
                kernel_name="python3",
                progress_bar=False,
            )
            seconds = time.perf_counter() - start
            total += seconds
            print(f"{name:<14}{seconds:>9.1f}{claims_checked(path):>8}")
    print(f"{'total':<14}{total:>9.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
