"""The server's query worker pool: which query runs where, deadlines, the result cache and each client's share.

See :mod:`explore_kg.engine` for why queries run in worker processes. The processes themselves (starting,
replacing, the ready spares that take a killed worker's place at once) are
:mod:`explore_kg.worker_processes`'s; the event loop owns the server's end of each socket pair
(:mod:`explore_kg.framing`) and never blocks on it.

Fair share: queries get workers in arrival order, those of heavy clients after the others. A
client is *heavy* while its queries have used more than ``heavy_ms`` of worker time each on average
lately (the average halves every ``COST_HALF_LIFE_S`` (30 s) the client runs nothing), or while one of them
has been running for longer than that. With 3 workers or more, the queries of heavy clients together
hold at most ``workers - reserve`` of them (``reserve`` is 1): the rest keeps answering everyone else at
once, while slow queries, from one client or several, wait for their own share. (With 2 workers
there is no reserve.) The client is the remote address
(:data:`CLIENT`, set per
request by the server); behind a proxy every request is one client unless the proxy passes the address.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import functools
import hashlib
import os
import pickle
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence

import pyoxigraph as ox

from .engine import (
    DEFAULT_CACHE_BYTES,
    DEFAULT_MAX_RESULT_BYTES,
    DEFAULT_TIMEOUT,
    DEFAULT_WORKER_MEMORY_MB,
    ENGINE_STATS,
    QueryError,
    QueryFailed,
    QueryResult,
    QueryTimeout,
    _prepare,
    _Request,
    default_workers,
)
from .framing import HEADER
from .result_cache import ResultCache
from .safety import DEFAULT_MAX_QUERY_BYTES, error_class
from .worker_processes import ACTIVE, SPARE, WorkerProcess, WorkerProcesses, default_spares

CLIENT: contextvars.ContextVar[str | None] = contextvars.ContextVar("explore_kg_client", default=None)
DEFAULT_HEAVY_MS = 1000.0
COST_HALF_LIFE_S = 30.0  # a client's average worker time per query halves every 30 s it runs nothing
DEFAULT_SPOOL_BYTES = 1 << 20  # answers larger than this cross as a file and are streamed
DEFAULT_MAX_SPOOLED_BYTES = 2 << 30  # all streamed answers being sent at once
_CLIENTS_REMEMBERED = 4096
_BLANK_LABEL = re.compile(rb"_:[A-Za-z0-9_.\-]+")


def data_fingerprint(nquads: bytes) -> str:
    """A hash of the data that does not depend on blank-node labels or order (stable across restarts).

    Blank nodes are relabelled at every load, so each is written as ``_:`` before the lines are
    sorted: two datasets that differ only in how their blank nodes connect hash alike, which is
    fine for an ETag's purpose (a reload with different data changes named terms or literals too).
    """
    lines = _BLANK_LABEL.sub(b"_:", nquads).split(b"\n")
    lines.sort()
    return hashlib.sha256(b"\n".join(lines)).hexdigest()[:16]


def _expire(future: asyncio.Future) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


class QueryEngine:
    """The server's executor: a pool of query worker processes with a deadline on every query.

    ``await engine.start()`` before the first query and ``await engine.close()`` at the end (the
    server's lifespan does both). Answers are cached (LRU, by query, dataset, bindings and Accept)
    since the data does not change while the server runs. ``query(..., spool=True)`` lets a large
    answer come back as a file to stream (:attr:`QueryResult.file`); see the module for the fair share.
    ``spares`` ready workers wait for a worker to be lost (:mod:`explore_kg.worker_processes`; None:
    :func:`~explore_kg.worker_processes.default_spares`).
    """

    def __init__(
        self,
        store: ox.Store,
        *,
        workers: int | None = None,
        spares: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_query_bytes: int | None = DEFAULT_MAX_QUERY_BYTES,
        max_result_bytes: int | None = DEFAULT_MAX_RESULT_BYTES,
        allow_remote: bool = False,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        worker_memory_mb: int = DEFAULT_WORKER_MEMORY_MB,
        heavy_ms: float = DEFAULT_HEAVY_MS,
        reserve: int | None = None,
        spool_bytes: int = DEFAULT_SPOOL_BYTES,
        max_spooled_bytes: int = DEFAULT_MAX_SPOOLED_BYTES,
        worker_frame: bytes | None = None,
        data_version: str | None = None,
    ):
        self.store = store
        self.workers_wanted = workers or default_workers()
        self.timeout = timeout
        self.max_query_bytes = max_query_bytes
        self.max_result_bytes = max_result_bytes
        self.allow_remote = allow_remote
        self.cache_bytes = cache_bytes
        self.cache = ResultCache(cache_bytes)
        # what each worker gets: the data as N-Quads, or where to open it (explore_kg.store)
        dump = store.dump(format=ox.RdfFormat.N_QUADS) if worker_frame is None else worker_frame
        self.data_version = data_version or data_fingerprint(dump)
        self.spares_wanted = default_spares(dump) if spares is None else spares
        self.heavy_ms = heavy_ms
        self.reserve = (1 if self.workers_wanted >= 3 else 0) if reserve is None else reserve
        self.spool_bytes = spool_bytes
        self.max_spooled_bytes = max_spooled_bytes
        self.spooled_bytes = 0  # of streamed answers not yet sent
        self._cost: OrderedDict[str | None, tuple[float, float]] = OrderedDict()  # client -> (avg ms, when)
        self._idle: collections.deque[WorkerProcess] | None = None
        self._waiters: collections.deque[tuple[asyncio.Future, str | None]] = collections.deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.stats = dict.fromkeys(ENGINE_STATS, 0)
        self.processes = WorkerProcesses(dump, wanted=self.workers_wanted, spares=self.spares_wanted,
                                         memory_mb=worker_memory_mb, stats=self.stats,
                                         on_ready=self._release, on_reply=self._on_message,
                                         on_start_failed=self._start_failed)

    @functools.cached_property
    def triples(self) -> int:
        """Quads in the store (counted on first use: on a large on-disk store, counting reads every quad)."""
        return len(self.store)

    @property
    def worker_memory_mb(self) -> int:
        """Address space of each worker started from now on, in MB (0: unlimited)."""
        return self.processes.memory_mb

    @worker_memory_mb.setter
    def worker_memory_mb(self, value: int) -> None:
        self.processes.memory_mb = value

    @property
    def start_failure(self) -> str | None:
        """Why the last replacement worker failed to start, until one starts."""
        return self.processes.start_failure

    @property
    def respawn_ms(self) -> list[float]:
        return self.processes.respawn_ms

    # -- lifecycle --

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._idle = collections.deque()
        await self.processes.start()

    async def close(self) -> None:
        self.processes.close()

    async def __aenter__(self) -> QueryEngine:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    def prestart(self) -> None:
        """Start the worker processes now, before the event loop runs (see WorkerProcesses.prestart)."""
        self.processes.prestart()

    @property
    def available(self) -> bool:
        """Whether at least one started worker is alive (False: queries cannot be answered now)."""
        return self.processes.available

    def _start_failed(self) -> None:
        """A worker failed to start. With no other worker alive, nothing can answer: the queries waiting
        for a worker fail now, with a 503 that says so, instead of at their deadline."""
        if self.available:
            return
        while self._waiters:
            waiter, _ = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(self._unavailable())

    def _unavailable(self) -> QueryError:
        err = QueryFailed(
            "no query worker is available: new query workers fail to start "
            f"({self.start_failure}); the server keeps trying, see its log"
        )
        err.status = 503
        return err

    def _on_message(self, worker: WorkerProcess, message: tuple) -> None:
        """A worker's answer: to whoever waits for it; the worker is free again."""
        pending, worker.pending = worker.pending, None
        self._charge(worker)
        if pending is not None and not pending.done():
            pending.set_result(message)
        elif message[0] == "file" and message[-1] >= 0:
            os.close(message[-1])  # nobody waits for it any more
        if not worker.dead:
            self._release(worker)  # also when the asker gave up (cancelled): the worker is free

    # -- fair share --

    def _charge(self, worker: WorkerProcess) -> None:
        """Add the worker time of the query just finished to its client's running average."""
        client, worker.client = worker.client, None
        now = self._loop.time()
        ms = (now - worker.since) * 1000
        average = self._average(client, now) if client in self._cost else ms
        self._cost.pop(client, None)
        self._cost[client] = (0.7 * average + 0.3 * ms, now)
        while len(self._cost) > _CLIENTS_REMEMBERED:
            self._cost.popitem(last=False)

    def _average(self, client: str | None, now: float) -> float:
        """The client's average worker ms per query, halved for every ``COST_HALF_LIFE_S`` since its last."""
        average, when = self._cost.get(client, (0.0, now))
        return average * 0.5 ** ((now - when) / COST_HALF_LIFE_S)

    def heavy(self, client: str | None) -> bool:
        """Whether ``client`` uses more worker time than a fair share now (see the module)."""
        now, limit = self._loop.time(), self.heavy_ms / 1000
        return self._average(client, now) > self.heavy_ms or any(
            w.client == client and now - w.since > limit for w in self.processes.all if w.pending is not None)

    def _may_take(self, client: str | None) -> bool:
        """Whether a query of ``client`` may have a worker now: heavy clients together hold at most
        all live active workers but ``reserve`` (a query running longer than ``heavy_ms`` counts as heavy)."""
        if not self.reserve or not self.heavy(client):
            return True
        now, limit = self._loop.time(), self.heavy_ms / 1000
        held = live = 0
        for w in self.processes.of_role(ACTIVE):
            if w.started:
                live += 1  # (a worker being replaced is not, nor a spare: the reserve is kept of the live ones)
                held += w.pending is not None and (now - w.since > limit or self._average(w.client, now) > self.heavy_ms)
        return held < live - self.reserve

    def _release(self, worker: WorkerProcess) -> None:
        """Hand a free worker to the longest-waiting query of a client that is not heavy, else to the
        longest-waiting query that may take it, else put it back in the idle pool."""
        waiters = self._waiters
        while waiters and waiters[0][0].done():
            waiters.popleft()
        chosen = None
        for entry in waiters:
            if entry[0].done():
                continue
            if not self.heavy(entry[1]):
                chosen = entry
                break
            if chosen is None and self._may_take(entry[1]):
                chosen = entry
        if chosen is None:
            self._idle.append(worker)
            return
        waiters.remove(chosen)
        chosen[0].set_result(worker)

    async def _acquire(self, timeout: float, client: str | None = None) -> WorkerProcess:
        if self._may_take(client):
            while self._idle:
                worker = self._idle.popleft()
                if not worker.dead:
                    return worker
        if self.start_failure is not None and not self.available:
            if not self.processes.tasks:  # the retries gave up: try again, one at a time
                self.processes.start_later(ACTIVE)
            raise self._unavailable()
        waiter = self._loop.create_future()
        self._waiters.append((waiter, client))
        try:
            worker = await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())
            raise
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())
            raise
        if worker.dead:
            return await self._acquire(max(0.001, timeout), client)
        return worker

    # -- queries --

    def _stream(self, size: int, fd: int) -> tuple:
        """The open result file of ``size`` bytes as a QueryResult's file, counted until closed."""
        if fd < 0:
            raise QueryFailed("the query worker's result file did not arrive")
        if self.spooled_bytes + size > self.max_spooled_bytes:
            os.close(fd)
            err = QueryFailed(f"the server is sending {self.spooled_bytes} bytes of large results now, the most "
                              "it holds at once; try again shortly")
            err.status = 503
            raise err
        self.spooled_bytes += size

        def release() -> None:
            self.spooled_bytes -= size

        return os.fdopen(fd, "rb", buffering=0), release

    def cache_key(self, req: _Request) -> tuple:
        return (req.sparql, req.accept, req.substitutions, req.default_graph_uris, req.named_graph_uris, req.base_iri,
                self.data_version)  # (an answer computed before a commit is put under the old version's key)

    def data_changed(self, data_version: str) -> None:
        """A writable server committed a change: new ETags, no cached answer of the old data (the workers
        check a query's graphs against the store itself: :class:`explore_kg.engine.StoreGraphs`)."""
        self.data_version = data_version
        self.cache.clear()

    async def query(
        self,
        sparql: str,
        *,
        media_type: str | None = None,
        substitutions: Mapping | None = None,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        timeout: float | None = None,
        base_iri: str | None = None,
        spool: bool = False,
        client: str | None = None,
    ) -> QueryResult:
        """Answer one query within ``timeout`` seconds (default: the engine's), in a worker process.

        ``media_type`` is a media type or a whole Accept value; see :func:`negotiate`. ``base_iri``
        resolves relative IRIs in the query (the server passes its endpoint URL). With ``spool``, an
        answer over ``spool_bytes`` comes back in ``result.file`` (the caller sends it, then calls
        ``result.close()``). ``client`` (default :data:`CLIENT`) is whose share the query counts in.
        """
        if self._idle is None:
            raise RuntimeError("QueryEngine.start() was not awaited")
        req = _prepare(
            sparql,
            accept=media_type,
            substitutions=substitutions,
            default_graph_uris=default_graph_uris,
            named_graph_uris=named_graph_uris,
            allow_remote=self.allow_remote,
            max_query_bytes=self.max_query_bytes,
            max_result_bytes=self.max_result_bytes,
            base_iri=base_iri,
        )
        if spool:
            req = req._replace(spool_bytes=self.spool_bytes)
        self.stats["queries"] += 1
        key = self.cache_key(req)
        hit = self.cache.get(key)
        if hit is not None:
            self.stats["cache_hits"] += 1
            return QueryResult(hit.body, hit.media_type, hit.kind, 0.0, cached=True)
        client = CLIENT.get() if client is None else client
        result = await self._dispatch(req, self.timeout if timeout is None else timeout, client)
        self.cache.put(key, result)
        return result

    async def _dispatch(self, req: _Request, timeout: float, client: str | None = None) -> QueryResult:
        loop = self._loop
        deadline = loop.time() + timeout
        try:
            worker = await self._acquire(timeout, client)
        except TimeoutError:
            self.stats["timeouts"] += 1
            raise QueryTimeout(
                f"no query worker became free within {timeout:g} s (the server is busy); try again"
            ) from None
        future = loop.create_future()
        worker.pending = future
        worker.query_head = req.sparql[:300]
        worker.client, worker.since = client, loop.time()
        try:
            payload = pickle.dumps(tuple(req), protocol=pickle.HIGHEST_PROTOCOL)
            frame = HEADER.pack(len(payload)) + payload
            try:  # the socket's buffer is empty (the worker has read its last query): one send will do
                sent = worker.sock.send(frame)
            except BlockingIOError:
                sent = 0
            if sent < len(frame):
                await loop.sock_sendall(worker.sock, frame[sent:])
        except OSError:
            if not worker.dead:  # (if it died, its death was noticed and it is being replaced)
                self.processes.replace(worker)
            raise QueryFailed("the query worker could not be reached; it was replaced") from None
        # A timer rather than asyncio.wait_for (a task-level wrapper, measurable per query on the loop)
        timer = loop.call_at(deadline, _expire, future)
        try:
            message = await future
        except TimeoutError:
            self.stats["timeouts"] += 1
            self._charge(worker)  # a query stopped at the deadline weighs on its client's share
            if not worker.dead:
                self.processes.replace(worker)  # a ready spare takes its place at once
            raise QueryTimeout(
                f"the query did not finish within the time limit of {timeout:g} s; it was stopped"
            ) from None
        finally:
            timer.cancel()
        if message[0] == "ok":
            _, body, media_type, kind, elapsed = message
            return QueryResult(body, media_type, kind, elapsed, worker_pid=worker.pid)
        if message[0] == "file":
            _, size, media_type, kind, elapsed, fd = message
            file, release = self._stream(size, fd)
            return QueryResult(b"", media_type, kind, elapsed, file=file, size=size, on_close=release,
                               worker_pid=worker.pid)
        _, name, text, status = message
        err = error_class(name)(text)
        err.status = status
        raise err

    def ready_workers(self) -> int:
        """How many active workers are alive and loaded (a replacement still loading is not, nor a spare)."""
        return sum(1 for w in self.processes.of_role(ACTIVE) if w.started)

    def worker_pids(self) -> list[int]:
        """The active workers' processes, started or starting (not the spares)."""
        return [w.pid for w in self.processes.of_role(ACTIVE) if w.pid]

    def spares_ready(self) -> int:
        """How many spares are ready to take a lost worker's place now."""
        return len(self.processes.ready_spares())

    def spare_pids(self) -> list[int]:
        """The spares' processes, started or starting."""
        return [w.pid for w in self.processes.of_role(SPARE) if w.pid]
