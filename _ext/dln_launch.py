"""Launch buttons (Binder, Colab) on every chapter, and the install cell that Colab needs.

The repository a build is published from is not written in the book: the Pages workflow
(``.github/workflows/book.yml``) passes it in ``DLN_REPOSITORY_URL`` (``https://github.com/<owner>/<name>``,
from ``github.server_url`` and ``github.repository``) and ``DLN_REPOSITORY_BRANCH``. A build
without ``DLN_REPOSITORY_URL`` (``make book`` on a laptop) has no repository and no launch button,
and says so in the build log.

- **Binder** (mybinder.org) builds the repository from ``binder/`` (``requirements.txt``,
  ``postBuild``, which installs dlnlib), so a chapter runs there as it does after ``make lab``.
- **Colab** opens one notebook alone, from GitHub, with no dlnlib. Each chapter's first code cell
  (the *install cell*, hidden in the book) installs dlnlib where it is missing and does nothing
  where it is installed. A notebook cannot learn where it was opened from, so the repository's
  address must be written in the notebook Colab opens; the committed chapters name none (their
  install cell stops with a sentence saying how to install dlnlib by hand). On a push to main the
  workflow writes the address and the commit built into every chapter's install cell, which then
  clones the repository at that commit and installs it in editable mode (the library and, next to
  it, the sweep records that the page "Where the claims hold" reads) (``python _ext/dln_launch.py --url <url> --ref <sha>``) and
  publishes those chapters on the branch ``DLN_LAUNCH_BRANCH`` (``launch``). A build with
  ``DLN_LAUNCH_BRANCH`` set points Binder and Colab there; without it (pull requests, a local
  build with a repository) it shows Binder at ``DLN_REPOSITORY_BRANCH`` and no Colab button,
  which would open a chapter that cannot run.

``python _ext/dln_launch.py`` (``make launch-cells``) rewrites every chapter's install cell as
committed; ``tests/test_launch.py`` fails when a cell differs from it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GITHUB = re.compile(r"https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
BINDERHUB = "https://mybinder.org"
COLAB = "https://colab.research.google.com"
INSTALL_TAG = "remove-cell"
INSTALL_MARK = "# Install cell"

_HEAD = f"""{INSTALL_MARK}: Colab opens a chapter alone, without the book's repository.
# Where dlnlib is installed (`make lab`, Binder) this cell does nothing. Hidden in the book.
import importlib.util

if importlib.util.find_spec("dlnlib") is None:
"""
# The repository, not only the library: a page such as "Where the claims hold" reads the sweep
# records in sweeps/, next to dlnlib. Each step stops the cell if it fails.
_WITH_URL = """    import subprocess
    import sys
    from pathlib import Path

    repository = Path("dln-nuclear").resolve()  # the book's repository, at {ref_short}
    if not (repository / ".git").exists():
        subprocess.run(["git", "clone", "--quiet", "{url}", str(repository)], check=True)
    subprocess.run(["git", "-C", str(repository), "checkout", "--quiet", "{ref}"], check=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "-e", str(repository)], check=True
    )
    sys.path.insert(0, str(repository))  # importable now, not only after a restart
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


def check_ref(ref: str) -> str:
    """Return ``ref``, a commit's 40-digit hexadecimal name; raise ValueError otherwise."""
    if not re.fullmatch(r"[0-9a-f]{40}", ref or ""):
        raise ValueError(
            f"--ref is {ref!r}: the install cell pins dlnlib to a commit, "
            "given by its 40 hexadecimal digits"
        )
    return ref


def install_source(url: str | None = None, ref: str | None = None) -> str:
    """The text of the install cell: as committed (``url`` None), or installing dlnlib from the
    repository ``url`` at commit ``ref`` (the chapters the workflow publishes for Colab)."""
    if url is None:
        body = _WITHOUT_URL
    else:
        ref = check_ref(ref)
        body = _WITH_URL.format(
            url=check_url(url, "--url"), ref=ref, ref_short=ref[:12]
        )
    # as a notebook stores a cell's source: no final newline
    return (_HEAD + body).rstrip("\n")


