"""Every page of the built book, opened in headless Chromium.

For each page (the toc's documents plus every other page Sphinx wrote, e.g. genindex, search) it
checks that

- the page loads with no console error, no uncaught exception, no 4xx/5xx for anything it loads
  from the site, and no request at all to another host (MathJax comes from the site, not a CDN);
- the math is typeset: every Sphinx math element holds a MathJax ``mjx-container``, there is no
  MathJax error node (``mjx-merror``), no raw ``$$``, ``\\begin``, ``\\(`` or TeX macro is left in
  the visible text outside code, and no display equation is wider than the page column (in a
  1280 px wide window; on the API page, whose equations come from docstrings, only reported);
- no rendered cell output shows an object repr (``<matplotlib...>``), a warning or a traceback;
- every image has loaded with a non-zero natural size;
- every link into the site resolves to a file and, with a ``#fragment``, to an element with that id;
- a notebook page offers its ``.ipynb`` for download, and the download is that notebook;

and saves a screenshot of the first screen of every toc page under ``_build/screenshots/``.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest
from booksite import (
    BUILD,
    ROOT,
    all_pages,
    built_pages,
    check_internal_link,
    source_of,
    toc_docnames,
)

PAGES = all_pages()
TOC_PAGES = {f"{d}.html" for d in toc_docnames()}
REPORT = ROOT / "_build" / "browser-report.json"
# The API page's equations are the ``.. math::`` blocks of the dlnlib docstrings, also read as
# plain text (help()); on that page a too-wide equation is listed in the report ("wide_equations")
# instead of failing the test.  Every other page fails on one.
WIDE_EQUATIONS_REPORTED_ONLY: set[str] = set()
_report: dict[str, dict] = {}

WAIT_FOR_MATHJAX = """async () => {
  if (!document.querySelector('script[src*="mathjax/"]')) return null;
  for (let i = 0; i < 6000; i++) {  // up to 5 minutes: a loaded CI machine is slow, not broken
    if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) break;
    await new Promise(r => setTimeout(r, 50));
  }
  if (!(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)) return 'not started';
  const timeout = new Promise(resolve => setTimeout(() => resolve('timed out'), 300000));
  const done = window.MathJax.startup.promise.then(() => window.MathJax.version);
  return await Promise.race([done, timeout]);
}"""

INSPECT_MATH = r"""() => {
  const out = {maths: 0, containers: 0, untypeset: [], errors: [], raw: []};
  const mathEls = Array.from(document.querySelectorAll('span.math, div.math'));
  out.maths = mathEls.length;
  out.containers = document.querySelectorAll('mjx-container').length;
  for (const el of mathEls) {
    if (!el.querySelector('mjx-container')) out.untypeset.push(el.textContent.trim().slice(0, 120));
  }
  out.overflow = [];
  for (const el of document.querySelectorAll('div.math')) {
    const box = el.getBoundingClientRect().width;
    const mjx = el.querySelector('mjx-container');
    if (!mjx || el.offsetParent === null) continue;
    const wide = Math.max(mjx.scrollWidth, el.scrollWidth);
    if (wide > box + 2) out.overflow.push(`${Math.round(wide)} px in ${Math.round(box)} px: ` +
                                          (mjx.querySelector('mjx-assistive-mml')?.textContent || '').slice(0, 80));
  }
  for (const e of document.querySelectorAll('mjx-merror')) {
    out.errors.push((e.getAttribute('data-mjx-error') || e.textContent || '').slice(0, 200));
  }
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight, kbd, samp';
  const pat = /\$\$|\\begin\{|\\end\{|\\\(|\\\)|\\\[|\\\]|\\[A-Za-z]{2,}|\$[^$\n]*[\\^_{][^$\n]*\$/;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const t = node.nodeValue;
    if (!t || !pat.test(t)) continue;
    const el = node.parentElement;
    if (!el || el.closest(skip)) continue;
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    out.raw.push(t.trim().slice(0, 160));
  }
  return out;
}"""

INSPECT_IMAGES = """async () => {
  const imgs = Array.from(document.images);
  for (const img of imgs) img.loading = 'eager';
  await Promise.all(imgs.map(img => img.complete ? null : new Promise(resolve => {
    img.addEventListener('load', resolve); img.addEventListener('error', resolve);
    setTimeout(resolve, 300000);
  })));
  return imgs.map(img => ({src: img.getAttribute('src'), url: img.currentSrc || img.src,
                           w: img.naturalWidth, h: img.naturalHeight, complete: img.complete,
                           shown: Math.round(img.getBoundingClientRect().width)}));
}"""

LINKS = (
    "() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
)

# Rendered notebook output that is noise rather than content: object reprs, warnings, tracebacks.
INSPECT_OUTPUTS = r"""() => {
  const pat = /<(matplotlib\.|Figure size|Axes:|[\w.]+ object at 0x)|\b[A-Z]\w*Warning\b|Traceback \(most recent call last\)/;
  const out = [];
  for (const el of document.querySelectorAll('.cell_output')) {
    const t = el.innerText || '';
    const m = t.match(pat);
    if (m) out.push(t.slice(Math.max(0, m.index - 40), m.index + 120).trim());
  }
  // A cell whose code is hidden shows only what it means to show (a figure, a table, a verdict):
  // a bare value there (the repr of a number, a bool, None or a tuple of numbers that the last
  // expression returned) is a stray output.
  const bare = /^\s*(\(?\s*(-?[\d.]+(e[+-]?\d+)?|True|False|None)\s*(,\s*(-?[\d.]+(e[+-]?\d+)?|True|False|None)\s*)*,?\s*\)?)\s*$/;
  const quoted = /^\s*(['"])[^]*\1\s*$/;  // the repr of a string
  for (const el of document.querySelectorAll('.cell.tag_hide-input .cell_output .output.text_plain')) {
    const t = el.innerText || '';
    if (bare.test(t) || quoted.test(t)) out.push('stray output of a hidden cell: ' + t.trim().slice(0, 80));
  }
  // A claim that failed when the outputs were stored (reader mode) must never reach the book.
  for (const el of document.querySelectorAll('.cell_output .admonition.error')) {
    if ((el.innerText || '').includes('Claim failed')) out.push(el.innerText.slice(0, 160));
  }
  return out;
}"""

# Code and output blocks too wide for the column (they scroll sideways): reported, not failed.
INSPECT_WIDE = """() => Array.from(document.querySelectorAll('article pre'))
  .filter(p => p.scrollWidth > p.clientWidth + 2 && p.offsetParent !== null)
  .map(p => p.innerText.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 100))"""


def test_every_toc_document_was_built():
    assert (BUILD / "index.html").is_file(), (
        f"no book in {BUILD}: run `make book` first"
    )
    missing = [
        d for d in toc_docnames() if not (BUILD / f"{d}.html").is_file()
    ]
    assert not missing, f"toc documents without a page: {missing}"
    assert len(built_pages()) >= len(toc_docnames())


@pytest.mark.parametrize(
    "page_path", PAGES or ["<no pages: the book is not built>"]
)
def test_page(page_path, site, browser_context, screenshots):
    assert (BUILD / page_path).is_file(), f"{page_path}: not in {BUILD}"
    started = time.perf_counter()
    problems: list[str] = []
    page = browser_context.new_page()

    def on_console(msg):
        if msg.type == "error":
            problems.append(
                f"console error: {msg.text} ({msg.location.get('url', '')})"
            )

    def on_response(resp):
        if resp.url.startswith(site) and resp.status >= 400:
            problems.append(f"HTTP {resp.status} for {resp.url[len(site) :]}")

    def on_failed(req):
        if req.url.startswith(site):
            problems.append(
                f"request failed: {req.url[len(site) :]} ({req.failure})"
            )

    def route(r):
        url = r.request.url
        if url.startswith(site):
            r.continue_()
        else:
            problems.append(
                f"request to another host (the site must be self-contained): {url}"
            )
            r.abort()

    page.on("console", on_console)
    page.on(
        "pageerror", lambda exc: problems.append(f"uncaught exception: {exc}")
    )
    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    page.route("**/*", route)
    try:
        page.goto(site + page_path, wait_until="load")
        page.wait_for_load_state("networkidle")
        mathjax = page.evaluate(WAIT_FOR_MATHJAX)
        page.evaluate("async () => { await document.fonts.ready; }")

        # Math
        math = page.evaluate(INSPECT_MATH)
        if math["maths"] and not mathjax:
            problems.append(
                f"{math['maths']} math elements but MathJax is not on the page"
            )
        if mathjax in ("not started", "timed out"):
            problems.append(
                f"MathJax script present but it {'never started' if mathjax == 'not started' else 'did not finish in 5 minutes'}"
            )
        for tex in math["untypeset"]:
            problems.append(f"math not typeset: {tex!r}")
        for err in math["errors"]:
            problems.append(f"MathJax error: {err!r}")
        if page_path not in WIDE_EQUATIONS_REPORTED_ONLY:
            for wide_eq in math["overflow"]:
                problems.append(
                    f"display equation wider than the page column (scrolls sideways): {wide_eq}"
                )
        for raw in math["raw"]:
            problems.append(f"raw TeX in the visible text: {raw!r}")

        # Images
        images = page.evaluate(INSPECT_IMAGES)
        for img in images:
            if not img["complete"] or img["w"] == 0 or img["h"] == 0:
                problems.append(
                    f"image did not load ({img['w']}x{img['h']}): {img['src']}"
                )
            elif (
                "/_images/" in img["url"]
                and img["shown"]
                and img["w"] < 1.9 * img["shown"]
            ):
                # figures are stored at twice the column width so they stay sharp on high-density screens
                problems.append(
                    f"figure not sharp on a high-density screen: {img['w']} px wide, shown at {img['shown']} px: {img['src']}"
                )

        # Noise in the rendered outputs
        for noise in page.evaluate(INSPECT_OUTPUTS):
            problems.append(
                f"noise in a cell output (repr, warning, traceback, stray value or failed claim): {noise!r}"
            )
        wide = page.evaluate(INSPECT_WIDE)

        # Links into the site
        links = {h for h in page.evaluate(LINKS) if h.startswith(site)}
        for href in sorted(links):
            problem = check_internal_link(href, site)
            if problem:
                problems.append(f"broken link: {problem}")

        # The notebook download button
        docname = page_path.removesuffix(".html")
        source = source_of(docname) if page_path in TOC_PAGES else None
        if source is not None and source.suffix == ".ipynb":
            nb_links = sorted(
                h for h in links if urlsplit(h).path.endswith(".ipynb")
            )
            if not nb_links:
                problems.append(
                    "notebook page without an .ipynb download link"
                )
            for href in nb_links:
                resp = page.request.get(href)
                if resp.status != 200:
                    problems.append(f"download {href}: HTTP {resp.status}")
                    continue
                body = resp.body()
                try:
                    nb = json.loads(body)
                except ValueError:
                    problems.append(f"download {href}: not JSON")
                    continue
                if "cells" not in nb or "nbformat" not in nb:
                    problems.append(f"download {href}: not a notebook")
                if body != source.read_bytes():
                    problems.append(
                        f"download {href}: differs from {source.relative_to(ROOT)}"
                    )

        if page_path in TOC_PAGES:
            page.screenshot(
                path=str(screenshots / (docname.replace("/", "__") + ".png"))
            )
    finally:
        page.close()

    _report[page_path] = {
        "seconds": round(time.perf_counter() - started, 2),
        "math_elements": math["maths"] if "math" in locals() else None,
        "mjx_containers": math["containers"] if "math" in locals() else None,
        # natural size, and the width it is shown at in a 1280 px wide window
        "images": [
            f"{i['w']}x{i['h']} shown {i['shown']} px wide: {i['src']}"
            for i in images
        ]
        if "images" in locals()
        else None,
        "wide_code_lines": wide if "wide" in locals() else None,
        "wide_equations": math["overflow"] if "math" in locals() else None,
        "internal_links": len(links) if "links" in locals() else None,
        "mathjax": mathjax if "mathjax" in locals() else None,
        "problems": problems,
    }
    REPORT.write_text(json.dumps(_report, indent=1))
    # one line per problem, identical problems counted once
    unique = list(dict.fromkeys(problems))
    assert not unique, (
        f"{page_path}: {len(unique)} problem(s):\n  " + "\n  ".join(unique)
    )
