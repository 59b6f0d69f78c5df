"""Shared fixtures: real servers on free loopback ports, started as the user would start them.

``live_server`` (session) is ``python -m explore_kg serve --port N`` serving the shipped data; its
value is the base URL ("http://127.0.0.1:54321"). ``start_server(*args)`` starts another one with
other arguments (files to serve, a shorter --timeout...) for tests that need it.
"""

from __future__ import annotations

import contextlib
import os
import signal
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


def ignores_sigint(pid: int) -> bool:
    """Whether process ``pid`` has set SIGINT to ignored (the query's process does, first thing: a
    Ctrl-C before that would kill it by the default action instead of reaching its parent)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigIgn:"):
                return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    except OSError:
        pass
    return False


def ctrl_c_as_from_a_terminal() -> None:
    """Give this process Ctrl-C as a terminal's foreground command has it: SIGINT handled (KeyboardInterrupt)
    and not blocked, so every process the tests start gets SIGINT at its default.

    A background job of a non-interactive shell (``.ci/run > log &``, ``bash -c 'pytest ... &'``) starts
    with SIGINT *ignored*; an ignored signal stays ignored across fork and exec, and Python then installs
    no KeyboardInterrupt: every ``explore-kg`` the tests started ignored Ctrl-C, and the two Ctrl-C tests
    waited in vain (session 5, twice in CI; never in a terminal). A blocked SIGINT would be inherited the
    same way (a signal mask survives exec). Called in each pytest process (xdist's controller and workers)."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


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


def wait_until(check, what: str, within: float = 120, every: float = 0.1):
    """Poll ``check()`` until it returns something true (returned), or fail naming ``what`` after ``within``
    seconds: for tests that wait for a server's state, generous for a loaded machine, never a fixed sleep."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:g} s: {what}")
        time.sleep(every)


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


@pytest.fixture(scope="session")
def shipped_exporter():
    """The Exporter of the shipped graph that tests compare bytes with (its documents are cached; the first
    inferred one runs OWL RL, ~8 s of CPU): one per pytest process instead of one per module."""
    from explore_kg.export import Exporter
    from explore_kg.loading import load

    return Exporter(load())


RELEASE_DATE = "2026-11-30"


@pytest.fixture(scope="session")
def shipped_release(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """``explore-kg release VERSION --out DIR --date RELEASE_DATE`` of the shipped graph, run once per test
    run, as a process (a release reasons and writes 42 documents: ~13 s of CPU): (DIR, the run). Under -n
    the first worker to ask runs it and the others wait for it (a lock in the run's shared temporary
    directory). test_release and test_diff read DIR/VERSION; no test writes into it."""
    import fcntl
    import json

    import explore_kg

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # (this run's, shared by its workers: pytest-N/popen-gwK)
    out, outcome = shared / "shipped-release", shared / "shipped-release.json"
    with open(shared / "shipped-release.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not outcome.exists():
            done = subprocess.run([sys.executable, "-m", "explore_kg", "release", explore_kg.__version__, "--out",
                                   str(out), "--date", RELEASE_DATE], capture_output=True, text=True, timeout=600)
            outcome.write_text(json.dumps([done.returncode, done.stdout, done.stderr]))
        code, stdout, stderr = json.loads(outcome.read_text())
    return out, subprocess.CompletedProcess(["explore-kg", "release"], code, stdout, stderr)


# --- running in parallel (pytest-xdist: `pytest -n 2`) ----------------------------------------------
# Scheduling only: which tests share a worker and which start first. Nothing here changes what a
# test checks; without -n it only reorders the modules (and gives the run a cache directory of its own).

# Modules that run as one unit, on one worker: the session's external stores (Virtuoso and Oxigraph,
# each started and pushed the shipped graph once per pytest process) then start once per run instead
# of once on each worker that meets one of these modules.
SHARED_UNITS = dict.fromkeys(["tests/test_push.py", "tests/test_remote_dialects.py", "tests/test_remote_serve.py",
                              "tests/test_remote_validate.py"], "external stores")
# Each work unit's wall time in seconds (a module, SHARED_UNITS, or a test of APART), from --junitxml of
# a full `-n 2` run on the shared 2-core machine under load (session 6, load average ~6): only the order
# matters. Under -n the units start longest first, so the two workers end close together (a long
# unit started last would end alone); a module not listed counts DEFAULT_SECONDS. Re-measure when a
# module grows a long test.
UNIT_SECONDS = {
    "external stores": 330, "tests/test_validation.py": 225, "tests/test_release.py": 175,
    "tests/test_docs.py": 115, "tests/test_server_reliability.py": 100, "tests/test_export.py": 90,
    "tests/test_web_browser.py": 90, "tests/test_export_dumps.py": 85, "tests/test_store.py": 85,
    "tests/test_diff.py": 80, "tests/test_export_streaming.py": 55, "tests/test_cli.py": 50,
    "tests/test_server_hostile.py": 40, "tests/test_sources.py": 40, "tests/test_write_gate.py": 35,
    "tests/test_api.py": 35, "tests/test_write_durability.py": 30, "tests/test_server.py": 25,
    "bench/test_bench.py": 25, "tests/test_stable_iris.py": 25, "tests/test_web.py": 20,
    "tests/test_entailment.py": 20, "tests/test_server_openapi.py": 20, "tests/test_server_spares.py": 20,
    "tests/test_queries.py": 20, "tests/test_ontology_checks.py": 20, "tests/test_claims.py": 15,
    "tests/test_ontology_page.py": 15, "tests/test_server_proxy.py": 15, "tests/test_remote_rewrite.py": 15,
    "tests/test_write_bench.py": 15, "tests/test_write_changes.py": 15, "tests/test_notebook.py": 15,
    "tests/test_server_reliability.py::test_slow_readers_do_not_bloat_the_server": 60,
    "tests/test_server_reliability.py::test_sigterm_ends_the_server_within_its_shutdown_timeout": 30,
}
DEFAULT_SECONDS = 10
# A docs block that installs the package (the README's first command) runs from the session's start
# (test_docs.EarlyRun): its test only waits for the outcome, so it goes last.
FIRST_COMMAND_SECONDS = 0
# Tests that may run on another worker than the rest of their module (they start servers of their own).
APART = {"tests/test_server_reliability.py::test_slow_readers_do_not_bloat_the_server",
         "tests/test_server_reliability.py::test_sigterm_ends_the_server_within_its_shutdown_timeout"}


EARLY_DIR_ENV = "EXPLORE_KG_EARLY_BLOCKS"  # the early runs' outcomes (see _start_early), seen by the workers


def pytest_configure(config: pytest.Config) -> None:
    """Each pytest process (each xdist worker) gets an XDG cache directory of its own: on-disk stores
    built without --store-dir go there, so workers never share one, and the tests never fill the
    user's ~/.cache/explore-kg. Ctrl-C reaches the processes the tests start (ctrl_c_as_from_a_terminal)."""
    ctrl_c_as_from_a_terminal()
    config._explore_kg_cache = os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(
        prefix=f"explore-kg-test-cache-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-")
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # xdist's controller, or a plain run: see _start_early
        config._explore_kg_early = os.environ[EARLY_DIR_ENV] = tempfile.mkdtemp(prefix="explore-kg-early-")


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    for folder in (getattr(config, "_explore_kg_cache", None), getattr(config, "_explore_kg_early", None)):
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


# The docs' blocks that install the package (the README's first command) spend a minute waiting on
# pip: they start with the session, in processes of their own (test_docs.EarlyRun), and their tests
# wait for the outcome. Started once, from the process that sees the whole collection.
def _start_early(config: pytest.Config, ids) -> None:
    if hasattr(config, "_explore_kg_early_runs") or not getattr(config, "_explore_kg_early", None) \
            or config.option.collectonly:
        return
    config._explore_kg_early_runs = []
    try:
        import test_docs
    except ImportError:
        return
    config._explore_kg_early_runs = test_docs.EarlyRun.start_all(set(ids), Path(config._explore_kg_early))


def pytest_collection_finish(session: pytest.Session) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # a plain run (xdist's controller collects nothing)
        _start_early(session.config, [item.nodeid for item in session.items])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids) -> None:
    _start_early(node.config, ids)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An early run still going (its test deselected, failed early, or the run stopped) is stopped."""
    for process in getattr(session.config, "_explore_kg_early_runs", []):
        if process.poll() is None:
            process.terminate()  # it stops its servers and removes its copy
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest units first (UNIT_SECONDS; the order within a unit is kept). In an xdist worker a test
    of APART is a unit of its own; in a plain run each module stays in one piece (its fixtures start once),
    and the modules of a shared unit stay together."""
    apart = _apart() if os.environ.get("PYTEST_XDIST_WORKER") else set()

    def weight(item: pytest.Item) -> int:
        unit = _unit(item.nodeid, apart)
        if unit in apart and unit not in UNIT_SECONDS:
            return FIRST_COMMAND_SECONDS
        return UNIT_SECONDS.get(unit, DEFAULT_SECONDS)

    items.sort(key=lambda item: -weight(item))


def _unit(nodeid: str, apart: set[str]) -> str:
    """The work unit of a test under -n: its module (or the module's SHARED_UNITS), or itself if it is
    one of ``apart``."""
    if nodeid in apart:
        return nodeid
    module = nodeid.split("::", 1)[0]
    return SHARED_UNITS.get(module, module)


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
    servers and browser start once, on one worker, except the tests of APART; in collection order
    (longest first: pytest_collection_modifyitems).
    (xdist's ``loadgroup`` would do it with marks, but does not group on pytest 9.2: xdist issue 1386.)"""
    if config.getvalue("dist") != "load" or any(
            a in ("--dist", "-d") or a.startswith("--dist=") for a in config.invocation_params.args):
        return None
    from xdist.scheduler import LoadScopeScheduling

    apart = _apart()

    class ByModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid, apart)

    config.option.loadscopereorder = False
    return ByModule(config, log)
