"""Queries of this process's own store (the CLI and the Python API) under a deadline, stoppable by Ctrl-C.

pyoxigraph cannot cancel a running query (see :mod:`explore_kg.engine`), and while one runs the
interpreter sees no signal, so a query run here directly would ignore both a time limit and Ctrl-C.
Each query therefore runs in a child forked from this process *after* the store is built: the child
shares the store's memory copy-on-write (nothing is parsed or written again), checks and evaluates
the query exactly as a server worker does (:func:`engine._evaluate`, on a big stack) and sends the
serialized answer back through a pipe. The parent waits for it until the deadline; past it, or on
Ctrl-C, it kills the child (SIGKILL) and raises :class:`QueryTimeout` or ``KeyboardInterrupt``.

A fork costs about 10 ms here (more for a bigger process), less than most queries take. Where
``os.fork`` does not exist (Windows) the query runs in this process without a deadline.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import threading
import time
import warnings
from collections.abc import Collection, Iterator, Mapping, Sequence

import pyoxigraph as ox

from .engine import (
    DEFAULT_TIMEOUT,
    WORKER_STACK_BYTES,
    QueryResult,
    StoreGraphs,
    _evaluate,
    _prepare,
    _Request,
    _run_on_big_stack,
)
from .lifecycle import die_with_parent
from .safety import QueryError, QueryFailed, QueryTimeout, error_class

__all__ = ["DEFAULT_TIMEOUT", "run_all_with_deadline", "run_with_deadline"]

def run_with_deadline(
    store: ox.Store,
    sparql: str,
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
    media_type: str | None = None,
    substitutions: Mapping | None = None,
    default_graph_uris: Sequence[str] = (),
    named_graph_uris: Sequence[str] = (),
    allow_remote: bool = False,
    max_result_bytes: int | None = None,
    base_iri: str | None = None,
) -> QueryResult:
    """:func:`engine.run_query`, with a time limit: ``timeout`` seconds (None or 0: none, but Ctrl-C
    still stops the query). Raises QueryTimeout past it, and the same QueryError subclasses as the
    server otherwise."""
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be a number of seconds >= 0 (or None), not {timeout!r}")
    req = _prepare(
        sparql,
        accept=media_type,
        substitutions=substitutions,
        default_graph_uris=default_graph_uris,
        named_graph_uris=named_graph_uris,
        allow_remote=allow_remote,
        max_query_bytes=None,
        max_result_bytes=max_result_bytes,
        base_iri=base_iri,
    )
    known_graphs = StoreGraphs(store)
    if not hasattr(os, "fork"):  # pragma: no cover - Windows
        return _run_on_big_stack(_evaluate, store, req, known_graphs)
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns about forking a process with threads (a notebook kernel has several): the
        # child only evaluates one query and writes to a pipe, it takes no lock those threads may hold.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child (coverage does not follow it)
        os.close(read_fd)
        _child(store, req, known_graphs, write_fd)
    os.close(write_fd)
    try:
        payload = _read_until(read_fd, pid, None if not timeout else time.monotonic() + timeout)
    except BaseException:  # the deadline, Ctrl-C, anything: the child must not outlive this call
        _kill(pid)
        raise
    finally:
        os.close(read_fd)
    if payload is None:
        _kill(pid)
        raise QueryTimeout(f"the query did not finish within the time limit of {timeout:g} s; it was stopped "
                           "(allow more time with --timeout, or timeout= in Python)")
    status = _reap(pid)
    try:
        reply = pickle.loads(payload)
    except Exception:  # noqa: BLE001 - a child that died half-way (stack overflow, out of memory)
        raise QueryFailed(f"the query process died ({_describe(status)}) before it answered") from None
    if reply[0] == "ok":
        return QueryResult(*reply[1:])
    err = error_class(reply[1])(reply[2])
    err.status = reply[3]
    raise err


def run_all_with_deadline(store: ox.Store, queries: Sequence[str], *, timeout: float | None = DEFAULT_TIMEOUT,
                          media_type: str | None = None) -> Iterator[QueryResult]:
    """:func:`run_with_deadline` for several queries of a store that does not change, in one child: they
    share its fork and its caches (a fork per query cost 45 ms at 1M quads, 59 queries: 2.7 s). Each query
    has its own time limit, ``timeout`` seconds from the answer before it; the answers come in order, each
    as soon as it is ready. The first failing query raises, as :func:`run_with_deadline` would; Ctrl-C,
    a time-out or a caller that stops iterating kills the child."""
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be a number of seconds >= 0 (or None), not {timeout!r}")
    reqs = [_prepare(q, accept=media_type, substitutions=None, default_graph_uris=(), named_graph_uris=(),
                     allow_remote=False, max_query_bytes=None, max_result_bytes=None, base_iri=None) for q in queries]
    known_graphs = StoreGraphs(store)
    if not hasattr(os, "fork"):  # pragma: no cover - Windows
        for req in reqs:
            yield _run_on_big_stack(_evaluate, store, req, known_graphs)
        return
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # (see run_with_deadline)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_fd)
        _child_all(store, reqs, known_graphs, write_fd)
    os.close(write_fd)
    reaped = False
    try:
        frames = _Frames(read_fd)
        for _ in reqs:
            payload = frames.next(None if not timeout else time.monotonic() + timeout)
            if payload is None:
                raise QueryTimeout(f"a query did not finish within the time limit of {timeout:g} s; it was stopped "
                                   "(allow more time with --timeout)")
            if payload is False:
                status = _reap(pid)
                reaped = True
                raise QueryFailed(f"the query process died ({_describe(status)}) before it answered")
            reply = pickle.loads(payload)
            if reply[0] != "ok":
                err = error_class(reply[1])(reply[2])
                err.status = reply[3]
                raise err
            yield QueryResult(*reply[1:])
        _reap(pid)
        reaped = True
    finally:
        os.close(read_fd)
        if not reaped:
            _kill(pid)  # (done: it is about to exit; otherwise it must not outlive this call)


class _Frames:
    """Length-prefixed answers read from a pipe, each by a deadline."""

    def __init__(self, fd: int):
        self.fd, self.buffer = fd, bytearray()

    def next(self, deadline: float | None) -> bytes | None | bool:
        """The next answer; None if the deadline passes first, False if the writer ended before it."""
        while True:
            if len(self.buffer) >= 8:
                size = int.from_bytes(self.buffer[:8], "big")
                if len(self.buffer) >= 8 + size:
                    payload = bytes(self.buffer[8:8 + size])
                    del self.buffer[:8 + size]
                    return payload
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], wait)
            if not ready:
                return None
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                return False
            self.buffer += chunk


def _child_all(store: ox.Store, reqs: list[_Request], known_graphs: Collection[str], fd: int) -> None:  # pragma: no cover
    """As :func:`_child`, for each query in turn: one length-prefixed pickled reply each."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        die_with_parent()

        def run_all():
            for req in reqs:
                data = pickle.dumps(_reply(store, req, known_graphs), protocol=pickle.HIGHEST_PROTOCOL)
                view = memoryview(len(data).to_bytes(8, "big") + data)
                while view:
                    view = view[os.write(fd, view):]

        threading.stack_size(WORKER_STACK_BYTES)
        thread = threading.Thread(target=run_all)
        thread.start()
        thread.join()
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        code = 1
    finally:
        os._exit(code)


