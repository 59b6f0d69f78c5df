"""The SPARQL 1.1 Protocol endpoint (query operation only) and the app other modules plug into.

``create_app(config)`` loads the data once, starts a :class:`~explore_kg.engine.QueryEngine` (time
limited worker processes) and serves:

* ``/sparql``: the SPARQL 1.1 Protocol's query operation (:mod:`explore_kg.protocol`: GET, POST form,
  POST ``application/sparql-query``, the service description, negotiation, ETag / 304, CORS).
* ``/health``: liveness and what is loaded.
* Everything else through the pages app (:mod:`explore_kg.pages`): FastAPI's ``/openapi.json`` and the
  routers of optional modules (:data:`explore_kg.pages.OPTIONAL_ROUTERS`; ``/docs``, its Swagger UI, is
  served from the package by :mod:`explore_kg.web`).

Read-only and safe by default: see :mod:`explore_kg.safety` for what is refused and why.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox

from . import __version__
from .access_log import log_access
from .engine import (
    DEFAULT_CACHE_BYTES,
    DEFAULT_MAX_RESULT_BYTES,
    DEFAULT_TIMEOUT,
    DEFAULT_WORKER_MEMORY_MB,
    GRAPH_FORMATS,
    RESULT_FORMATS,
    NotAcceptable,
    QueryError,
)
from .limits import ClientShare, ConnectionLimits, guarded_protocol
from .loading import LoadedData, load, to_oxigraph
from .namespaces import INFERRED_GRAPH
from .pool import CLIENT
from .protocol import (  # noqa: F401 - ProtocolError, parse_query_string: this module's API before the split
    SPARQL_PATHS,
    ProtocolError,
    SparqlEndpoint,
    may_want_html,
    parse_query_string,
    service_description,
)
from .safety import DEFAULT_MAX_QUERY_BYTES
from .store import open_for_serving

log = logging.getLogger("explore_kg.server")



@dataclass
class ServerConfig:
    """How to serve: which files, where to listen, and the limits every query runs under."""

    paths: Sequence[Path | str] = ()  # empty: the shipped graph
    host: str = "127.0.0.1"
    port: int = 8000
    timeout: float = DEFAULT_TIMEOUT
    workers: int | None = None  # query worker processes; None: engine.default_workers() (1.5 per CPU, 2-8)
    spare_workers: int | None = None  # ready workers kept for a lost one's place; None: worker_processes.default_spares
    inferred: bool = False  # add OWL RL inferences as graph .../graph/inferred
    entailed: bool = True  # sub-class/-property, inverse, equivalence entailments in graph .../graph/entailed
    max_query_bytes: int = DEFAULT_MAX_QUERY_BYTES
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
    allow_remote: bool = False
    cache_bytes: int = DEFAULT_CACHE_BYTES
    cache_max_age: int = 60
    worker_memory_mb: int = DEFAULT_WORKER_MEMORY_MB  # address space per query worker (0: unlimited)
    base_url: str | None = None  # the public URL (scheme://host[:port]); None: the address served, never Host
    connection_limits: ConnectionLimits = field(default_factory=ConnectionLimits)
    client_queries: int | None = None  # queries one client runs at once (None: FairShare's default)
    client_queue: int = 64  # requests one client may have waiting; past it 429
    queue_timeout: float | None = None  # longest wait for a worker (None: the query timeout)
    shutdown_timeout: float = 10.0  # on SIGTERM, longest wait for requests in progress
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or networks); empty: none,
    # so the client is always the connection's peer and no client can pick the address it is counted as.
    forwarded_allow_ips: tuple[str, ...] = ()
    store: str = "auto"  # where the data lives: "memory", "disk" or "auto" (explore_kg.store.wants_disk)
    store_dir: str | None = None  # the on-disk store's directory; None: a cache directory keyed by the inputs
    releases: str | None = None  # folder of release folders served at /dumps/VERSION/ (None: the served data)
    update_url: str | None = None  # an external store (store = its URL): explore_kg.store.remote
    gsp_url: str | None = None
    auth: str | None = None
    auth_type: str | None = None
    writable: bool = False  # serve --writable: /update, /store, /changes (explore_kg.update_http); needs store_dir
    tokens: dict = field(default_factory=dict)  # token -> writer's name (explore_kg.tokens)
    shapes: str | None = None  # serve --shapes FILE: the SHACL shapes of the write gate for other data
    extra: dict = field(default_factory=dict)


def load_for_serving(config: ServerConfig) -> LoadedData:
    """The quads to serve: the shipped graph or the given files, plus inferences if asked."""
    loaded = load(config.paths, shipped=not config.paths)
    if config.inferred:
        from rdflib import Graph

        from .loading import to_rdflib
        from .reasoning import reason

        asserted = Graph()
        for q in loaded.quads:
            asserted.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
        result = reason(asserted)
        graph = ox.NamedNode(str(INFERRED_GRAPH))
        for s, p, o in result.inferred:
            loaded.quads.append(ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), graph))
        loaded.graph_files.setdefault(str(INFERRED_GRAPH), "(OWL 2 RL reasoning)")
        for problem in result.inconsistencies:
            log.warning("inconsistency found by reasoning: %s", problem.message)
    return loaded


def graph_sizes(store: ox.Store) -> dict[str, int]:
    """Triples per named graph, and under "" the default graph (their merge, see LoadedData.to_store)."""
    sizes: dict[str, int] = {}
    for row in store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"):
        sizes[row["g"].value] = int(row["n"].value)
    sizes[""] = sum(1 for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    return sizes


_HOST = re.compile(rb"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$")
# What an IRI cannot hold (RFC 3987): a path with one of these names no resource here.
_NOT_IRI = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f]')
_HARDENING = [(b"x-content-type-options", b"nosniff"), (b"access-control-allow-origin", b"*")]


def _plain_error(status: int, message: str) -> tuple[dict, dict]:
    body = (message + "\n").encode("utf-8")
    return ({"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                         *_HARDENING]},
            {"type": "http.response.body", "body": body})


def _hardened(send):
    """``send`` adding nosniff, CORS and ``Vary: Accept`` to an answer that lacks them (errors included)."""

    async def hardened_send(message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            names = {name.lower(): i for i, (name, _) in enumerate(headers)}
            headers += [h for h in _HARDENING if h[0] not in names]
            if b"vary" not in names:
                headers.append((b"vary", b"Accept"))
            elif b"accept" not in headers[names[b"vary"]][1].lower():
                headers[names[b"vary"]] = (b"vary", headers[names[b"vary"]][1] + b", Accept")
            message = {**message, "headers": headers}
        await send(message)

    return hardened_send


class EndpointApp:
    """The ASGI app uvicorn serves: /sparql and /health are answered here, everything else by the pages
    app (:mod:`explore_kg.pages`: FastAPI and the optional routers), and every request is checked first
    (Host, path) and addressed as the server's own URL, never as the client's Host.

    FastAPI's own entry (telemetry hooks), Starlette's error middleware (which wraps ``send``), CORS
    and the access-log middleware cost the event-loop process about a tenth of its time per query;
    the endpoint does its own CORS headers and access log. The ``serve`` command builds the pages app in
    a thread (:meth:`build_pages_later`): until it is there, requests for pages wait, SPARQL clients do not.
    """

    def __init__(self, *, config: ServerConfig, served, engine, share: ClientShare):
        self.config = config
        self.loaded, self.store, self.graph_sizes = served.loaded, served.store, served.sizes
        self.engine = engine
        self.share = share
        self.router_errors: dict[str, str] = {}
        self.writer = None
        self.sparql = SparqlEndpoint(engine=engine, config=config, sizes=served.sizes, share=share)
        self.public = parse_base_url(config.base_url) if config.base_url else None
        self.pages = None  # the pages app, once built
        self._pages_built = threading.Event()
        self._pages_later = False  # built by a thread once the first worker is ready (the serve command)
        self._pages_started = False

    # -- the pages app --

    def build_pages(self) -> None:
        """Build the pages app now (imports FastAPI and every optional router)."""
        began = time.perf_counter()
        try:
            from .pages import build_pages

            self.pages = build_pages(self)
            log.info("pages and APIs ready in %.0f ms", (time.perf_counter() - began) * 1000)
        except Exception:
            log.exception("the pages and APIs could not be built: only /sparql and /health are served")
            if not self._pages_later:
                raise
        finally:
            # Everything built so far (the loaded quads, rdflib graphs of the routers, the app) lives as long
            # as the server: out of the collector's sight, a full collection no longer walks it while every
            # request in flight waits (it took 65-190 ms: bench/README.md).
            gc.collect()
            gc.freeze()
            self._pages_built.set()

    def build_pages_later(self) -> None:
        """Build the pages app in a thread, while the server answers SPARQL clients (started once the first
        worker is ready: a thread importing FastAPI meanwhile took half of the GIL from the server's start).

        Meanwhile the interpreter switches threads every 0.5 ms instead of 5: the event loop, which needs
        the GIL for moments at a time, waited up to 5 ms for each (the first answer took ~100 ms more)."""

        if self._pages_started:
            return
        self._pages_started = True

        def build() -> None:
            interval = sys.getswitchinterval()
            sys.setswitchinterval(min(interval, 0.0005))
            try:
                self.build_pages()
            finally:
                sys.setswitchinterval(interval)

        threading.Thread(target=build, name="explore-kg-pages", daemon=True).start()

    def wait_for_pages(self) -> None:
        self._pages_built.wait()
        if self.pages is None:
            raise RuntimeError("the pages app could not be built (see the log)")

    @property
    def pages_ready(self) -> bool:
        return self._pages_built.is_set()

    async def _pages_app(self):
        """The pages app, once built (None if it could not be: see the log)."""
        if self._pages_later and not self._pages_started:
            self.build_pages_later()  # asked for before PAGES_DELAY_S: now
        while not self._pages_built.is_set():  # the first second of a restart only
            await asyncio.sleep(0.01)
        return self.pages

    # -- ASGI --

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if scope["type"] != "http":
            pages = await self._pages_app()
            return await pages(scope, receive, send) if pages is not None else None
        client = scope.get("client")
        CLIENT.set(client[0] if client else None)  # this request's task only: the pool's fair share
        problem = self.readdress(scope)
        if problem is not None:
            for message in _plain_error(400, problem):
                await send(message)
            return
        path = scope["path"]
        if path in SPARQL_PATHS:
            if may_want_html(scope):
                pages = await self._pages_app()
                if pages is not None and pages.sparql_html is not None and pages.sparql_html.wanted(scope):
                    return await pages.sparql_html(dict(scope, app=pages), receive, _hardened(send))
            return await self.sparql(scope, receive, send)
        if path == "/health" and scope["method"] == "GET":
            return await self._health(scope, send)
        if scope["method"] == "OPTIONS" and path in ("/update", "/store"):
            for message in _plain_error(403, "cross-origin writes are not allowed: write from the same origin "
                                             "or a non-browser client, with Authorization: Bearer <token>"):
                await send(message)
            return
        if _NOT_IRI.search(path):
            for message in _plain_error(400, f"the path {path!r} holds a character that an IRI "
                                             "cannot (a space, a control character or one of <>\"{}|\\^`)"):
                await send(message)
            return
        pages = await self._pages_app()
        if pages is None:
            for message in _plain_error(503, "this server's pages and APIs could not be built (see its log): "
                                             "only /sparql and /health are served"):
                await send(message)
            return
        return await pages(scope, receive, _hardened(send))

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.engine.start()
                except BaseException as e:  # noqa: BLE001 - uvicorn logs it and exits
                    await send({"type": "lifespan.startup.failed", "message": f"{type(e).__name__}: {e}"})
                    return
                if self._pages_later:
                    asyncio.get_running_loop().call_later(PAGES_DELAY_S, self.build_pages_later)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.engine.close()
                if self.writer is not None:
                    self.writer.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def health(self) -> tuple[int, dict]:
        """/health: 503 "degraded" while no query worker is alive (after crashes, until a replacement starts)."""
        engine, share = self.engine, self.share
        available = engine.available
        return (200 if available else 503), {
            "status": "ok" if available else "degraded",
            "start_failure": engine.start_failure,
            "version": __version__,
            "triples": len(self.loaded.quads),
            "graphs": len(self.graph_sizes) - 1,
            "entailed_triples": self.loaded.entailed,
            "data_version": engine.data_version,
            "workers": len(engine.worker_pids()),
            "workers_ready": engine.ready_workers(),
            "spares": len(engine.spare_pids()),
            "spares_ready": engine.spares_ready(),
            "timeout_s": self.config.timeout,
            "stats": engine.stats,
            "cache": {"bytes": engine.cache.size, "entries": len(engine.cache), "max_bytes": engine.cache.max_bytes},
            "streaming_bytes": engine.spooled_bytes,
            "refused_429": share.refused,
            "pages_ready": self.pages_ready,  # pages and APIs besides /sparql and /health (built at start)
            "router_errors": self.router_errors,
        }

    async def _health(self, scope, send) -> None:
        started = time.perf_counter()
        status, document = self.health()
        body = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
        await _hardened(send)({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        log_access(scope, status, len(body), started)

    def readdress(self, scope) -> str | None:
        """Check the Host header and put the server's own address in its place (in ``scope``).

        Every URL the server writes (service description, BASE of queries, redirects, dump links)
        comes from it: a client's Host is never echoed. The address is ``serve --base-url`` if given,
        else the address the connection came in on. Returns the problem with a malformed Host.
        """
        headers = scope["headers"]
        at = [i for i, (name, _) in enumerate(headers) if name == b"host"]
        if len(at) > 1:
            return "the request has more than one Host header"
        if at and not _HOST.match(headers[at[0]][1]):
            return "malformed Host header: give a host name or address, and a port if not the default"
        if self.public is not None:
            scope["scheme"], host = self.public
        else:
            server = scope.get("server")
            if not server:
                return None
            address = f"[{server[0]}]" if ":" in server[0] else server[0]
            default = 443 if scope.get("scheme") == "https" else 80
            host = (address if server[1] in (None, default) else f"{address}:{server[1]}").encode()
        if not at or headers[at[0]][1] != host:
            headers = [h for h in headers if h[0] != b"host"]
            headers.append((b"host", host))
            scope["headers"] = headers
        return None



def parse_base_url(base_url: str) -> tuple[str, bytes]:
    """(scheme, host[:port]) of ``serve --base-url``; a path is not supported (serve at the root)."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") \
            or parts.query or parts.fragment or not _HOST.match(parts.netloc.encode()):
        raise ValueError(f"--base-url must be http(s)://host[:port] with no path, not {base_url!r}")
    return parts.scheme, parts.netloc.encode()



