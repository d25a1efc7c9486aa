"""Every documented range is backed by a recorded run at each of its ends.

``sweeps/<chapter>.parquet`` is the record of ``python -m dlnlib.sweep <chapter>
--edges`` (``make sweep CHAPTER=<chapter> ARGS=--edges``): the chapter at its
defaults and with each knob at each end of its range
(:meth:`dlnlib.ranges.Spec.edges`). For every chapter with a record, each of
those runs must be recorded, and every recorded run whose values lie inside
the documented ranges must have run through with every claim held. Chapters
whose record is missing or does not yet cover every range end are listed in
``PENDING``; the list may only shrink (a chapter listed there whose record
covers every end fails the test, so it is taken off). A pending chapter's
record, when there is one, is still held to the second rule.
"""

from pathlib import Path

import pytest

from dlnlib import records, sweep

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("*.ipynb"))
RECORDS = ROOT / "sweeps"

#: Chapters whose ranges have no committed record yet (each run costs minutes).
PENDING: set[str] = set()

RECORDED = list(records.recorded(RECORDS))


def test_every_chapter_is_recorded_or_pending():
    missing = sorted(set(CHAPTERS) - set(RECORDED) - PENDING)
    assert not missing, (
        f"chapters with neither a record nor a PENDING entry: {missing}"
    )
    done = sorted(
        c for c in PENDING & set(RECORDED) if not records.unrecorded_ends(c)
    )
    assert not done, (
        f"chapters in PENDING whose record covers every range end: {done}"
    )


@pytest.mark.parametrize("chapter", sorted(set(RECORDED) - PENDING))
def test_each_range_end_has_a_recorded_run(chapter):
    spec, defaults = sweep.chapter_spec(chapter)
    wanted = [{}, *spec.edges(defaults)]
    missing = records.unrecorded_ends(chapter)
    assert not missing, (
        f"{chapter}: {len(missing)} of {len(wanted)} range ends have no recorded"
        f" run, e.g. {missing[:3]}; run `make sweep CHAPTER={chapter} ARGS=--edges`"
    )


@pytest.mark.parametrize("chapter", RECORDED)
def test_no_recorded_run_inside_the_ranges_broke(chapter):
    runs = records.read_runs(
        chapter
    )  # outside the ranges a failure is allowed
    inside = runs[runs["inside"]]
    broken = inside[inside["status"] != "ok"]
    assert broken.empty, (
        f"{chapter}: recorded runs inside the documented ranges did not hold"
        f" every claim: {list(zip(broken['params'], broken['status'], broken['error']))[:3]}"
    )


@pytest.mark.parametrize("chapter", RECORDED)
def test_every_recorded_range_end_lies_inside_the_ranges(chapter):
    # the ends of --edges are inside by construction; a recorded one read
    # back outside means the record changed its values (JSON's string keys
    # of a dict knob did, before records restored them)
    spec, defaults = sweep.chapter_spec(chapter)
    keys = {
        sweep.run_key(chapter, p, defaults)
        for p in [{}, *spec.edges(defaults)]
    }
    runs = records.read_runs(chapter)
    ends = runs[runs.index.isin(keys)]
    outside = ends[~ends["inside"]]
    assert outside.empty, (
        f"{chapter}: recorded range ends read back outside the ranges:"
        f" {list(zip(outside['params'], outside['outside']))[:3]}"
    )
