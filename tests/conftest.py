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
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_file = tempfile.NamedTemporaryFile(prefix="explore-kg-server-", suffix=".log", delete=False)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "explore_kg", "serve", "--port", str(self.port), *args],
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
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
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
