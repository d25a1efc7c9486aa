"""The API reference page documents every public module, function and class of dlnlib.

chapters/api.md lists the modules by hand (one ``automodule`` each); this test fails when a new
public module, or a public function without a docstring (autodoc skips those), is missing from
the built page.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from booksite import BUILD, anchors_of

API_PAGE = BUILD / "chapters" / "api.html"


def public_modules() -> list[str]:
    import dlnlib

    return sorted(
        m.name
        for m in pkgutil.iter_modules(dlnlib.__path__)
        if not m.name.startswith("_")
    )


def public_objects(modname: str) -> list[str]:
    module = importlib.import_module(f"dlnlib.{modname}")
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, obj in vars(module).items()
            if not name.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == module.__name__
        ]
    return sorted(names)


def test_there_are_modules():
    assert len(public_modules()) >= 5


@pytest.mark.parametrize("modname", public_modules())
def test_module_documented(modname):
    assert API_PAGE.is_file(), f"{API_PAGE} not built"
    anchors = anchors_of(API_PAGE)
    assert f"module-dlnlib.{modname}" in anchors, (
        f"dlnlib.{modname} has no section on the API page: add an automodule to chapters/api.md"
    )
    missing = [
        n
        for n in public_objects(modname)
        if f"dlnlib.{modname}.{n}" not in anchors
    ]
    assert not missing, (
        f"dlnlib.{modname}: not on the API page (no docstring?): {missing}"
    )


def chapter_links_to_api() -> dict[str, set[str]]:
    """API anchors (e.g. 'dlnlib.bound.lower_bound') linked from each chapter page."""
    import re

    from booksite import toc_docnames

    links: dict[str, set[str]] = {}
    for doc in toc_docnames():
        page = BUILD / f"{doc}.html"
        if page == API_PAGE or not page.is_file():
            continue
        for m in re.finditer(
            r'href="[^"#]*api\.html#(dlnlib\.[\w.]+)"',
            page.read_text(encoding="utf-8"),
        ):
            links.setdefault(m.group(1), set()).add(doc)
    return links


def test_every_top_level_function_is_linked_from_a_chapter():
    """Each object of ``dlnlib.__all__`` is linked (``{py:func}``/``{py:class}``) from some chapter."""
    import dlnlib

    assert API_PAGE.is_file(), f"{API_PAGE} not built"
    links = chapter_links_to_api()
    missing = []
    for name in dlnlib.__all__:
        obj = getattr(dlnlib, name)
        target = f"{obj.__module__}.{obj.__qualname__}"
        if target not in links:
            missing.append(target)
    assert not missing, (
        "not linked from any chapter (link each where it is derived or first used, e.g. "
        "{py:func}`dlnlib.bound.lower_bound`): " + ", ".join(missing)
    )
