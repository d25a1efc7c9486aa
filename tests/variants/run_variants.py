"""Run every chapter with a second parameter set, then build the book from those outputs.

A reader's third use of the book is to change the parameters cell and rerun. This stage of
``make test`` does that for every chapter: it copies the book into a temporary folder, executes
each ``chapters/<name>.ipynb`` with papermill and the parameters in ``tests/variants/<name>.yaml``
(another seed, and structural changes: one depth, rectangular shapes, other ranks, smaller
budgets), and then builds the copy with ``-W -n`` so that the prose, the glued values and the
references hold for these outputs too. The committed notebooks are never touched.

Usage (from the repository root, in the project's environment):
    python tests/variants/run_variants.py [name ...]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import papermill as pm
import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BOOK_FILES = ["_config.yml", "_toc.yml", "references.bib", "pyproject.toml"]
BOOK_DIRS = ["_ext", "_vendor"]


def copy_book(target: Path) -> None:
    for name in BOOK_FILES:
        shutil.copy2(ROOT / name, target / name)
    for name in BOOK_DIRS:
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, target / name)
    shutil.copytree(
        ROOT / "chapters",
        target / "chapters",
        ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
    )


def run_chapter(book: Path, name: str) -> tuple[bool, str]:
    params = yaml.safe_load((HERE / f"{name}.yaml").read_text())
    path = book / "chapters" / f"{name}.ipynb"
    start = time.perf_counter()
    try:
        pm.execute_notebook(
            str(path),
            str(path),
            parameters=params,
            cwd=str(book / "chapters"),
            kernel_name="python3",
            progress_bar=False,
        )
    except pm.PapermillExecutionError as exc:
        return False, f"{name}: {exc.ename}: {exc.evalue}"
    return (
        True,
        f"{name}: ran in {time.perf_counter() - start:.0f} s with {params}",
    )


def main(names: list[str]) -> int:
    chapters = sorted(p.stem for p in HERE.glob("*.yaml"))
    missing = sorted(
        {p.stem for p in (ROOT / "chapters").glob("*.ipynb")} - set(chapters)
    )
    if missing:
        print(
            f"no second parameter set for: {', '.join(missing)} (add tests/variants/<name>.yaml)"
        )
        return 1
    selected = names or chapters
    with tempfile.TemporaryDirectory(prefix="dln-variants-") as tmp:
        book = Path(tmp)
        copy_book(book)
        failures = []
        for name in selected:
            ok, message = run_chapter(book, name)
            print(("ok     " if ok else "FAILED ") + message, flush=True)
            if not ok:
                failures.append(message)
        if failures:
            print(
                f"\n{len(failures)} chapter(s) failed with their second parameter set"
            )
            return 1
        if names:
            return 0  # a partial run does not build the book
        build = subprocess.run(
            [
                str(Path(sys.executable).parent / "jupyter-book"),
                "build",
                "--path-output",
                str(book),
                "-W",
                "-n",
                "--keep-going",
                "--all",
                str(book),
            ],
            cwd=book,
            capture_output=True,
            text=True,
        )
        warnings = [
            line
            for line in build.stdout.splitlines() + build.stderr.splitlines()
            if "WARNING" in line
        ]
        if build.returncode != 0 or warnings:
            print("the strict build of the variant outputs failed:")
            print(
                "\n".join(warnings)
                or build.stdout[-3000:] + build.stderr[-3000:]
            )
            return 1
        print("strict build (-W -n) of the variant outputs: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
