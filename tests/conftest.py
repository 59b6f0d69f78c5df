"""Shared fixtures: real servers on free loopback ports, started as the user would start them.

``live_server`` (session) is ``python -m explore_kg serve --port N`` serving the shipped data; its
value is the base URL ("http://127.0.0.1:54321"). ``start_server(*args)`` starts another one with
other arguments (files to serve, a shorter --timeout...) for tests that need it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

STARTUP_SECONDS = 90


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """A ``serve`` subprocess, its base URL and its log (stdout and stderr, kept in a file)."""

    def __init__(self, *args: str):
        self.args = args
        self.log_file = tempfile.NamedTemporaryFile(prefix="explore-kg-server-", suffix=".log", delete=False)
        self._spawn()

    def _spawn(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_file.seek(0)
        self.log_file.truncate()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "explore_kg", "serve", "--port", str(self.port), *self.args],
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )

    @property
    def log(self) -> str:
        return Path(self.log_file.name).read_text(encoding="utf-8", errors="replace")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        tries = 3  # a free port can be taken before the server binds it (parallel workers: pytest -n)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tries -= 1
                if tries and "already in use" in self.log.lower():
                    self._spawn()
                    continue
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer /health within {STARTUP_SECONDS} s:\n{self.log}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log_file.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log_file.name)


@contextlib.contextmanager
def start_server(*args: str) -> Iterator[ServerProcess]:
    """Run ``explore-kg serve --port <free> *args`` until the block ends."""
    server = ServerProcess(*args)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_server_process() -> Iterator[ServerProcess]:
    with start_server() as server:
        yield server


@pytest.fixture(scope="session")
def live_server(live_server_process: ServerProcess) -> str:
    """Base URL of a real uvicorn server serving the shipped data."""
    return live_server_process.url


@pytest.fixture(scope="module")
def http(live_server: str) -> Iterator[httpx.Client]:
    """An httpx client whose base URL is the live server (generous timeout: dumps take a while)."""
    with httpx.Client(base_url=live_server, timeout=120) as client:
        yield client


# --- running in parallel (pytest-xdist: `pytest -n 2`, --dist loadgroup from pyproject) ------------
# Scheduling only: which tests share a worker and which start first. Nothing here changes what a
# test checks, and without -n it only reorders modules and gives the run a cache directory of its own.

# Started first, so the longest tests do not end up alone at the end of a parallel run.
SLOW_FIRST = ("tests/test_docs.py", "tests/test_server_reliability.py", "tests/test_web_browser.py",
              "tests/test_export.py")


def pytest_configure(config: pytest.Config) -> None:
    """Under ``-n N``, xdist's default ``--dist load`` becomes ``loadgroup`` in the order below (an
    explicit --dist wins). Each pytest process (each worker) gets an XDG cache directory of its own:
    on-disk stores built without --store-dir go there, so workers never share one, and the tests
    never fill the user's ~/.cache/explore-kg."""
    config.addinivalue_line("markers", "xdist_group(name): run with the other tests of that group, on one worker")
    if getattr(config.option, "dist", "no") == "load" and not any(
            a == "--dist" or a.startswith("--dist=") or a == "-d" for a in config.invocation_params.args):
        config.option.dist, config.option.loadscopereorder = "loadgroup", False
    config._explore_kg_cache = os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(
        prefix=f"explore-kg-test-cache-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-")


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    if getattr(config, "_explore_kg_cache", None):
        shutil.rmtree(config._explore_kg_cache, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """One xdist group per test module, so its module-scoped servers and browsers start once, on one
    worker (a test marked ``@pytest.mark.xdist_group(NAME)`` runs apart, in its own group); the
    modules of SLOW_FIRST go first."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return SLOW_FIRST.index(path) if path in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: the order within a module is kept