_LOGGED_GRAPHS = 50  # graph sizes written to the log at start-up
# serve: the pages app is built this long after the first worker is ready, or when a request needs it
# (building it at once made the first SPARQL answers of a restart share the interpreter with it)
PAGES_DELAY_S = 0.5


def create_app(config: ServerConfig | None = None, *, loaded: LoadedData | None = None,
               prestart: bool = False) -> EndpointApp:
    """The endpoint app: data loaded now, query workers started with the app's lifespan. ``prestart`` (the
    ``serve`` command): the first worker's process starts now, and the pages app is built in a thread
    while the server starts and answers SPARQL clients (a restart's time to first answer, issue 10)."""
    config = config or ServerConfig()
    started = time.perf_counter()
    served = open_for_serving(config, loaded)  # in memory, or on disk and shared by the workers (explore_kg.store)
    loaded, sizes = served.loaded, served.sizes
    log.info(
        "loaded %d triples in %d graphs from %d files in %.0f ms",
        len(loaded.quads), len(sizes) - 1, len(loaded.files), (time.perf_counter() - started) * 1000,
    )
    for graph_iri, count in sorted(sizes.items())[:_LOGGED_GRAPHS]:
        log.info("  %7d triples  %s", count, graph_iri or "(default graph: the merge of all graphs)")
    if len(sizes) > _LOGGED_GRAPHS:  # (thousands of lines would delay a large store's start: /void lists them)
        log.info("  ... and %d more graphs", len(sizes) - _LOGGED_GRAPHS)
    engine = served.engine(config)  # worker processes, or an external store's client
    if prestart:
        engine.prestart()
    share = ClientShare(config.client_queries or 2 * engine.workers_wanted, config.client_queue,
                        config.timeout if config.queue_timeout is None else config.queue_timeout)
    app = EndpointApp(config=config, served=served, engine=engine, share=share)
    if config.writable:
        from .commit import Writer

        app.writer = Writer(served, tokens=config.tokens, curated=not config.paths,
                            shapes=Path(config.shapes) if config.shapes else None, allow_remote=config.allow_remote)
    if prestart:
        app._pages_later = True  # by the lifespan, once the first worker is ready
    else:
        app.build_pages()
        app.wait_for_pages()
    return app


