"""Launch buttons and the install cell (_ext/dln_launch.py): each check can fail."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import dln_launch  # noqa: E402

NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
REPO = "https://github.com/someone/dln-nuclear"
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_chapter_opens_with_the_committed_install_cell(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    expected = dln_launch.install_source()
    assert code[0].source == expected, (
        "the install cell differs from _ext/dln_launch.py's: run `make launch-cells`"
    )
    assert dln_launch.INSTALL_TAG in code[0].metadata.get("tags", []), (
        "the install cell must be tagged remove-cell (hidden in the book)"
    )
    assert not code[0].outputs, "the install cell showed something"


def run_install_cell(url, monkeypatch, installed, where):
    """Run the install cell's Python as IPython would, in the folder ``where``; return the
    commands it ran (none is really run)."""
    python = TransformerManager().transform_cell(
        dln_launch.install_source(url, None if url is None else SHA)
    )
    calls = []
    monkeypatch.setattr(
        subprocess, "run", lambda command, check: calls.append(command)
    )
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(where)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: real(name, *a) if installed else None,
    )
    exec(python, {})
    return calls


def test_the_install_cell_does_nothing_where_dlnlib_is_installed(
    monkeypatch, tmp_path
):
    for url in (REPO, None):
        assert run_install_cell(url, monkeypatch, True, tmp_path) == []
    assert sys.path[0] != str(tmp_path / "dln-nuclear")


def test_the_published_install_cell_installs_the_repository_at_the_commit(
    monkeypatch, tmp_path
):
    clone = str(tmp_path / "dln-nuclear")
    calls = run_install_cell(REPO, monkeypatch, False, tmp_path)
    assert calls == [
        ["git", "clone", "--quiet", REPO, clone],
        ["git", "-C", clone, "checkout", "--quiet", SHA],
        [sys.executable, "-m", "pip", "install", "--quiet", "-e", clone],
    ]
    assert sys.path[0] == clone
    # run again after a failure past the clone: the clone is not made twice
    (tmp_path / "dln-nuclear" / ".git").mkdir(parents=True)
    calls = run_install_cell(REPO, monkeypatch, False, tmp_path)
    assert [c[:2] for c in calls] == [["git", "-C"], [sys.executable, "-m"]]


def test_without_a_published_repository_the_install_cell_says_how(
    monkeypatch, tmp_path
):
    with pytest.raises(ModuleNotFoundError, match="make lab"):
        run_install_cell(None, monkeypatch, False, tmp_path)


@pytest.mark.parametrize(
    "url, ref, match",
    [
        ("https://gitlab.com/a/b", SHA, "--url"),
        (REPO, None, "--ref"),
        (REPO, "main", "--ref"),
        (REPO, SHA[:12], "--ref"),
    ],
)
def test_the_install_cell_refuses_a_bad_url_or_commit(url, ref, match):
    with pytest.raises(ValueError, match=match):
        dln_launch.install_source(url, ref)


def test_no_repository_no_buttons():
    options, log = dln_launch.launch_options(None, "main", "launch")
    assert options == {}
    assert "DLN_REPOSITORY_URL is not set" in log[0]


def test_binder_always_and_colab_only_from_the_published_launch_branch():
    options, log = dln_launch.launch_options(REPO + "/", "dev", None)
    assert options["repository_url"] == REPO
    assert options["repository_branch"] == "dev"
    assert options["launch_buttons"]["binderhub_url"] == dln_launch.BINDERHUB
    assert "colab_url" not in options["launch_buttons"]
    assert any(
        "no Colab (DLN_LAUNCH_BRANCH is not set" in line for line in log
    )

    options, log = dln_launch.launch_options(REPO, "main", "launch")
    assert options["repository_branch"] == "launch"
    assert options["launch_buttons"]["colab_url"] == dln_launch.COLAB
    assert options["launch_buttons"]["binderhub_url"] == dln_launch.BINDERHUB


@pytest.mark.parametrize(
    "url, branch, match",
    [
        ("https://gitlab.com/a/b", "main", "DLN_REPOSITORY_URL"),
        ("http://github.com/a/b", "main", "DLN_REPOSITORY_URL"),
        ("https://github.com/a", "main", "DLN_REPOSITORY_URL"),
        (REPO, "", "DLN_REPOSITORY_BRANCH"),
        (REPO, "a b", "DLN_REPOSITORY_BRANCH"),
    ],
)
def test_a_bad_repository_or_branch_stops_the_build(url, branch, match):
    with pytest.raises(ValueError, match=match):
        dln_launch.launch_options(url, branch, None)
    with pytest.raises(ValueError, match="DLN_LAUNCH_BRANCH"):
        dln_launch.launch_options(REPO, "main", " ")


def test_write_install_cells_inserts_replaces_and_leaves_alone(tmp_path):
    (tmp_path / "chapters").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell(
            "x = 1  # a knob", metadata={"tags": ["parameters"]}
        ),
    ]
    path = tmp_path / "chapters" / "c.ipynb"
    nbformat.write(nb, path)
    assert dln_launch.write_install_cells(tmp_path) == ["c"]
    cells = json.loads(path.read_text())["cells"]
    assert [c["cell_type"] for c in cells] == ["markdown", "code", "code"]
    assert "".join(cells[1]["source"]) == dln_launch.install_source()
    assert dln_launch.write_install_cells(tmp_path) == []
    assert dln_launch.write_install_cells(tmp_path, REPO, SHA) == ["c"]
    cells = json.loads(path.read_text())["cells"]
    written = "".join(cells[1]["source"])
    assert len(cells) == 3 and REPO in written and SHA in written
    nbformat.validate(nbformat.read(path, as_version=4))


def test_the_command_line_wants_url_and_commit_together(capsys):
    with pytest.raises(SystemExit):
        dln_launch.main(["--url", REPO])
    assert "--url and --ref go together" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        dln_launch.main(["--url", REPO, "--ref", "main"])
    assert "--ref is 'main'" in capsys.readouterr().err


def build(tmp_path, env):
    """A one-notebook Sphinx book with the book's theme and extension; its page's HTML."""
    src = tmp_path / "src"
    (src / "chapters").mkdir(parents=True)
    (src / "conf.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT / '_ext')!r})\n"
        'extensions = ["myst_nb", "dln_launch"]\n'
        'html_theme = "sphinx_book_theme"\n'
        'nb_execution_mode = "off"\n'
        'root_doc = "chapters/c"\n'
    )
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.metadata["language_info"] = {
        "name": "python",
        "pygments_lexer": "ipython3",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A chapter"),
        nbformat.v4.new_code_cell("1 + 1"),
    ]
    nbformat.write(nb, src / "chapters" / "c.ipynb")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DLN_REPOSITORY", "DLN_LAUNCH"))
    } | env
    out = tmp_path / "html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-b",
            "html",
            "-q",
            "-W",
            str(src),
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return (out / "chapters" / "c.html").read_text()


def test_the_theme_shows_the_buttons_the_options_ask_for(tmp_path):
    env = {"DLN_REPOSITORY_URL": REPO, "DLN_LAUNCH_BRANCH": "launch"}
    page = build(tmp_path / "a", env)
    binder = "https://mybinder.org/v2/gh/someone/dln-nuclear/{}?urlpath=lab/tree/chapters/c.ipynb"
    colab = "https://colab.research.google.com/github/someone/dln-nuclear/blob/launch/chapters/c.ipynb"
    assert binder.format("launch") in page and colab in page

    page = build(tmp_path / "b", {"DLN_REPOSITORY_URL": REPO})
    assert binder.format("main") in page and "colab.research" not in page

    page = build(tmp_path / "c", {"DLN_LAUNCH_BRANCH": "launch"})
    assert "mybinder" not in page and "colab.research" not in page
