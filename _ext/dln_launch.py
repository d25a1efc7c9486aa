"""Launch buttons (Binder, Colab) on every chapter, and the install cell that Colab needs.

The repository a build is published from is not written in ``_config.yml``: the Pages workflow
(``.github/workflows/book.yml``) passes it in ``DLN_REPOSITORY_URL`` (``https://github.com/<owner>/<name>``,
from ``github.server_url`` and ``github.repository``) and ``DLN_REPOSITORY_BRANCH``. A build
without ``DLN_REPOSITORY_URL`` (``make book`` on a laptop) has no repository and no launch button,
and says so in the build log.

- **Binder** (mybinder.org) builds the repository from ``binder/`` (``requirements.txt``,
  ``postBuild``, which installs dlnlib), so a chapter runs there as it does after ``make lab``.
- **Colab** opens one notebook alone, from GitHub, with no dlnlib. Each chapter's first code cell
  (the *install cell*, hidden in the book) installs dlnlib from the book's public repository, the
  ``Repository`` URL in ``pyproject.toml``'s ``[project.urls]``. Where dlnlib is installed the cell
  does nothing. A notebook cannot learn where it was opened from, so that URL has to be committed;
  while ``pyproject.toml`` names none, the install cell stops with a sentence saying how to install
  dlnlib by hand, and the build shows no Colab button (it would open a chapter that cannot run).
  The Colab button is also left out when the repository being built is not the one the install
  cells install from (a fork): its chapters would run another repository's library.

``python _ext/dln_launch.py`` rewrites every chapter's install cell from ``pyproject.toml``
(``make launch-cells``); ``tests/test_launch.py`` fails when a cell differs from it.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GITHUB = re.compile(r"https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
BINDERHUB = "https://mybinder.org"
COLAB = "https://colab.research.google.com"
INSTALL_TAG = "remove-cell"
INSTALL_MARK = "# Install cell"

_HEAD = f"""{INSTALL_MARK}: Colab opens a chapter alone, without the book's library dlnlib.
# Where dlnlib is installed (`make lab`, Binder) this cell does nothing. Hidden in the book.
import importlib.util

if importlib.util.find_spec("dlnlib") is None:
"""
_WITH_URL = """    %pip install --quiet "dlnlib @ git+{url}"
"""
_WITHOUT_URL = """    raise ModuleNotFoundError(
        "dlnlib, the book's library, is not installed: in a clone of the "
        "book's repository run `make lab`, or `pip install -e .` there"
    )
"""


def check_url(url: str, where: str) -> str:
    """Return ``url`` without a trailing slash or ``.git``; raise ValueError unless it is a
    GitHub repository address (the only host both Binder's and Colab's buttons understand)."""
    url = url.strip().removesuffix("/").removesuffix(".git")
    if not GITHUB.fullmatch(url):
        raise ValueError(
            f"{where} is {url!r}: a launch button needs a GitHub repository address, "
            "https://github.com/<owner>/<name>"
        )
    return url


def published_url(root: Path = ROOT) -> str | None:
    """The book's public repository, ``[project.urls] Repository`` of pyproject.toml, or None."""
    with open(root / "pyproject.toml", "rb") as f:
        urls = tomllib.load(f).get("project", {}).get("urls", {})
    url = urls.get("Repository")
    return (
        None
        if url is None
        else check_url(url, "pyproject.toml's [project.urls] Repository")
    )


def install_source(url: str | None) -> str:
    """The text of the install cell for a public repository ``url`` (None: not published yet)."""
    body = _WITHOUT_URL if url is None else _WITH_URL.format(url=url)
    # as ruff format leaves a cell: no final newline
    return (_HEAD + body).rstrip("\n")


def install_cell(url: str | None) -> dict:
    """The install cell as an nbformat 4 code cell, tagged to stay out of the rendered book."""
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": "install",
        "metadata": {"tags": [INSTALL_TAG]},
        "outputs": [],
        "source": install_source(url).splitlines(keepends=True),
    }


def install_cell_index(cells: list[dict]) -> int | None:
    """Index of a notebook's install cell (the first code cell, if it is one), or None."""
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            return (
                i if "".join(cell["source"]).startswith(INSTALL_MARK) else None
            )
    return None


def launch_options(
    repository: str | None, branch: str, published: str | None
) -> tuple[dict, list[str]]:
    """Theme options for a build of ``repository`` at ``branch``, and the sentences for the log.

    ``published`` is the repository the install cells install dlnlib from. Returns ``({}, ...)``
    when ``repository`` is None: no repository, no buttons.
    """
    if repository is None:
        return {}, [
            "launch buttons: none (DLN_REPOSITORY_URL is not set; the Pages workflow sets it)"
        ]
    repository = check_url(repository, "DLN_REPOSITORY_URL")
    if not branch.strip() or any(c.isspace() for c in branch):
        raise ValueError(
            f"DLN_REPOSITORY_BRANCH is {branch!r}: a branch name is needed"
        )
    buttons = {"binderhub_url": BINDERHUB, "notebook_interface": "jupyterlab"}
    log = [f"launch buttons: Binder, from {repository} at {branch}"]
    if published is None:
        log.append(
            "launch buttons: no Colab (pyproject.toml names no [project.urls] Repository "
            "for the install cell to install dlnlib from)"
        )
    elif published.lower() != repository.lower():
        log.append(
            f"launch buttons: no Colab (the install cells install dlnlib from {published}, "
            f"this build is of {repository})"
        )
    else:
        buttons["colab_url"] = COLAB
        log.append(
            f"launch buttons: Colab, installing dlnlib from {published}"
        )
    options = {
        "repository_url": repository,
        "repository_branch": branch,
        "path_to_docs": "",
        "use_repository_button": True,
        "launch_buttons": buttons,
    }
    return options, log


def _configure(app, config):
    from sphinx.util import logging

    options, log = launch_options(
        os.environ.get("DLN_REPOSITORY_URL") or None,
        os.environ.get("DLN_REPOSITORY_BRANCH") or "main",
        published_url(Path(app.confdir)),
    )
    config.html_theme_options = {**config.html_theme_options, **options}
    for line in log:
        logging.getLogger(__name__).info(line)


def setup(app):
    app.connect("config-inited", _configure)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def write_install_cells(root: Path = ROOT) -> list[str]:
    """Put the install cell for pyproject's URL first among each chapter's code cells.

    Returns the chapters whose notebook changed."""
    source = install_cell(published_url(root))
    changed = []
    for path in sorted((root / "chapters").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        cells = nb["cells"]
        i = install_cell_index(cells)
        if i is not None and "".join(cells[i]["source"]) == "".join(
            source["source"]
        ):
            continue
        if i is None:
            first_code = next(
                j for j, c in enumerate(cells) if c["cell_type"] == "code"
            )
            cells.insert(first_code, source)
        else:
            cells[i] = source
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        changed.append(path.stem)
    return changed


if __name__ == "__main__":
    done = write_install_cells()
    print(
        "install cells rewritten:",
        ", ".join(done) if done else "none (all up to date)",
    )
    sys.exit(0)
