"""The launch buttons of the built book, as the build was told to make them.

The Pages workflow builds with ``DLN_REPOSITORY_URL`` and ``DLN_REPOSITORY_BRANCH`` set (and, on a
push to main, ``DLN_LAUNCH_BRANCH``); a local ``make browser`` builds without them. This test reads
the same variables as the build (``_ext/dln_launch.py``), which ``make`` passes to both: with a
repository, every notebook page links to the repository and to Binder at that repository and
notebook, at the launch branch when there is one and at the branch built otherwise; to Colab at
the launch branch only when there is one; without a repository, no page has a launch link.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

import pytest
from booksite import BUILD, ROOT, source_of, toc_docnames

sys.path.insert(0, str(ROOT / "_ext"))
import dln_launch  # noqa: E402

URL = os.environ.get("DLN_REPOSITORY_URL") or None
LAUNCH = os.environ.get("DLN_LAUNCH_BRANCH") or None
BRANCH = LAUNCH or os.environ.get("DLN_REPOSITORY_BRANCH") or "main"
NOTEBOOKS = [
    d for d in toc_docnames() if (p := source_of(d)) and p.suffix == ".ipynb"
]


def test_the_book_has_notebook_pages():
    assert len(NOTEBOOKS) >= 10, NOTEBOOKS


@pytest.mark.parametrize("doc", NOTEBOOKS)
def test_a_notebook_page_has_the_launch_buttons_of_its_build(doc):
    page = (BUILD / f"{doc}.html").read_text(encoding="utf-8")
    if URL is None:
        assert "mybinder.org" not in page and "colab.research" not in page, (
            f"{doc}: a build without DLN_REPOSITORY_URL shows a launch link"
        )
        return
    repo = urlsplit(URL).path.strip("/")
    binder = f"{dln_launch.BINDERHUB}/v2/gh/{repo}/{BRANCH}?urlpath=lab/tree/{doc}.ipynb"
    assert binder in page, f"{doc}: no Binder link {binder}"
    assert f'href="{URL}"' in page, f"{doc}: no repository button to {URL}"
    colab = f"{dln_launch.COLAB}/github/{repo}/blob/{BRANCH}/{doc}.ipynb"
    if LAUNCH is not None:
        assert colab in page, f"{doc}: no Colab link {colab}"
    else:
        assert "colab.research" not in page, (
            f"{doc}: a Colab link, with no launch branch published for it"
        )