__all__ = [
    "ServerConfig",
    "create_app",
    "load_for_serving",
    "service_description",
    "NotAcceptable",
    "GRAPH_FORMATS",
    "RESULT_FORMATS",
]


def run(config: ServerConfig, *, log_level: str = "info") -> int:
    """Load, then serve with uvicorn until interrupted; returns the exit status (the ``serve`` command)."""
    import sys

    import uvicorn

    from .loading import LoadError

    logging.basicConfig(level=log_level.upper(), format="%(message)s", stream=sys.stderr)
    try:
        if config.base_url:
            parse_base_url(config.base_url)
    except ValueError as e:
        log.error("cannot serve: %s", e)
        return 2
    try:
        app = create_app(config, prestart=True)
    except LoadError as e:
        hint = ""
        if "LoadDocumentCallback" in e.message:  # pyoxigraph's words for a remote JSON-LD @context
            hint = (" (the file's JSON-LD @context is a URL: explore-kg never fetches what a file names; "
                    "put the context inline)")
        log.error("cannot serve: %s%s", e, hint)
        return 2
    except QueryError as e:  # an external store (--store URL) that is down or refuses
        log.error("cannot serve: %s", e.message)
        return 3
    except ValueError as e:  # --store URL / --auth that cannot be used
        log.error("cannot serve: %s", e)
        return 2
    log.info(
        "serving SPARQL at http://%s:%d/sparql (timeout %g s, %s query workers, %s)",
        config.host, config.port, config.timeout, app.engine.workers_wanted,
        "remote access ALLOWED" if config.allow_remote else "no remote access",
    )
    _raise_open_files_limit(config.connection_limits.max_connections + 256)
    # uvicorn picks uvloop when installed; the HTTP protocol is httptools' with the bounds of
    # explore_kg.limits (uvicorn's own limit_concurrency would answer 503 to everyone: not used).
    uvicorn.run(app, host=config.host, port=config.port, access_log=False, log_level=log_level.lower(),
                server_header=False, limit_concurrency=None, timeout_keep_alive=5,
                proxy_headers=bool(config.forwarded_allow_ips),
                forwarded_allow_ips=list(config.forwarded_allow_ips) or None,
                http=guarded_protocol(config.connection_limits),
                timeout_graceful_shutdown=max(1, round(config.shutdown_timeout)))
    return 0


def _raise_open_files_limit(wanted: int) -> None:
    """Let the process hold ``wanted`` descriptors if the hard limit allows (connections are files)."""
    import resource

    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if soft != resource.RLIM_INFINITY and soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
