"""The query worker processes of the server's pool: launching them, reading their sockets, keeping the
pool at its size, with ready spares.

:class:`~explore_kg.pool.QueryEngine` decides which query runs where; this module owns the processes.
A worker is a fresh interpreter (:mod:`explore_kg.worker`) that opens the store and says "ready".
Starting one takes 0.2-1 s on a quiet machine and several seconds on a loaded one, so a pool that
waited for a new process each time a query was killed at its deadline would, after a burst of
expensive queries, leave cheap queries waiting that long. Hence the spares:

* The pool holds ``wanted`` active workers and ``spares_wanted`` spares (:func:`default_spares`). A
  spare is a started, store-opened, ready worker that answers nothing while it waits. The moment an
  active worker is killed (deadline), crashes or cannot be reached, a ready spare takes its place: it
  goes to the query that has waited longest (the killed worker's queue is the engine's one queue), and
  a new process starts in the background to restore the pool (as a spare, or as an active worker when
  no spare was ready). Whichever process gets ready first fills a missing active place.
* Why a spare never answers queries while the active workers are healthy: then it would just be one
  more worker, and the number of workers is tuned for the cores (3 on 2 CPUs beat 2 and 4,
  :func:`~explore_kg.engine.default_workers`); fair share's reserve counts the active ones. Idle, a
  spare costs memory only, no CPU.
* Memory: with the on-disk store a worker's data is the page cache, shared by all, and an idle spare is
  the interpreter and its modules (measured: 41 MB RSS, 21 MB PSS); with the in-memory backend each
  worker holds a whole copy of the data (19 MB of N-Quads: a 147 MB worker), so the spare is on by
  default only while that copy is small (:data:`SPARE_COPY_MAX_BYTES`); ``--spare-workers`` decides.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from .engine import QueryError, QueryFailed
from .framing import HEADER, recv_with_fds, send_frame

log = logging.getLogger("explore_kg.engine")

_EARLY_FRAME_BYTES = 4096  # prestart(): first frames this small are sent before the event loop runs
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The in-memory backend sends each worker its data as N-Quads (the on-disk one a path): up to this size
# a spare costs ~130 MB at most (the shipped graph, 2.8 MB of N-Quads: a 43 MB worker, mostly the interpreter).
SPARE_COPY_MAX_BYTES = 16 * 1024 * 1024
ACTIVE, SPARE = "active", "spare"
# Ctrl-C and a group's SIGTERM are the server's to handle (worker.entry says why, and ignores them). A
# worker starts with them blocked (a signal mask survives exec), so one that comes while its interpreter
# and modules start stays pending and is then discarded by the ignore: a server answers once its first
# worker is ready, and a Ctrl-C then may reach the others and the spares while they start (it gave a
# traceback, and a replacement started, even when the ignore was the first statement of ``-c``).
_SERVERS_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def default_spares(worker_frame: bytes) -> int:
    """One spare, unless each worker holds its own copy of the data and that copy is large (see the module)."""
    return 1 if len(worker_frame) <= SPARE_COPY_MAX_BYTES else 0


class WorkerProcess:
    """One query worker process and the server's end of its socket (non-blocking, read by the loop)."""

    def __init__(self, process, sock: socket.socket, role: str):
        self.process = process
        self.sock = sock
        self.role = role  # ACTIVE (answers queries once ready) or SPARE (kept ready for a lost worker)
        self.inbox = bytearray()  # bytes received and not yet a whole frame
        self.pending: asyncio.Future | None = None
        self.ready: asyncio.Future | None = None
        self.dead = False
        self.load_ms = 0.0
        self.query_head = ""  # the start of the query it runs, for the log if it dies
        self.fds: collections.deque[int] = collections.deque()  # received with frames, not yet claimed
        self.client: str | None = None  # whose query it runs, and since when (loop time)
        self.since = 0.0

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def started(self) -> bool:
        """Loaded, alive and said so ("ready")."""
        return self.ready is not None and self.ready.done() and not self.ready.exception() and not self.dead


