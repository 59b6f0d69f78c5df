"""Start and stop the endpoints under test on 127.0.0.1: ours (``explore-kg serve``) and Oxigraph's own server.

Each server is started in a session of its own, so that stopping it also stops any worker process it
started (we signal that process group, by the id of the process we started, and nothing else).

Both serve the same dataset: the reference is loaded from a dump of the store our loader builds from
the data file (``load([FILE], shipped=False).to_store()``, as ``explore-kg serve FILE`` serves only
FILE), whose default graph is the materialised merge of the named graphs, so both endpoints give
the default graph the same meaning.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from load import fetch

VENV_BIN = Path(sys.executable).parent
BENCH_DIR = Path(__file__).resolve().parent
LOG_DIR = BENCH_DIR / "data" / "logs"


def tool(name: str) -> str:
    """A console script of this venv (explore-kg, oxigraph), else one on PATH."""
    here = VENV_BIN / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"cannot find the {name!r} command (is the venv set up? pip install -e '.[test]')")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A server process we started, its query URL and its log."""

    name: str
    argv: list[str]
    url: str
    log: Path
    proc: subprocess.Popen | None = None
    started_s: float = 0.0
    env: dict[str, str] = field(default_factory=dict)

    def start(self, ready_timeout: float = 180.0) -> Server:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True, env={**os.environ, **self.env})
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log}:\n{self.tail()}")
            try:
                status, _ = asyncio.run(fetch(self.url, "ASK { ?s ?p ?o }"))
                if status == 200:
                    break
            except OSError:
                pass
            if time.perf_counter() - t0 > ready_timeout:
                self.stop()
                raise RuntimeError(f"{self.name} not ready after {ready_timeout:.0f} s; see {self.log}:\n{self.tail()}")
            time.sleep(0.2)
        self.started_s = round(time.perf_counter() - t0, 2)
        return self

    def tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def rss_mb(self) -> float:
        """Resident memory of the server and its children (workers), in MB, from /proc."""
        if self.proc is None:
            return 0.0
        total = 0
        for pid in [self.proc.pid, *_children(self.proc.pid)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return round(total / 1024, 1)

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time (user + system) used so far by the server process and by its live child processes."""
        if self.proc is None:
            return 0.0, 0.0
        children = sum(_cpu(pid) for pid in _children(self.proc.pid))
        return _cpu(self.proc.pid), children

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)  # the session we started: the server and its workers
            except ProcessLookupError:
                return
            try:
                self.proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    except (OSError, IndexError, ValueError):
        return 0.0


def _children(pid: int) -> list[int]:
    """Descendants of pid (a process's children are listed under the thread that started each one)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            for child in (task / "children").read_text().split():
                out += [int(child), *_children(int(child))]
        except OSError:
            pass
    return out


def ours(data: Path, port: int, timeout: float = 10.0, extra: list[str] | None = None) -> Server:
    argv = [tool("explore-kg"), "serve", str(data), "--host", "127.0.0.1", "--port", str(port),
            "--timeout", f"{timeout:g}", *(extra or [])]
    return Server("explore-kg", argv, f"http://127.0.0.1:{port}/sparql", LOG_DIR / f"explore-kg-{port}.log")


def reference_store(data: Path) -> Path:
    """An on-disk Oxigraph store holding exactly the dataset our server queries (built once, reused).

    That is ``load([data], shipped=False).to_store()``: every quad, plus the default graph our loader
    materialises (the RDF merge of the named graphs). It is rebuilt when the data or the loader changes.
    """
    import explore_kg.loading as loading

    location = data.with_name(data.name + ".oxigraph")
    fingerprint = hashlib.sha256(Path(loading.__file__).read_bytes())
    fingerprint.update(f"{data.resolve()}:{data.stat().st_size}:{data.stat().st_mtime_ns}".encode())
    stamp = location / "BENCH_FINGERPRINT"
    if stamp.exists() and stamp.read_text() == fingerprint.hexdigest():
        return location
    shutil.rmtree(location, ignore_errors=True)
    dump = data.with_name(data.name + ".loaded.nq")
    loading.load([data], shipped=False).to_store().dump(str(dump), format=ox.RdfFormat.N_QUADS)
    subprocess.run([tool("oxigraph"), "load", "--location", str(location), "--file", str(dump)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dump.unlink()
    stamp.write_text(fingerprint.hexdigest())
    return location


def oxigraph(location: Path, port: int, timeout: float = 10.0) -> Server:
    argv = [tool("oxigraph"), "serve-read-only", "--location", str(location), "--bind", f"127.0.0.1:{port}",
            "--timeout-s", f"{max(1, round(timeout))}"]
    return Server("oxigraph", argv, f"http://127.0.0.1:{port}/query", LOG_DIR / f"oxigraph-{port}.log")
