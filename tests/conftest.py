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
pytest_plugins = ["external_stores"]  # oxigraph_store, virtuoso_store: real external SPARQL stores


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


# --- running in parallel (pytest-xdist: `pytest -n 2`) ----------------------------------------------
# Scheduling only: which tests share a worker and which start first. Nothing here changes what a
# test checks; without -n it only reorders the modules (and gives the run a cache directory of its own).

# Started first, so the longest tests do not end up alone at the end of a parallel run.
SLOW_FIRST = ("tests/test_docs.py", "tests/test_server_reliability.py", "tests/test_web_browser.py",
              "tests/test_export.py")
# Tests that may run on another worker than the rest of their module (they start servers of their own).
APART = {"tests/test_server_reliability.py::test_slow_readers_do_not_bloat_the_server",
         "tests/test_server_reliability.py::test_sigterm_ends_the_server_within_its_shutdown_timeout"}


def pytest_configure(config: pytest.Config) -> None:
    """Each pytest process (each xdist worker) gets an XDG cache directory of its own: on-disk stores
    built without --store-dir go there, so workers never share one, and the tests never fill the
    user's ~/.cache/explore-kg."""
    config._explore_kg_cache = os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(
        prefix=f"explore-kg-test-cache-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-")


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    if getattr(config, "_explore_kg_cache", None):
        shutil.rmtree(config._explore_kg_cache, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The modules of SLOW_FIRST go first (the order within a module is kept)."""
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return SLOW_FIRST.index(path) if path in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)


def _apart() -> set[str]:
    """APART, and the docs' blocks that build a venv of their own (the README's first command)."""
    try:
        import test_docs
    except ImportError:
        return set(APART)
    return APART | {f"tests/test_docs.py::test_code_block_runs_as_written[{block.id}]"
                    for block in test_docs.RUN_BLOCKS if test_docs.installs(block.text)}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Under ``-n N`` (without an explicit --dist): one work unit per test module, so a module's
    servers and browser start once, on one worker, except the tests of APART; in collection order.
    (xdist's ``loadgroup`` would do it with marks, but does not group on pytest 9.2: xdist issue 1386.)"""
    if config.getvalue("dist") != "load" or any(
            a in ("--dist", "-d") or a.startswith("--dist=") for a in config.invocation_params.args):
        return None
    from xdist.scheduler import LoadScopeScheduling

    apart = _apart()

    class ByModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return nodeid if nodeid in apart else nodeid.split("::", 1)[0]

    config.option.loadscopereorder = False
    return ByModule(config, log)