def _child(store: ox.Store, req: _Request, known_graphs: Collection[str], fd: int) -> None:  # pragma: no cover
    """Evaluate one query and write the pickled reply to ``fd``, then end without cleanup (the
    parent's buffers, atexit handlers and threads are the parent's)."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which kills this child
        die_with_parent()
        box: list = []
        threading.stack_size(WORKER_STACK_BYTES)  # as in a server worker: deep queries cannot overflow it
        thread = threading.Thread(target=lambda: box.append(_reply(store, req, known_graphs)))
        thread.start()
        thread.join()
        data = pickle.dumps(box[0], protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        code = 1
    finally:
        os._exit(code)


def _reply(store: ox.Store, req: _Request, known_graphs: Collection[str]) -> tuple:  # pragma: no cover
    try:
        r = _evaluate(store, req, known_graphs)
        return ("ok", r.body, r.media_type, r.kind, r.elapsed_ms)
    except QueryError as e:
        return ("error", type(e).__name__, e.message, e.status)
    except Exception as e:  # noqa: BLE001 - any failure becomes an answer
        return ("error", "QueryFailed", f"query evaluation failed: {e}", 500)


def _read_until(fd: int, pid: int, deadline: float | None) -> bytes | None:
    """Everything the child writes, or None if the deadline passes first."""
    parts: list[bytes] = []
    while True:
        wait = None if deadline is None else deadline - time.monotonic()
        if wait is not None and wait <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> int:
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except ChildProcessError:
            return 0
        except InterruptedError:  # pragma: no cover - PEP 475 retries, kept for clarity
            continue


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        return f"signal {name}" + (", probably a stack overflow" if name == "SIGSEGV" else "")
    return f"exit status {os.waitstatus_to_exitcode(status)}"