def install_cell(url: str | None = None, ref: str | None = None) -> dict:
    """The install cell as an nbformat 4 code cell, tagged to stay out of the rendered book."""
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": "install",
        "metadata": {"tags": [INSTALL_TAG]},
        "outputs": [],
        "source": install_source(url, ref).splitlines(keepends=True),
    }


def install_cell_index(cells: list[dict]) -> int | None:
    """Index of a notebook's install cell (the first code cell, if it is one), or None."""
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            return (
                i if "".join(cell["source"]).startswith(INSTALL_MARK) else None
            )
    return None


def _check_branch(branch: str, where: str) -> str:
    if not branch.strip() or any(c.isspace() for c in branch):
        raise ValueError(f"{where} is {branch!r}: a branch name is needed")
    return branch


def launch_options(
    repository: str | None, branch: str, launch_branch: str | None = None
) -> tuple[dict, list[str]]:
    """Theme options for a build of ``repository`` at ``branch``, and the sentences for the log.

    ``launch_branch`` is the branch where the workflow publishes the chapters whose install cells
    install dlnlib (None: none is published for this build). Returns ``({}, ...)`` when
    ``repository`` is None: no repository, no buttons.
    """
    if repository is None:
        return {}, [
            "launch buttons: none (DLN_REPOSITORY_URL is not set; the Pages workflow sets it)"
        ]
    repository = check_url(repository, "DLN_REPOSITORY_URL")
    branch = _check_branch(branch, "DLN_REPOSITORY_BRANCH")
    buttons = {"binderhub_url": BINDERHUB, "notebook_interface": "jupyterlab"}
    if launch_branch is None:
        log = [
            f"launch buttons: Binder, from {repository} at {branch}",
            "launch buttons: no Colab (DLN_LAUNCH_BRANCH is not set: only a push to main "
            "publishes the chapters whose install cells install dlnlib)",
        ]
    else:
        branch = _check_branch(launch_branch, "DLN_LAUNCH_BRANCH")
        buttons["colab_url"] = COLAB
        log = [
            f"launch buttons: Binder and Colab, from {repository} at {branch}, where the "
            "workflow publishes the chapters whose install cells install dlnlib"
        ]
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
        os.environ.get("DLN_LAUNCH_BRANCH") or None,
    )
    config.html_theme_options = {**config.html_theme_options, **options}
    for line in log:
        logging.getLogger(__name__).info(line)


def setup(app):
    app.connect("config-inited", _configure)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def write_install_cells(
    root: Path = ROOT, url: str | None = None, ref: str | None = None
) -> list[str]:
    """Put the install cell (:func:`install_source`) first among each chapter's code cells.

    Returns the chapters whose notebook changed."""
    source = install_cell(url, ref)
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
        else:  # a new text, the stored run kept (the cell shows nothing either way)
            kept = {"tags": [INSTALL_TAG]}
            if "execution" in cells[i]["metadata"]:
                kept["execution"] = cells[i]["metadata"]["execution"]
            cells[i] = {
                **source,
                "execution_count": cells[i].get("execution_count"),
                "metadata": kept,
            }
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        changed.append(path.stem)
    return changed


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(
        description="Write every chapter's install cell: as committed, or (--url, --ref) "
        "installing dlnlib from a repository at a commit, as the workflow publishes for Colab."
    )
    parser.add_argument("--url", help="https://github.com/<owner>/<name>")
    parser.add_argument("--ref", help="the commit's 40 hexadecimal digits")
    args = parser.parse_args(argv)
    if (args.url is None) != (args.ref is None):
        parser.error("--url and --ref go together")
    # a bad address or commit: said, and nothing written
    try:
        done = write_install_cells(ROOT, args.url, args.ref)
    except ValueError as error:
        parser.error(str(error))
    print(
        "install cells rewritten:",
        ", ".join(done) if done else "none (all up to date)",
    )


if __name__ == "__main__":
    main()
