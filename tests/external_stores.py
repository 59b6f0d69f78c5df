"""Real external SPARQL stores for the tests (a pytest plugin: ``pytest_plugins`` in conftest.py).

* ``oxigraph_store`` (session): ``oxigraph serve --location TMPDIR --bind 127.0.0.1:PORT`` (PyPI
  ``oxigraph``, in the test extra); its value is a :class:`StoreProcess` (``.url`` the base URL).
* ``virtuoso_store`` (session): Virtuoso Open Source 7 (Debian ``virtuoso-opensource``) with its own
  ``virtuoso.ini`` in a temporary directory, its own ports on 127.0.0.1; updates go to
  ``/sparql-auth`` with digest credentials (dba/dba of a fresh database). Skipped, with the reason,
  when ``virtuoso-t`` is absent outside CI; in CI (``CI`` set) its absence is a failure.

Each is started once per test session and stopped by its PID. ``StoreProcess.kill()`` / ``restart()``
let a test take a store down mid-run and bring it back on the same port and data.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

STARTUP_SECONDS = 120
VIRTUOSO_USER, VIRTUOSO_PASSWORD = "dba", "dba"  # a fresh Virtuoso database's administrator


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StoreProcess:
    """An external store process: how to start it, its URL, its log; stopped by PID."""

    def __init__(self, name: str, command: list[str], url: str, probe: str, workdir: Path, log: Path, *,
                 auth: tuple[str, str] | None = None, env: dict | None = None):
        self.name, self.command, self.url, self.probe, self.workdir = name, command, url, probe, workdir
        self.log_path, self.auth, self.env = log, auth, env
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child holds it
        from explore_kg.lifecycle import die_with_parent  # (a killed test run leaves no store behind)

        self.process = subprocess.Popen(self.command, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=self.env, start_new_session=True,
                                        preexec_fn=die_with_parent)
        log.close()
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                r = httpx.get(self.probe, params={"query": "ASK {}"}, timeout=2)
                if r.status_code == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {STARTUP_SECONDS} s:\n{self.log[-3000:]}")

    @property
    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def kill(self) -> None:
        """Take the store down at once (SIGKILL by its PID), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


def oxigraph_binary() -> str | None:
    candidate = Path(sys.executable).with_name("oxigraph")
    return str(candidate) if candidate.exists() else shutil.which("oxigraph")


def start_oxigraph(workdir: Path) -> StoreProcess:
    binary = oxigraph_binary()
    if binary is None:
        pytest.skip("the oxigraph command (PyPI oxigraph, in the test extra) is not installed")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    store = StoreProcess("oxigraph", [binary, "serve", "--location", str(workdir / "data"), "--bind",
                                      f"127.0.0.1:{port}"], url, url + "/query", workdir, workdir / "oxigraph.log")
    store.start()
    return store


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {dir}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
MaxQueryMem = 256M
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 4
VADInstallDir = {dir}/vad

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}/vsp
MaxClientConnections = 8
ServerThreads = 8
EnabledDavVSP = 0
HTTPProxyEnabled = 0
Charset = UTF-8
EnabledGzipContent = 0

