"""Small fixes to the HTML pages of the book, found by the browser test (tests/browser).

- Some extensions (sphinx-thebe, sphinx-togglebutton) end up with their inline configuration
  script twice on every page.  sphinx-thebe's declares ``const THEBE_JS_URL``, so the second copy
  throws "Identifier 'THEBE_JS_URL' has already been declared" in the browser console.  We keep
  the first copy of every script that appears more than once (same file, same inline body; an
  inline script's filename is None in one copy and "" in the other).
- The book's own style sheet, ``_ext/static/dln.css``: the claims' verdict lines and tables.
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    for js in scripts:
        attrs = getattr(js, "attributes", {}) or {}
        key = (
            getattr(js, "filename", str(js)) or "",
            tuple(sorted((k, str(v)) for k, v in attrs.items())),
        )
        if key in seen:
            continue
        seen.add(key)
        unique.append(js)
    # in place: it is the builder's own list, to which later handlers (e.g. MathJax) still append
    scripts[:] = unique


def _add_static(app, config):
    config.html_static_path.append(str(STATIC))


def setup(app):
    app.connect("config-inited", _add_static)
    app.add_css_file("dln.css")
    # Early: a later html-page-context handler may return a template name, which stops the event.
    app.connect("html-page-context", _dedupe_scripts, priority=1)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
