"""The server's engine over an external SPARQL store (``serve --store URL``): what
:class:`~explore_kg.pool.QueryEngine` is, without worker processes (the store evaluates).

A deadline per query (the forwarded request is cancelled, and the store's own timeout parameter
passed), the result cache, and a probe (every :attr:`RemoteEngine.PROBE_SECONDS`) that keeps
``available`` and re-reads the store's graph list every :meth:`RemoteEngine.refresh_interval` seconds
(2 s, longer for a store where reading it is slow): a ``push`` while serving is seen without a restart
(a new data version for the ETags, the cache emptied, the pages' and dumps' graph list updated).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence

import httpx

from ..engine import ENGINE_STATS, QueryResult, QueryTimeout, _prepare, _Request
from ..result_cache import ResultCache
from ..safety import DEFAULT_MAX_QUERY_BYTES
from .remote import _SPARQL_JSON, Connection, StoreUnavailable, finish, prepare

log = logging.getLogger("explore_kg.store")


def data_version(sizes: Mapping[str, int]) -> str:
    """The data's version as the ETags and the cache name it: a hash of the graphs and their sizes."""
    return hashlib.sha256(json.dumps(sorted(sizes.items())).encode()).hexdigest()[:16]


class RemoteEngine:
    """The server's executor over an external store; the interface of :class:`explore_kg.pool.QueryEngine`."""

    PROBE_SECONDS = 2.0
    REFRESH_SECONDS = 2.0  # the store's graph list is read again at most this often...
    REFRESH_SHARE = 0.05  # ...and so that reading it takes at most this share of the store's time

    def __init__(self, conn: Connection, *, timeout: float, max_query_bytes: int | None = DEFAULT_MAX_QUERY_BYTES,
                 max_result_bytes: int | None = None, allow_remote: bool = False, cache_bytes: int = 0,
                 data_version: str | None = None, concurrency: int = 8,
                 on_change: Callable[[], str] | None = None):
        self.conn = conn
        self.on_change = on_change  # called when the store's graphs changed; returns the new data version
        self.timeout = timeout
        self.max_query_bytes = max_query_bytes
        self.max_result_bytes = max_result_bytes
        self.allow_remote = allow_remote
        self.cache = ResultCache(cache_bytes)
        self.data_version = data_version
        self.workers_wanted = concurrency  # requests in flight to the store (the client share uses it)
        self.known_graphs = conn.graphs()
        self._generation = conn.generation
        self._refreshed = time.monotonic()
        self._refresh_cost = 0.0  # seconds the last read of the graph list took
        self.spooled_bytes = 0
        self.stats = dict.fromkeys((*ENGINE_STATS, "store_errors"), 0)
        self.start_failure: str | None = None
        self._client: httpx.AsyncClient | None = None
        self._probe_task: asyncio.Task | None = None
        self._ok = True

    def _changed(self) -> None:
        """The store's graphs changed (a push while serving): new data version, an empty cache."""
        self._generation = self.conn.generation
        self.known_graphs = self.conn.graphs()
        self.cache.clear()
        if self.on_change is not None:
            self.data_version = self.on_change()
        log.info("the SPARQL store's graphs changed: %d graphs; cached answers dropped", len(self.known_graphs))

    def _store_down(self, reason: str) -> None:
        self.stats["store_errors"] += 1
        self._set_ok(False, reason)

    def prestart(self) -> None:
        """Nothing to start early: the store answers, there are no query workers (see QueryEngine.prestart)."""

    async def start(self) -> None:
        self._client = httpx.AsyncClient(auth=self.conn.auth, timeout=httpx.Timeout(self.timeout, connect=3.0),
                                         limits=httpx.Limits(max_connections=self.workers_wanted * 2))
        self._probe_task = asyncio.get_running_loop().create_task(self._probe_loop())

    async def close(self) -> None:
        if self._probe_task is not None:
            self._probe_task.cancel()
        if self._client is not None:
            await self._client.aclose()

    async def _probe_loop(self) -> None:
        while True:
            await asyncio.sleep(self.PROBE_SECONDS)
            try:
                kwargs = self.conn.query_request("ASK {}", _SPARQL_JSON, [])
                response = await self._client.post(self.conn.dialect.query_url, timeout=2.0, **kwargs)
                self._set_ok(response.status_code < 500, f"the SPARQL store answers HTTP {response.status_code}")
            except httpx.HTTPError as e:
                self._set_ok(False, f"the SPARQL store cannot be reached ({type(e).__name__})")
                continue
            if self._ok and time.monotonic() - self._refreshed > self.refresh_interval():
                await self._refresh()

    def refresh_interval(self) -> float:
        """Seconds between two reads of the store's graph list: :attr:`REFRESH_SECONDS`, or longer when
        reading it is slow (a count over every quad: about a second at 10M quads), so that it never takes
        more than :attr:`REFRESH_SHARE` of the store's time (a push is then seen within that interval)."""
        return max(self.REFRESH_SECONDS, self._refresh_cost / self.REFRESH_SHARE)

    async def _refresh(self) -> None:
        """Read the store's graph list again (in the background: queries and their ETags use the last)."""
        began = self._refreshed = time.monotonic()
        try:
            await asyncio.to_thread(self.conn.graphs, refresh=True)
            self._refresh_cost = time.monotonic() - began
            if self.conn.generation != self._generation:
                await asyncio.to_thread(self._changed)
        except Exception as e:  # (the next probe says whether the store is down; never end the loop)
            log.warning("could not read the SPARQL store's graph list: %s", getattr(e, "message", e))

    def _set_ok(self, ok: bool, reason: str) -> None:
        if ok != self._ok:
            (log.info if ok else log.error)("%s", "the SPARQL store answers again" if ok else reason)
        self._ok = ok
        self.start_failure = None if ok else reason

    @property
    def available(self) -> bool:
        return self._ok

    def ready_workers(self) -> int:
        return 0

    def worker_pids(self) -> list[int]:
        return []

    def spares_ready(self) -> int:
        return 0

    def spare_pids(self) -> list[int]:
        return []

    def cache_key(self, req: _Request) -> tuple:
        return (req.sparql, req.accept, req.substitutions, req.default_graph_uris, req.named_graph_uris, req.base_iri)

    async def query(self, sparql: str, *, media_type: str | None = None, substitutions: Mapping | None = None,
                    default_graph_uris: Sequence[str] = (), named_graph_uris: Sequence[str] = (),
                    timeout: float | None = None, base_iri: str | None = None, spool: bool = False,
                    client: str | None = None) -> QueryResult:
        req = _prepare(sparql, accept=media_type, substitutions=substitutions, default_graph_uris=default_graph_uris,
                       named_graph_uris=named_graph_uris, allow_remote=self.allow_remote,
                       max_query_bytes=self.max_query_bytes, max_result_bytes=self.max_result_bytes,
                       base_iri=base_iri)
        self.stats["queries"] += 1
        key = self.cache_key(req)
        hit = self.cache.get(key)
        if hit is not None:
            self.stats["cache_hits"] += 1
            return QueryResult(hit.body, hit.media_type, hit.kind, 0.0, cached=True)
        timeout = self.timeout if timeout is None else timeout
        started = time.perf_counter()
        try:  # (in a thread: it may ask the store, e.g. for its graph list or a path's closure)
            kind, _, kwargs = await asyncio.wait_for(asyncio.to_thread(prepare, self.conn, req, timeout), timeout)
        except TimeoutError:
            self.stats["timeouts"] += 1
            err = QueryTimeout(f"the SPARQL store did not answer within the time limit of {timeout:g} s; "
                               "the query was stopped")
            err.status = 504
            raise err from None
        except StoreUnavailable as e:
            self._store_down(e.message)
            raise
        try:
            # our deadline: the request is cancelled (its connection closed) when it passes
            response = await asyncio.wait_for(self._client.post(self.conn.dialect.query_url, **kwargs), timeout)
        except (TimeoutError, httpx.TimeoutException):
            self.stats["timeouts"] += 1
            err = QueryTimeout(f"the SPARQL store did not answer within the time limit of {timeout:g} s; "
                               "the query was stopped")
            err.status = 504
            raise err from None
        except httpx.HTTPError as e:
            self._store_down(f"the SPARQL store cannot be reached ({type(e).__name__})")
            raise StoreUnavailable("the SPARQL store behind this endpoint cannot be reached; try again later") from None
        if response.status_code >= 500:
            self.stats["store_errors"] += 1
        else:
            self._set_ok(True, "")
        result = finish(self.conn, req, kind, response, started)
        self.cache.put(key, result)
        return result