[Client]
SQL_PREFETCH_ROWS = 100
SQL_PREFETCH_BYTES = 16000
SQL_QUERY_TIMEOUT = 0
SQL_TXN_TIMEOUT = 0

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryCostEstimationTime = 400
MaxQueryExecutionTime = 60
"""


def virtuoso_binary() -> str | None:
    return shutil.which("virtuoso-t") or next(
        (p for p in ("/usr/bin/virtuoso-t", "/usr/local/bin/virtuoso-t") if os.path.exists(p)), None)


def start_virtuoso(workdir: Path) -> StoreProcess:
    binary = virtuoso_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("virtuoso-t is not installed; .ci/run installs Debian's virtuoso-opensource")
        pytest.skip("Virtuoso (virtuoso-t, Debian package virtuoso-opensource) is not installed")
    http_port, sql_port = _free_port(), _free_port()
    (workdir / "vsp").mkdir(exist_ok=True)
    (workdir / "vad").mkdir(exist_ok=True)
    ini = workdir / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(dir=workdir, sql_port=sql_port, http_port=http_port), encoding="utf-8")
    url = f"http://127.0.0.1:{http_port}"
    store = StoreProcess("virtuoso", [binary, "+foreground", "+configfile", str(ini)], url, url + "/sparql",
                         workdir, workdir / "stdout.log", auth=(VIRTUOSO_USER, VIRTUOSO_PASSWORD))
    store.start()
    return store


@contextlib.contextmanager
def _running(start) -> Iterator[StoreProcess]:
    workdir = Path(tempfile.mkdtemp(prefix="explore-kg-store-"))
    store = None
    try:
        store = start(workdir)
        yield store
    finally:
        if store is not None:
            store.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def oxigraph_store() -> Iterator[StoreProcess]:
    """An Oxigraph server on a free loopback port, with a persistent store in a temporary directory."""
    with _running(start_oxigraph) as store:
        yield store


@pytest.fixture(scope="session")
def virtuoso_store() -> Iterator[StoreProcess]:
    """A Virtuoso Open Source 7 server with its own database, ini and ports in a temporary directory."""
    with _running(start_virtuoso) as store:
        yield store


def store_url(store: StoreProcess) -> str:
    """The URL ``--store`` is given for ``store`` (Virtuoso: its query endpoint, as users paste it)."""
    return store.url + ("/sparql" if store.name == "virtuoso" else "")


def store_args(store: StoreProcess) -> list[str]:
    """The command-line options that name ``store`` with its credentials."""
    args = ["--store", store_url(store)]
    if store.auth:
        args += ["--auth", ":".join(store.auth), "--auth-type", "digest"]
    return args


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m explore_kg ARGS`` as a user runs it (text output)."""
    return subprocess.run([sys.executable, "-m", "explore_kg", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def _push(store: StoreProcess) -> StoreProcess:
    done = run_cli("push", *store_args(store), "--replace")
    assert done.returncode == 0, done.stderr
    return store


@pytest.fixture(scope="session")
def pushed_oxigraph(oxigraph_store: StoreProcess) -> StoreProcess:
    """The session's Oxigraph server holding the shipped graph (pushed once)."""
    return _push(oxigraph_store)


@pytest.fixture(scope="session")
def pushed_virtuoso(virtuoso_store: StoreProcess) -> StoreProcess:
    """The session's Virtuoso holding the shipped graph (pushed once)."""
    return _push(virtuoso_store)


@pytest.fixture(scope="session", params=["oxigraph", "virtuoso"])
def pushed_store(request) -> StoreProcess:
    """Each external store in turn, holding the shipped graph."""
    return request.getfixturevalue(f"pushed_{request.param}")


@contextlib.contextmanager
def serving(store: StoreProcess, *extra: str) -> Iterator:
    """``explore-kg serve --store URL`` in front of ``store`` until the block ends."""
    from conftest import start_server  # (tests/ is on sys.path: conftest.py names this plugin)

    with start_server(*store_args(store), *extra) as server:
        yield server


# --- the compatibility matrix (docs/stores.md) --------------------------------------------------

MATRIX: dict[tuple[str, str], bool] = {}
MATRIX_STORES = ("embedded", "oxigraph", "virtuoso")


def record(store: str, feature: str, passed: bool) -> bool:
    """Note one cell of the compatibility matrix (written to docs/stores.md by tests/test_remote_matrix.py)."""
    MATRIX[(feature, store)] = bool(passed)
    return passed


def matrix_table() -> str:
    """The matrix as a Markdown table, features in alphabetical order (the same whatever the test order)."""
    features = sorted({f for f, _ in MATRIX})
    lines = ["| feature | " + " | ".join(MATRIX_STORES) + " |", "|---|" + "---|" * len(MATRIX_STORES)]
    for feature in features:
        cells = []
        for store in MATRIX_STORES:
            value = MATRIX.get((feature, store))
            cells.append("n/a" if value is None else "pass" if value else "FAIL")
        lines.append(f"| {feature} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