class WorkerProcesses:
    """Every worker process of one engine, by role; replaces the lost ones, swapping in a spare first.

    ``on_ready(worker)`` is called when an active worker can take a query (started, or swapped in),
    ``on_reply(worker, message)`` for each answer a worker sends, ``on_start_failed()`` when a new
    worker failed to start (:attr:`start_failure` says why).
    """

    def __init__(self, first_frame: bytes, *, wanted: int, spares: int, memory_mb: int, stats: dict,
                 on_ready: Callable[[WorkerProcess], None], on_reply: Callable[[WorkerProcess, tuple], None],
                 on_start_failed: Callable[[], None]):
        self.first_frame = first_frame  # what each worker gets first: the data as N-Quads, or where to open it
        self.wanted = wanted
        self.spares_wanted = spares
        self.memory_mb = memory_mb
        self.stats = stats  # the engine's: respawns, spare_swaps, crashes
        self.respawn_ms: list[float] = []  # from a worker's loss to its replacement's "ready"
        self.start_failure: str | None = None  # why the last replacement failed to start, until one starts
        self._on_ready = on_ready
        self._on_reply = on_reply
        self._on_start_failed = on_start_failed
        self.all: set[WorkerProcess] = set()  # alive or starting, either role
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self.tasks: set[asyncio.Task] = set()
        self._early: list[tuple[subprocess.Popen, socket.socket]] = []  # started by prestart(), not yet adopted
        self._launched: set[subprocess.Popen] = set()  # every process started and not yet reaped: close() kills them
        self._launch_lock = threading.Lock()

    # -- counts --

    def of_role(self, role: str) -> list[WorkerProcess]:
        return [w for w in self.all if w.role == role and not w.dead]

    def ready_spares(self) -> list[WorkerProcess]:
        return [w for w in self.of_role(SPARE) if w.started]

    @property
    def available(self) -> bool:
        """Whether at least one started worker is alive (False: queries cannot be answered now)."""
        return any(w.started for w in self.all)

    # -- lifecycle --

    async def start(self) -> None:
        """Start one active worker, then the others once it is ready, and return then (the server answers
        from then on: on 2 cores, three workers starting at once took about twice as long as one, and
        slowed the server's own start as much); the others join as they get ready, and the spares start
        once all have (so they do not slow the first answers). Raises the start failure if none starts
        (the others are tried when the first fails); one that fails later is started again."""
        self._loop = asyncio.get_running_loop()
        first = await self._spawn(ACTIVE)
        await asyncio.wait({first.ready})
        workers = [first, *await asyncio.gather(*(self._spawn(ACTIVE) for _ in range(self.wanted - 1)))]
        waiting = {w.ready for w in workers}
        while True:
            done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if any(not f.exception() for f in done):
                break
            if not waiting:
                raise next(iter(done)).exception()
        task = self._loop.create_task(self._all_started(workers))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _all_started(self, workers: list[WorkerProcess]) -> None:
        outcomes = await asyncio.gather(*(w.ready for w in workers), return_exceptions=True)
        failed = sum(isinstance(o, BaseException) for o in outcomes)
        log.info(
            "query workers ready: %d (store loaded in %s ms each); spares: %d",
            len(workers) - failed, ", ".join(f"{w.load_ms:.0f}" for w in workers if w.started), self.spares_wanted,
        )
        for _ in range(failed):
            self.start_later(ACTIVE)
        for _ in range(self.spares_wanted):
            self.start_later(SPARE, replacing=False)

    def prestart(self) -> None:
        """Start the first active worker's process now, before the event loop runs, when its first frame is
        small (an on-disk store's path): its interpreter starts while the server builds its app, and
        :meth:`start` adopts it (a restart's first answer, issue 10)."""
        if len(self.first_frame) <= _EARLY_FRAME_BYTES and not self._early:
            self._early = [self._launch()]
            for _, ours in self._early:
                with contextlib.suppress(OSError):
                    send_frame(ours, self.first_frame)  # (fits the socket's buffer: does not wait for the worker)

    def close(self) -> None:
        """Kill every worker process, started or starting, of either role (none outlives the engine)."""
        with self._launch_lock:
            self._closed = True
            launched = list(self._launched)
        for task in list(self.tasks):
            task.cancel()
        for w in list(self.all):
            self.retire(w)
        for _process, ours in self._early:  # (prestarted, never adopted: killed below, as launched)
            with contextlib.suppress(Exception):
                ours.close()
        self._early = []
        for process in launched:  # also those whose launch was under way in a thread
            with contextlib.suppress(Exception):
                process.kill()
            threading.Thread(target=self._reap, args=(process,), daemon=True).start()

    def _reap(self, process: subprocess.Popen) -> None:
        with contextlib.suppress(Exception):
            process.wait(5)
        with self._launch_lock:
            self._launched.discard(process)

    def _launch(self) -> tuple[subprocess.Popen, socket.socket]:
        # A fresh interpreter (not multiprocessing): nothing of the caller's __main__ is re-imported,
        # so scripts and notebooks can use the engine without a ``__main__`` guard.
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_PARENT, env.get("PYTHONPATH")]))
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SERVERS_SIGNALS)  # (this thread's, while it forks)
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", "from explore_kg.worker import entry; entry()",
                 str(theirs.fileno()), str(self.memory_mb)],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                env=env,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            theirs.close()
        with self._launch_lock:
            closed = self._closed
            if not closed:
                self._launched.add(process)
        if closed:  # close() ran while this one was being started (in a thread)
            process.kill()
            process.wait()
            ours.close()
            raise OSError("the query engine closed while a worker was starting")
        return process, ours

    async def _spawn(self, role: str) -> WorkerProcess:
        early = self._early.pop() if self._early else None
        process, ours = early if early is not None else await asyncio.to_thread(self._launch)
        worker = WorkerProcess(process, ours, role)
        worker.ready = self._loop.create_future()
        self.all.add(worker)
        if early is None:
            try:
                # blocking, in a thread: the worker reads it only once its interpreter is up
                await asyncio.to_thread(send_frame, ours, self.first_frame)
            except OSError:
                pass  # the worker died at once; the reader below sees EOF and reports it
        # From here on the event loop owns the socket: non-blocking, whatever the loop (asyncio or uvloop)
        ours.setblocking(False)
        self._loop.add_reader(ours.fileno(), self._on_readable, worker)
        return worker

    def start_later(self, role: str, *, replacing: bool = True) -> None:
        """Start a worker of ``role`` in the background (``replacing``: one that was lost, counted in
        the stats), retrying a few times if it fails to start."""
        if self._closed:
            return
        started = time.perf_counter()

        async def start():
            for attempt in range(5):
                try:
                    worker = await self._spawn(role)
                    await worker.ready
                except (QueryError, OSError) as e:
                    if self._closed:
                        return
                    log.error("a replacement query worker failed to start (attempt %d): %s", attempt + 1, e)
                    self.start_failure = f"{type(e).__name__}: {getattr(e, 'message', e)}"
                    self._on_start_failed()
                    await asyncio.sleep(0.5 * 2**attempt)
                    continue
                if replacing:
                    self.respawn_ms.append((time.perf_counter() - started) * 1000)
                    self.stats["respawns"] += 1
                return
            log.error("giving up starting a query worker; %d remain", len(self.all))

        def done(task: asyncio.Task) -> None:
            self.tasks.discard(task)
            if not task.cancelled() and task.exception() is not None and not self._closed:
                log.error("starting a query worker failed: %s", task.exception())

        task = self._loop.create_task(start())
        self.tasks.add(task)
        task.add_done_callback(done)

    def retire(self, worker: WorkerProcess) -> None:
        """Kill a worker (stuck, dead or closing) and forget it; reaping happens off the event loop."""
        if worker.dead:
            return
        worker.dead = True
        self.all.discard(worker)
        with contextlib.suppress(Exception):
            self._loop.remove_reader(worker.sock.fileno())
        with contextlib.suppress(Exception):
            worker.process.kill()
        with contextlib.suppress(Exception):
            worker.sock.close()
        while worker.fds:  # result files that came with frames nobody will read
            with contextlib.suppress(OSError):
                os.close(worker.fds.popleft())
        threading.Thread(target=self._reap, args=(worker.process,), daemon=True).start()

    def replace(self, worker: WorkerProcess) -> None:
        """Kill ``worker`` (past its deadline, unreachable or dead) and put another in its place: a ready
        spare at once if it was active, and a new process in the background to restore the pool."""
        role = worker.role
        self.retire(worker)
        if self._closed:
            return
        if role == ACTIVE:
            spares = self.ready_spares()
            if spares:
                spare = min(spares, key=lambda w: w.pid or 0)
                spare.role = ACTIVE
                self.stats["spare_swaps"] += 1
                log.info("query worker %s took the place of %s (a spare); starting a new spare", spare.pid, worker.pid)
                self.start_later(SPARE)
                self._on_ready(spare)
                return
        self.start_later(role)

    # -- the sockets --

    def _on_readable(self, worker: WorkerProcess) -> None:
        """Read what the worker's socket holds; handle every complete frame; notice a dead worker."""
        try:
            chunk, fds = recv_with_fds(worker.sock, 1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk, fds = b"", []
        worker.fds.extend(fds)
        if not chunk:
            self._on_worker_gone(worker)
            return
        inbox = worker.inbox
        inbox += chunk
        while len(inbox) >= HEADER.size:
            (n,) = HEADER.unpack_from(inbox)
            if len(inbox) < HEADER.size + n:
                break
            message = pickle.loads(inbox[HEADER.size:HEADER.size + n])
            del inbox[:HEADER.size + n]
            if message[0] == "file":  # its descriptor came with the frame's first byte
                message = (*message, worker.fds.popleft() if worker.fds else -1)
            if message[0] == "ready":
                self._on_started(worker, message[2])
            else:
                self._on_reply(worker, message)

    def _on_started(self, worker: WorkerProcess, load_ms: float) -> None:
        """A worker is ready. A spare that is ready while an active worker is still starting takes
        the active place (the starting one will be the spare): the first ready fills the gap."""
        worker.load_ms = load_ms
        self.start_failure = None
        worker.ready.set_result(worker)
        if worker.role == SPARE:
            starting = [w for w in self.of_role(ACTIVE) if not w.started]
            if not starting:
                return  # kept ready, idle, until a worker is lost
            starting[0].role, worker.role = SPARE, ACTIVE
        self._on_ready(worker)

    def _on_worker_gone(self, worker: WorkerProcess) -> None:
        """The worker closed its socket: it died (or was killed); fail its query and replace it."""
        was_ready = worker.ready.done()
        code = None
        with contextlib.suppress(Exception):
            code = worker.process.wait(0.05)  # it closed its end: it is exiting or gone
        if not worker.dead:
            log.warning("query worker %s (%s) ended unexpectedly (exit status %s)%s", worker.pid, worker.role, code,
                        f" while running: {worker.query_head!r}" if worker.pending is not None else "")
        if worker.pending is not None and not worker.pending.done():
            err = QueryFailed(
                "the query worker stopped while evaluating this query: it most likely needed more memory "
                f"than a query worker may use ({self.memory_mb} MB, serve --worker-memory-mb); "
                "it was replaced and the server goes on. Narrow the query or add LIMIT")
            err.status = 503
            worker.pending.set_exception(err)
        elif not was_ready:
            worker.ready.set_exception(QueryFailed("a query worker failed to start"))
        if was_ready and not worker.dead:
            self.stats["crashes"] += 1
            self.replace(worker)
        else:
            self.retire(worker)
