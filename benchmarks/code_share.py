"""What the chapters' code is made of: cell lengths and the share of plumbing.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/code_share.py``). It reads the
committed notebooks (the install cell left out; blank and comment lines not counted) and prints,
per chapter and for the book:

- the median and longest code cell, in lines;
- the lines of each statement, nested ones included, by kind: ``import``; a claim
  (``claims.check``, ``claims.refuses``), split into its *text* (the sentence the reader sees),
  its *test* (the condition: in the derivation chapters, the proof step itself) and its *rest*
  (the call's own lines and its numbers, and the header of a block of nothing but claims); ``glue`` (``book.glue_*``, ``claims.glue``); ``print``;
- two shares of plumbing: *all*, counting every line of a claim, and *bookkeeping*, counting only
  a claim's rest (its text and its test are what the page states and checks).

Figures, never asserted (``tests/test_notebook_conventions.py`` tests the cell lengths).
"""

from __future__ import annotations

import ast
import statistics
import sys
from collections import Counter
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CLAIM_CALLS = ("claims.check", "claims.refuses")
KINDS = ("import", "text", "test", "rest", "glue", "print")


def _source(cell) -> str:
    """A cell's source with IPython's ``%`` lines blanked (line numbers kept)."""
    return "\n".join(
        "" if line.lstrip().startswith("%") else line
        for line in cell.source.splitlines()
    )


def _claim_call(node: ast.stmt) -> ast.Call | None:
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        call = node.value
    elif isinstance(node, ast.With) and len(node.items) == 1:
        call = node.items[0].context_expr
    else:
        return None
    if isinstance(call, ast.Call) and ast.unparse(call.func) in CLAIM_CALLS:
        return call
    return None


def _span(node: ast.AST) -> set[int]:
    return set(range(node.lineno, node.end_lineno + 1))


def _claim_lines(call: ast.Call) -> dict[int, str]:
    """A claim call's lines: its text, its test (``check``'s condition) and the rest."""
    kinds = dict.fromkeys(_span(call), "rest")
    args = list(call.args)
    text = args.pop(0) if args else None
    if ast.unparse(call.func) == "claims.check":
        for arg in args:
            kinds.update(dict.fromkeys(_span(arg), "test"))
    if text is not None:
        kinds.update(dict.fromkeys(_span(text), "text"))
    return kinds


def classify(node: ast.stmt) -> dict[int, str]:
    """The kind of each line of one statement, nested ones included (science is left out).

    A block (``for``, ``if``, ``with``, ...) is looked into: its claims, glue and imports
    count, the rest is science; its header lines count as a claim's rest when the block
    holds nothing but claims.
    """
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return dict.fromkeys(_span(node), "import")
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        name = ast.unparse(node.value.func)
        if name.startswith("book.glue") or name == "claims.glue":
            return dict.fromkeys(_span(node), "glue")
        if name == "print":
            return dict.fromkeys(_span(node), "print")
    call = _claim_call(node)
    if call is not None and isinstance(node, ast.Expr):
        return _claim_lines(call)
    kinds: dict[int, str] = {}
    if (
        call is not None
    ):  # with claims.refuses(...): its body is the call refused
        kinds.update(_claim_lines(call))
    bodies = [
        getattr(node, field)
        for field in ("body", "orelse", "finalbody")
        if isinstance(getattr(node, field, None), list)
    ]
    bodies += [h.body for h in getattr(node, "handlers", [])]
    inner = [n for body in bodies for n in body]
    for n in inner:
        kinds.update(classify(n))
    if inner and call is None and all(_claim_call(n) for n in inner):
        header = set(range(node.lineno, inner[0].lineno))
        kinds.update(dict.fromkeys(header, "rest"))
    return kinds


def chapter_figures(path: Path) -> tuple[list[int], Counter]:
    """Lengths of the chapter's code cells and its counted lines by kind (plus ``total``)."""
    nb = nbformat.read(path, as_version=4)
    lengths, counts = [], Counter()
    for cell in nb.cells:
        if cell.cell_type != "code" or "remove-cell" in cell.metadata.get(
            "tags", []
        ):
            continue
        source = _source(cell)
        lines = source.splitlines()
        counted = {
            k + 1
            for k, line in enumerate(lines)
            if line.strip() and not line.strip().startswith("#")
        }
        lengths.append(len(counted))
        counts["total"] += len(counted)
        for node in ast.parse(source).body:
            for line, kind in classify(node).items():
                if line in counted:
                    counts[kind] += 1
    return lengths, counts


def shares(counts: Counter) -> tuple[float, float]:
    """(all, bookkeeping): plumbing over code lines, with and without a claim's text and test."""
    every = sum(counts[k] for k in KINDS)
    bookkeeping = every - counts["text"] - counts["test"]
    return every / counts["total"], bookkeeping / counts["total"]


def row(name: str, lengths: list[int], counts: Counter, pct: str) -> str:
    """One printed line: lines, median and longest cell, lines by kind, both shares."""
    every, bookkeeping = shares(counts)
    return (
        f"{name:13s} {counts['total']:5d} {statistics.median(lengths):6g}"
        f" {max(lengths):4d}"
        + "".join(f" {counts[k]:6d}" for k in KINDS)
        + f" {every:5{pct}} {bookkeeping:6{pct}}"
    )


def main(names: list[str]) -> None:
    paths = sorted((ROOT / "chapters").glob("*.ipynb"))
    if names:
        paths = [p for p in paths if p.stem in names]
    all_lengths, book = [], Counter()
    head = f"{'chapter':13s} {'lines':>5s} {'median':>6s} {'max':>4s}"
    head += (
        "".join(f" {k:>6s}" for k in KINDS) + f" {'all':>5s} {'bookk.':>6s}"
    )
    print(head)
    for path in paths:
        lengths, counts = chapter_figures(path)
        all_lengths += lengths
        book.update(counts)
        print(row(path.stem, lengths, counts, ".0%"))
    print(row("book", all_lengths, book, ".1%"))


if __name__ == "__main__":
    main(sys.argv[1:])
