"""What the built book consists of, discovered from _toc.yml and _build/html (no hard-coded list)."""

from __future__ import annotations

import functools
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "_build" / "html"
# Folders of the built site that hold assets and copies, not pages.
NOT_PAGES = {"_static", "_sources", "_images", "_downloads"}


def toc_docnames() -> list[str]:
    """Every document of _toc.yml (root first), e.g. 'chapters/setup'."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            for key in ("file",):
                if key in node:
                    names.append(str(node[key]))
            for key in (
                "parts",
                "chapters",
                "sections",
                "subtrees",
                "entries",
            ):
                for child in node.get(key, []) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(toc)
    return [n.removesuffix(".md").removesuffix(".ipynb") for n in names]


def source_of(docname: str) -> Path | None:
    for suffix in (".ipynb", ".md"):
        path = ROOT / f"{docname}{suffix}"
        if path.is_file():
            return path
    return None


def built_pages() -> list[str]:
    """Every HTML page of the built site, relative to _build/html (assets excluded)."""
    if not BUILD.is_dir():
        return []
    pages = []
    for path in sorted(BUILD.rglob("*.html")):
        rel = path.relative_to(BUILD)
        if rel.parts[0] in NOT_PAGES:
            continue
        pages.append(rel.as_posix())
    return pages


def all_pages() -> list[str]:
    """The pages to check: every page of the toc plus every other page Sphinx wrote."""
    pages = [f"{d}.html" for d in toc_docnames()]
    return pages + [p for p in built_pages() if p not in pages]


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.anchors: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key == "id" or (key == "name" and tag == "a"):
                if value:
                    self.anchors.add(value)


@functools.cache
def anchors_of(path: Path) -> frozenset[str]:
    parser = _Anchors()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.anchors)


def check_internal_link(url: str, base: str) -> str | None:
    """None when `url` (absolute, on the local site) resolves to a file and anchor, else the problem."""
    parts = urlsplit(url)
    rel = unquote(parts.path[len(urlsplit(base).path) :])
    target = BUILD / rel
    if rel == "" or rel.endswith("/"):
        target = target / "index.html"
    try:
        target.resolve().relative_to(BUILD.resolve())
    except ValueError:
        return f"{url}: points outside the built site"
    if not target.is_file():
        return f"{url}: no such file {target.relative_to(BUILD) if target.is_relative_to(BUILD) else target}"
    fragment = unquote(parts.fragment)
    if (
        fragment
        and target.suffix == ".html"
        and fragment not in anchors_of(target)
    ):
        return f"{url}: no element with id '{fragment}' in {target.relative_to(BUILD)}"
    return None
