"""Conventions every chapter notebook keeps (CONTRIBUTING.md); each check can fail."""

import re
import statistics
from pathlib import Path

import nbformat
import pytest
import yaml

from dlnlib import chapter_ranges, sweep
from dlnlib.ranges import PREFIX

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = {toc["root"]}
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            files.add(chapter["file"])
            files.update(
                section["file"] for section in chapter.get("sections", [])
            )
    return files


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 6


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_the_table_of_contents(path):
    assert f"chapters/{path.stem}" in toc_files()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_code_after_the_install_cell_opens_with_the_parameters(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) > 1, "a chapter without code checks nothing"
    assert code[0].get("id") == "install", (
        "the first code cell must be the install cell: run `make launch-cells`"
    )
    first = code[1]
    assert "parameters" in first.metadata.get("tags", []), (
        "first code cell must carry the tag 'parameters'"
    )
    assigned = [
        line
        for line in first.source.splitlines()
        if re.match(r"^[A-Za-z_]\w*\s*=", line)
    ]
    assert assigned, "the parameters cell assigns no parameter"
    for line in assigned:
        assert "#" in line, f"parameter without a comment: {line!r}"
    assert "parameters" not in " ".join(
        t for c in code[2:] for t in c.metadata.get("tags", [])
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stored_clean_and_in_order(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    counts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, (
            "notebook has unexecuted cells: run `make execute`"
        )
        counts.append(cell.execution_count)
        for out in cell.outputs:
            assert out.output_type != "error", "a stored output is an error"
            text = out.get("text", "") + str(
                out.get("data", {}).get("text/plain", "")
            )
            assert "<matplotlib." not in text, (
                "stray matplotlib repr in an output"
            )
            assert "Warning" not in text, (
                f"a warning in a stored output: {text[:200]!r}"
            )
    assert counts == list(range(1, len(counts) + 1)), (
        "cells were not executed top to bottom in one run"
    )


LONGEST_CELL = (
    30  # non-blank lines of a code cell (CONTRIBUTING.md: one idea per cell)
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_code_cell_is_longer_than_30_lines(path):
    nb = nbformat.read(path, as_version=4)
    long = {
        k: n
        for k, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and (n := sum(1 for line in cell.source.splitlines() if line.strip()))
        > LONGEST_CELL
    }
    assert not long, (
        f"code cells (index: non-blank lines) above {LONGEST_CELL} lines: {long};"
        " split them by idea or move the helper to dlnlib"
    )


WIDEST_LINE = (
    79  # columns: the book's code boxes show about 78 (pyproject.toml)
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_code_line_is_wider_than_the_code_box(path):
    # the chapters are laid out by hand (ruff format leaves them): this is their formatter check
    nb = nbformat.read(path, as_version=4)
    wide = [
        f"cell {k}: {line.strip()[:50]}... ({len(line)} columns)"
        for k, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and "remove-cell" not in cell.metadata.get("tags", [])
        for line in cell.source.splitlines()
        if len(line) > WIDEST_LINE
    ]
    assert not wide, (
        f"code lines over {WIDEST_LINE} columns scroll sideways in the book:"
        f" {wide}"
    )


MEDIAN_CELL = 10  # non-blank lines of the book's median code cell (the install cells left out)


def test_the_median_code_cell_is_short():
    lengths = [
        sum(1 for line in cell.source.splitlines() if line.strip())
        for path in NOTEBOOKS
        for cell in nbformat.read(path, as_version=4).cells
        if cell.cell_type == "code"
        and "remove-cell" not in cell.metadata.get("tags", [])
    ]
    assert len(lengths) > 100, f"only {len(lengths)} code cells were read"
    median = statistics.median(lengths)
    assert median <= MEDIAN_CELL, (
        f"the median code cell has {median} non-blank lines, above"
        f" {MEDIAN_CELL}: split cells by idea"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_draw_is_seeded(path):
    nb = nbformat.read(path, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "np.random.seed" not in source and not re.search(
        r"np\.random\.(rand|randn|normal|uniform|choice)\(", source
    )
    assert "default_rng()" not in source, "an unseeded generator"


def test_contributing_names_every_dlnlib_module():
    """CONTRIBUTING.md's module list is complete: a new module must be described there."""
    text = (ROOT / "CONTRIBUTING.md").read_text()
    modules = sorted(
        p.stem for p in (ROOT / "dlnlib").glob("*.py") if p.stem != "__init__"
    )
    missing = [m for m in modules if f"`{m}`" not in text]
    assert not missing, f"CONTRIBUTING.md does not describe: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_claims_are_checked_once_and_listed_in_a_ledger(path):
    """Every chapter states its claims through one Claims ledger and ends with its table.

    No claim is checked by the old ``check``/``check_refuses`` (a failure would stop a reader's
    run instead of showing it), no text table is printed, and the last code cell shows the ledger.
    """
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    source = "\n".join(c.source for c in code)
    made = re.findall(
        r"^claims = book\.Claims\(\s*\"(\w+)\"", source, flags=re.M
    )
    assert len(made) == 1, (
        f"expected one `claims = book.Claims(...)`, found {made}"
    )
    for old in (r"\bcheck\(", r"\bcheck_refuses\(", r"print_table\("):
        stray = [
            line.strip()
            for line in source.splitlines()
            if re.search(old, line)
            and "claims.check(" not in line
            and "spec.check(" not in line
        ]
        assert not stray, f"{old} is gone from the book: {stray[:3]}"
    assert code[-1].source.strip() == "claims.ledger()", (
        "the last code cell must show the ledger: claims.ledger()"
    )
    headings = [
        c.source for c in nb.cells if c.cell_type == "markdown" and c.source
    ]
    assert any(f"{{numref}}`tbl-{made[0]}-ledger`" in h for h in headings), (
        "the prose must point to the ledger table"
    )


# --- the range of every knob, written once (dlnlib.ranges) ---------------------------------------


def chapter_spec(path):
    """The chapter's spec, its defaults and its parameters cell, or None without a spec."""
    nb = nbformat.read(path, as_version=4)
    _, parameters, checks = sweep.chapter_cells(nb)
    if "spec.check(globals())" not in checks:
        return None
    spec, defaults = sweep.chapter_spec(path.stem, path.parent)
    return spec, defaults, parameters


SPECS = {
    path.stem: found
    for path in NOTEBOOKS
    if (found := chapter_spec(path)) is not None
}


def test_every_chapter_states_its_ranges_as_a_spec():
    """The cell after the parameters is a Spec and its check, in every chapter."""
    missing = sorted({p.stem for p in NOTEBOOKS} - set(SPECS))
    assert not missing, f"chapters without a range spec: {missing}"


def test_every_chapter_checks_its_own_spec_from_chapter_ranges():
    """Each chapter reads its ranges by its own name; no spec is left unread."""
    read = {}
    for path in NOTEBOOKS:
        _, _, checks = sweep.chapter_cells(nbformat.read(path, as_version=4))
        read[path.stem] = re.findall(r'spec_of\("(\w+)"\)', checks)
    wrong = {name: found for name, found in read.items() if found != [name]}
    assert not wrong, f"chapters that do not read their own spec: {wrong}"
    assert set(chapter_ranges.CHAPTERS) == set(read), (
        "dlnlib.chapter_ranges and the chapters differ:"
        f" {sorted(set(chapter_ranges.CHAPTERS) ^ set(read))}"
    )


def knob_comments(parameters: str) -> dict[str, str]:
    """Each knob's comment: the one on its line and the comment lines right above it."""
    comments, above = {}, []
    for line in parameters.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            above.append(stripped)
            continue
        if "=" in line and not line.startswith((" ", "\t")):
            inline = line.split("#", 1)[1] if "#" in line else ""
            for name in sweep.knobs(line.split("#", 1)[0]):
                comments[name] = " ".join([*above, inline])
        above = []
    return comments


@pytest.mark.parametrize("name", sorted(SPECS))
def test_the_spec_names_every_knob_of_the_parameters_cell(name):
    spec, _, parameters = SPECS[name]
    assert set(spec.names) == set(sweep.knobs(parameters))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_comment_gives_the_range_the_spec_checks(name):
    spec, _, parameters = SPECS[name]
    comments = knob_comments(parameters)
    drifted = {
        knob: (spec.knobs[knob].text, comments.get(knob, ""))
        for knob in spec.names
        if spec.knobs[knob].text not in comments.get(knob, "")
    }
    assert not drifted, (
        "the comment of these knobs does not give the spec's range text"
        f" (text, comment): {drifted}"
    )


@pytest.mark.parametrize("name", sorted(SPECS))
def test_defaults_and_the_second_parameter_set_pass_the_spec(name):
    spec, defaults, _ = SPECS[name]
    spec.check(defaults)
    variant = yaml.safe_load(
        (ROOT / "tests" / "variants" / f"{name}.yaml").read_text()
    )
    assert set(variant) <= set(spec.names)
    spec.check({**defaults, **variant})


@pytest.mark.parametrize("name", sorted(SPECS))
def test_a_knob_just_outside_its_range_is_refused_by_name(name):
    spec, defaults, _ = SPECS[name]
    outside = spec.outside(defaults)
    assert {knob for values in outside for knob in values} == set(spec.names)
    for values in outside:
        ((knob, value),) = values.items()
        with pytest.raises(ValueError, match=f"^{PREFIX}{re.escape(knob)} = "):
            spec.check({**defaults, knob: value})


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_edge_of_the_ranges_passes(name):
    """Each knob at the ends of its range (and one value between) is accepted."""
    spec, defaults, _ = SPECS[name]
    edges = spec.edges(defaults, interior=1)
    assert edges
    for values in edges:
        spec.check({**defaults, **values})
