"""A chapter with one claim broken: reader mode runs to the end, strict mode stops at the claim.

The setup chapter is run with papermill after one extra cell, placed after its parameter checks,
tightens the tolerance of the finite-difference claim to 1e-30 (a value its range check would
refuse, and one no finite difference meets). Every other claim of the page still holds, so the
ledger must show exactly one failure.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters" / "setup.ipynb"
BROKEN = "finite differences match"
LEDGER = "application/vnd.dlnlib.ledger+json"


def broken_copy(tmp_path: Path) -> Path:
    nb = nbformat.read(CHAPTER, as_version=4)
    code = [k for k, c in enumerate(nb.cells) if c.cell_type == "code"]
    # code[0] installs dlnlib, code[1] holds the parameters, code[2] checks them
    after_checks = code[2] + 1
    nb.cells.insert(
        after_checks,
        nbformat.v4.new_code_cell(
            "fd_rtol = 1e-30  # test: a tolerance no finite difference meets"
        ),
    )
    path = tmp_path / "setup.ipynb"
    nbformat.write(nb, path)
    return path


def run(
    path: Path, out: Path, mode: str, monkeypatch
) -> nbformat.NotebookNode:
    monkeypatch.setenv("DLNLIB_CLAIMS", mode)
    pm.execute_notebook(
        str(path),
        str(out),
        cwd=str(ROOT / "chapters"),
        kernel_name="python3",
        progress_bar=False,
    )
    return nbformat.read(out, as_version=4)


def test_reader_mode_shows_the_failed_claim_and_runs_to_the_ledger(
    tmp_path, monkeypatch
):
    nb = run(
        broken_copy(tmp_path), tmp_path / "out.ipynb", "reader", monkeypatch
    )
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), (
        "reader mode stopped before the end of the chapter"
    )
    boxes = [
        o["data"]["text/plain"]
        for c in code
        for o in c.outputs
        if "claim failed" in o.get("data", {}).get("text/plain", "")
    ]
    assert len(boxes) == 1 and BROKEN in boxes[0], boxes
    (ledger,) = [
        o["data"][LEDGER]["claims"]
        for o in code[-1].outputs
        if LEDGER in o.get("data", {})
    ]
    failed = [r["claim"] for r in ledger if not r["held"]]
    assert len(failed) == 1 and BROKEN in failed[0], failed
    assert (
        len(ledger) >= 10 and sum(r["held"] for r in ledger) == len(ledger) - 1
    )
    # the claims after the broken one were still checked
    position = next(k for k, r in enumerate(ledger) if not r["held"])
    assert position < len(ledger) - 1


def test_strict_mode_stops_at_the_failed_claim(tmp_path, monkeypatch):
    with pytest.raises(pm.PapermillExecutionError) as stopped:
        run(
            broken_copy(tmp_path),
            tmp_path / "out.ipynb",
            "strict",
            monkeypatch,
        )
    assert stopped.value.ename == "ClaimError"
    assert f"claim failed: {BROKEN}" in stopped.value.evalue
    nb = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    assert last.execution_count is None, (
        "strict mode ran past the failed claim"
    )
