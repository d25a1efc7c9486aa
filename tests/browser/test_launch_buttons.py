"""The launch buttons of the built book, as the build was told to make them.

The Pages workflow builds with ``DLN_REPOSITORY_URL`` (and ``DLN_REPOSITORY_BRANCH``) set; a local
``make browser`` builds without them. This test reads the same variables as the build
(``_ext/dln_launch.py``), which ``make`` passes to both: with a repository, every notebook page
links to Binder at that repository, branch and notebook, and to the repository; Colab only when
``pyproject.toml`` publishes the install cells from that repository; without one, no page has a
launch link.
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
BRANCH = os.environ.get("DLN_REPOSITORY_BRANCH") or "main"
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
    published = dln_launch.published_url(ROOT)
    colab = f"{dln_launch.COLAB}/github/{repo}/blob/{BRANCH}/{doc}.ipynb"
    wanted = published is not None and published.lower() == URL.lower()
    assert (colab in page) == wanted, (
        f"{doc}: Colab link {'missing' if wanted else 'shown'}; pyproject"
        f" publishes the install cells from {published}, the build is of {URL}"
    )
