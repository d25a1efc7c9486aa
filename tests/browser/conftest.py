"""Fixtures for the browser test of the built book (_build/html).

`make test` runs this directory in its own pytest call, after the strict book build; the unit-test
stage ignores it (the book does not exist yet at that point).  Everything is started here:

- a static HTTP server on a free localhost port serving _build/html (no network needed);
- Debian's Chromium (installed with apt-get when /usr/bin/chromium is missing), driven headless by
  Playwright for Python with ``executable_path`` (Playwright never downloads a browser here),
  in a persistent context with a fresh user-data-dir.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from booksite import BUILD, ROOT

CHROMIUM = Path(os.environ.get("DLN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "_build" / "screenshots"


def _install_chromium() -> None:
    """apt-get install Debian's chromium (root, or through sudo when available)."""
    prefix: list[str] = []
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None:
            pytest.fail(
                f"{CHROMIUM} is missing and we are not root: run `apt-get install -y chromium` as root"
            )
        prefix = [sudo, "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "chromium"],
    ):
        proc = subprocess.run(
            prefix + cmd, env=env, capture_output=True, text=True
        )
        if proc.returncode != 0:
            pytest.fail(
                f"`{' '.join(cmd)}` failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
            )


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        _install_chromium()
    assert CHROMIUM.exists(), (
        f"{CHROMIUM} still missing after apt-get install chromium"
    )
    return CHROMIUM


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves _build/html without logging every request (the browser reports 4xx/5xx itself)."""

    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


@pytest.fixture(scope="session")
def site():
    """Base URL (ending in /) of _build/html served on a free localhost port."""
    if not (BUILD / "index.html").is_file():
        pytest.fail(
            f"{BUILD}/index.html not found: build the book first (`make book`)"
        )
    handler = functools.partial(_QuietHandler, directory=str(BUILD))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser_context(chromium, tmp_path_factory):
    """A headless Chromium context with a fresh profile; requests leaving localhost are blocked."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
            device_scale_factor=1,
        )
        # generous: on a busy 2-core machine a page load can take minutes; a broken page still fails
        context.set_default_timeout(300_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    return SCREENSHOTS
