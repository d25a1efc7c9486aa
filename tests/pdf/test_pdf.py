"""The book as one PDF (`make pdf`), rendered to PNG pages and read back.

For _build/latex/dln-nuclear.pdf (and the LaTeX source it was made from) it checks that

- every page renders (pdftoppm turns each into a PNG; the first page of every chapter is kept in
  _build/pdf-pages/ to look at);
- every document of the table of contents is in it: its title is in the PDF's text;
- no raw TeX, MyST role or glue key is left in the text: outside code (verbatim blocks and inline
  code) the LaTeX source holds no escaped dollar, backslash or ``{eq}``/``{glue}``/``{numref}``,
  and the PDF's text has no ``??`` (a reference LaTeX could not resolve);
- every figure is there: LaTeX found every image file, and the PDF holds at least as many images
  as the notebooks store figures.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LATEX = ROOT / "_build" / "latex"
PDF = LATEX / "dln-nuclear.pdf"
PAGES = ROOT / "_build" / "pdf-pages"


def toc_sources() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]]
    for part in toc.get("parts", []):
        names += [c["file"] for c in part.get("chapters", [])]
    found = []
    for name in names:
        for suffix in (".ipynb", ".md"):
            if (ROOT / f"{name}{suffix}").is_file():
                found.append(ROOT / f"{name}{suffix}")
    assert len(found) == len(names), "a document of _toc.yml has no source"
    return found


def title_of(source: Path) -> str:
    if source.suffix == ".ipynb":
        nb = nbformat.read(source, as_version=4)
        text = "\n".join(
            c.source for c in nb.cells if c.cell_type == "markdown"
        )
    else:
        text = source.read_text()
    match = re.search(r"^# (.+)$", text, flags=re.M)
    assert match, f"{source.name} has no title"
    title = re.sub(r"\{[\w:]+\}`([^`]*)`", r"\1", match[1])
    return re.sub(r"[`*]", "", title).strip()


def words(text: str) -> str:
    """Lower case, letters and digits only: titles wrap and change case in the PDF."""
    return re.sub(r"[^a-z0-9]+", "", text.lower())


@pytest.fixture(scope="module")
def pdf_text() -> str:
    if not PDF.is_file():
        pytest.fail(f"no {PDF.relative_to(ROOT)}: run `make pdf` first")
    out = subprocess.run(
        ["pdftotext", "-layout", str(PDF), "-"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


def test_every_page_renders_to_png(tmp_path):
    info = subprocess.run(
        ["pdfinfo", str(PDF)], check=True, capture_output=True, text=True
    ).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, flags=re.M)[1])
    assert pages >= 20, f"the PDF has only {pages} pages"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "24", str(PDF), str(tmp_path / "p")],
        check=True,
    )
    rendered = sorted(tmp_path.glob("p-*.png"))
    assert len(rendered) == pages, f"{len(rendered)} of {pages} pages rendered"
    small = [p.name for p in rendered if p.stat().st_size < 300]
    assert not small, f"pages that rendered to (almost) nothing: {small}"
    # keep the pages at a readable resolution for a person to look at
    shutil.rmtree(PAGES, ignore_errors=True)
    PAGES.mkdir(parents=True)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-l",
            "40",
            str(PDF),
            str(PAGES / "page"),
        ],
        check=True,
    )


def test_every_document_of_the_toc_is_in_the_pdf(pdf_text):
    flat = words(pdf_text)
    missing = [
        s.relative_to(ROOT).as_posix()
        for s in toc_sources()
        if words(title_of(s)) not in flat
    ]
    assert not missing, f"not in the PDF: {missing}"


INLINE_CODE = re.compile(
    r"\\sphinxcode\{\\sphinxupquote\{(?:[^{}]|\{[^{}]*\})*\}\}"
)
VERBATIM = re.compile(
    r"\\begin\{sphinxVerbatim\}.*?\\end\{sphinxVerbatim\}", flags=re.S
)
RAW = {
    "a dollar sign": r"\\\$",
    "a backslash": r"\\textbackslash\{\}",
    "a MyST role": r"\\\{(eq|numref|glue|doc|ref|cite)[:\\\}]",
}


def test_no_raw_tex_or_myst_outside_code(pdf_text):
    tex = (LATEX / "dln-nuclear.tex").read_text()
    prose = INLINE_CODE.sub("", VERBATIM.sub("", tex))
    problems = []
    for what, pattern in RAW.items():
        for m in re.finditer(pattern, prose):
            context = prose[max(0, m.start() - 80) : m.end() + 40]
            problems.append(f"{what} in the text: {context!r}")
    unresolved = pdf_text.count("??")
    if unresolved:
        problems.append(f"{unresolved} unresolved references (??) in the PDF")
    assert not problems, "\n".join(problems[:20])


def test_every_figure_is_in_the_pdf():
    log = (LATEX / "dln-nuclear.log").read_text(errors="replace")
    missing = re.findall(r"File `([^']+\.(?:png|jpg|pdf))' not found", log)
    assert not missing, f"images LaTeX could not find: {missing}"
    stored = sum(
        "image/png" in out.get("data", {})
        for source in toc_sources()
        if source.suffix == ".ipynb"
        for cell in nbformat.read(source, as_version=4).cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )
    listing = subprocess.run(
        ["pdfimages", "-list", str(PDF)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()[2:]
    images = sum(1 for line in listing if line.split()[2] == "image")
    assert images >= stored, (
        f"{images} images in the PDF, {stored} figures stored"
    )
