"""The query worker process: loads the dataset once, then answers one query at a time over its socket.

Started by :class:`explore_kg.pool.QueryEngine` as ``python -c "from explore_kg.worker import entry;
entry()" FD MEMORY_MB``; see :mod:`explore_kg.engine` for why queries run in processes at all.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import socket
import sys
import threading
import time

from .engine import WORKER_STACK_BYTES, QueryError, StoreGraphs, _evaluate, _Request
from .framing import FrameReader, recv_frame, send_frame
from .lifecycle import die_with_parent
from .store import open_worker_store


def entry() -> None:
    """Entry point of a query worker process (``python -c ...``; argv: socket fd, memory MB).

    The first frame on the socket is the dataset as N-Quads, or the directory of the on-disk store to
    open read-only (:func:`explore_kg.store.open_worker_store`); the worker writes no file (but its private
    copy of a writable store, in the store's readers/ folder).
    """
    # Ctrl-C, or a SIGTERM sent to the whole process group (timeout, systemd, a container stop), is the
    # parent's to handle: it stops its workers with SIGKILL, and PR_SET_PDEATHSIG ends them with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    die_with_parent()
    memory_mb = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    if memory_mb > 0:
        # A runaway query then fails an allocation and ends this worker (which the server replaces)
        # instead of pushing the machine into the OOM killer, which might pick the server itself.
        import resource

        limit = memory_mb * 1024 * 1024
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sock = socket.socket(fileno=int(sys.argv[1]))
    sock.setblocking(True)
    threading.stack_size(WORKER_STACK_BYTES)
    thread = threading.Thread(target=_loop, args=(sock,), name="explore-kg-worker")
    thread.start()
    thread.join()


def _loop(sock: socket.socket) -> None:
    try:
        data = recv_frame(sock)
    except (EOFError, OSError):
        return
    started = time.perf_counter()
    store = open_worker_store(data)  # an in-memory copy, or the shared on-disk store opened read-only
    del data
    known_graphs = StoreGraphs(store)  # looked up per IRI a query names: listing 60k graphs took 1.4 s
    try:
        send_frame(sock, pickle.dumps(("ready", os.getpid(), (time.perf_counter() - started) * 1000)))
    except OSError:
        return  # the server went away while this worker was starting
    refresh = getattr(store, "refresh", None)  # a writable server's store: the change log's new records
    reader = FrameReader(sock)
    gc.freeze()  # the store's Python side and the modules: never garbage, never walked again
    while True:
        try:
            req = _Request(*pickle.loads(reader.next()))
        except (EOFError, OSError):
            return
        spool = None
        try:
            if refresh is not None:
                refresh()
            r = _evaluate(store, req, known_graphs)
            if r.file is not None:  # a large answer: the open temporary file crosses, not its bytes
                spool = r.file
                reply = ("file", r.size, r.media_type, r.kind, r.elapsed_ms)
            else:
                reply = ("ok", r.body, r.media_type, r.kind, r.elapsed_ms)
        except QueryError as e:
            reply = ("error", type(e).__name__, e.message, e.status)
        except MemoryError:
            reply = ("error", "QueryFailed", "the query needed more memory than a query worker may use "
                     "(serve --worker-memory-mb); narrow it or add LIMIT", 503)
        except Exception as e:  # noqa: BLE001 - any failure becomes an answer, the worker lives on
            reply = ("error", "QueryFailed", f"query evaluation failed: {e}", 500)
        try:
            send_frame(sock, pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL),
                       fd=spool.fileno() if spool is not None else None)
        except OSError:
            return
        finally:
            if spool is not None:
                spool.close()
