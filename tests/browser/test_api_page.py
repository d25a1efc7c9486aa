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

    return sorted(m.name for m in pkgutil.iter_modules(dlnlib.__path__) if not m.name.startswith("_"))


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
    missing = [n for n in public_objects(modname) if f"dlnlib.{modname}.{n}" not in anchors]
    assert not missing, f"dlnlib.{modname}: not on the API page (no docstring?): {missing}"
