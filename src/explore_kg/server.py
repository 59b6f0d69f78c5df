"""The SPARQL 1.1 Protocol endpoint (query operation only) and the app other modules plug into.

``create_app(config)`` loads the data once, starts a :class:`~explore_kg.engine.QueryEngine` (time
limited worker processes) and serves:

* ``/sparql``: the SPARQL 1.1 Protocol's query operation (:mod:`explore_kg.protocol`: GET, POST form,
  POST ``application/sparql-query``, the service description, negotiation, ETag / 304, CORS).
* ``/health``: liveness and what is loaded.
* FastAPI's ``/openapi.json`` (``/docs``, its Swagger UI, is served from the package by :mod:`explore_kg.web`).
* The routers of optional modules (:data:`OPTIONAL_ROUTERS`): each that exists exposes
  ``build_router(app) -> APIRouter`` and is included, so the endpoint does not depend on them.

Read-only and safe by default: see :mod:`explore_kg.safety` for what is refused and why.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.util
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from starlette.middleware.cors import CORSMiddleware

from . import __version__
from .access_log import AccessLogMiddleware
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
    parse_query_string,
    service_description,
)
from .safety import DEFAULT_MAX_QUERY_BYTES
from .store import open_for_serving

log = logging.getLogger("explore_kg.server")

OPTIONAL_ROUTERS = ("queries_http", "ontology_http", "web", "dumps", "validate_http", "update_http")  # ontology_http before web: its /ontology wins


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


class EndpointApp(FastAPI):
    """FastAPI, except that /sparql goes straight to :class:`SparqlEndpoint`, and every request is
    checked first (Host, path) and addressed as the server's own URL, never as the client's Host.

    FastAPI's own entry (telemetry hooks), Starlette's error middleware (which wraps ``send``), CORS
    and the access-log middleware cost the event-loop process about a tenth of its time per query;
    the endpoint does its own CORS headers and access log.
    """

    sparql: SparqlEndpoint | None = None
    sparql_html = None  # set by the web router: a browser's GET /sparql?query= gets the editor with the results
    public: tuple[str, bytes] | None = None  # (scheme, host) of serve --base-url

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            client = scope.get("client")
            CLIENT.set(client[0] if client else None)  # this request's task only: the pool's fair share
            problem = self.readdress(scope)
            if problem is not None:
                for message in _plain_error(400, problem):
                    await send(message)
                return
            if self.sparql is not None and scope["path"] in SPARQL_PATHS:
                if self.sparql_html is not None and self.sparql_html.wanted(scope):
                    return await self.sparql_html(dict(scope, app=self), receive, _hardened(send))
                return await self.sparql(scope, receive, send)
            if scope["method"] == "OPTIONS" and scope["path"] in ("/update", "/store"):
                for message in _plain_error(403, "cross-origin writes are not allowed: write from the same origin "
                                                 "or a non-browser client, with Authorization: Bearer <token>"):
                    await send(message)
                return
            if _NOT_IRI.search(scope["path"]):
                for message in _plain_error(400, f"the path {scope['path']!r} holds a character that an IRI "
                                                 "cannot (a space, a control character or one of <>\"{}|\\^`)"):
                    await send(message)
                return
            return await super().__call__(scope, receive, _hardened(send))
        return await super().__call__(scope, receive, send)

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


SPARQL_OPENAPI = {
    "parameters": [
        {"name": "query", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "A SPARQL 1.1 query (SELECT, ASK, CONSTRUCT, DESCRIBE). Without it, GET returns the "
                        "SPARQL Service Description."},
        {"name": "default-graph-uri", "in": "query", "required": False,
         "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": True,
         "description": "Graphs whose merge is the default graph (instead of the union of all graphs)."},
        {"name": "named-graph-uri", "in": "query", "required": False,
         "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": True,
         "description": "Graphs available to GRAPH."},
        {"name": "format", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "Overrides Accept: json, xml, csv, tsv, turtle, ntriples, jsonld, rdfxml, trig, nquads."},
    ],
    "responses": {
        "200": {"description": "Query results",
                "content": {m: {} for m in ["application/sparql-results+json", "application/sparql-results+xml",
                                            "text/csv", "text/tab-separated-values", "text/turtle",
                                            "application/n-triples", "application/ld+json",
                                            "application/rdf+xml", "application/trig", "application/n-quads"]}},
        "304": {"description": "Not modified (If-None-Match matched the ETag)"},
        "400": {"description": "Malformed query, protocol error, or refused operation (update, SERVICE, "
                               "a graph not in the dataset)"},
        "406": {"description": "No result format matches Accept"},
        "413": {"description": "Query text larger than the limit"},
        "429": {"description": "This client already has as many requests in progress and waiting as it may "
                               "(serve --client-queries, --client-queue); Retry-After says when to try again"},
        "503": {"description": "The query exceeded the time limit, waited too long for a worker, or needed more "
                               "memory than a worker may use (no partial results are sent)"},
    },
}
# What the connection guard (explore_kg.limits) and EndpointApp may answer on any route.
GUARD_RESPONSES = {
    "400": "Malformed Host header, or a path holding a character an IRI cannot",
    "408": "The request's headers or body did not arrive in time (serve --header-timeout)",
    "414": "The request target is longer than the limit",
    "431": "The request headers are larger, or more, than the limit (serve --max-header-kb)",
}


def document_guard_responses(app: FastAPI) -> None:
    """Add :data:`GUARD_RESPONSES` to every operation of the app's OpenAPI document."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            document = build()
            for item in document.get("paths", {}).values():
                for operation in item.values():
                    if isinstance(operation, dict) and "responses" in operation:
                        for code, text in GUARD_RESPONSES.items():
                            operation["responses"].setdefault(code, {"description": text})
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi
SPARQL_POST_OPENAPI = {
    **SPARQL_OPENAPI,
    "requestBody": {
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "properties": {
                    "query": {"type": "string"},
                    "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                    "named-graph-uri": {"type": "array", "items": {"type": "string"}},
                }, "required": ["query"]}},
            "application/sparql-query": {"schema": {"type": "string"}},
        }
    },
}


_LOGGED_GRAPHS = 50  # graph sizes written to the log at start-up


def create_app(config: ServerConfig | None = None, *, loaded: LoadedData | None = None,
               prestart: bool = False) -> FastAPI:
    """The endpoint app: data loaded now, query workers started with the app's lifespan (``prestart``:
    their processes start now, while the app is built; the ``serve`` command's restart, issue 10)."""
    config = config or ServerConfig()
    started = time.perf_counter()
    served = open_for_serving(config, loaded)  # in memory, or on disk and shared by the workers (explore_kg.store)
    loaded, store, sizes = served.loaded, served.store, served.sizes
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

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        await engine.start()
        # Everything built so far (the loaded quads, rdflib graphs of the optional routers, the app)
        # lives as long as the server: move it out of the collector's sight, so that a full collection
        # no longer walks it while every request in flight waits (it took 65-190 ms: bench/README.md).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await engine.close()
            if getattr(app.state, "writer", None) is not None:
                app.state.writer.close()

    app = EndpointApp(
        title="explore-kg SPARQL endpoint",
        version=__version__,
        description="A read-only SPARQL 1.1 endpoint over the explore-kg knowledge graph of international "
        "space exploration. Every query runs under a time limit in an isolated worker; SERVICE, updates and "
        "graphs outside the dataset are refused.",
        lifespan=lifespan,
        docs_url=None,  # /docs is the web router's, with Swagger UI served from the package (works offline)
        redoc_url=None,
    )
    app.state.config = config
    app.state.loaded = loaded
    app.state.engine = engine
    app.state.store = store
    app.state.graph_sizes = sizes
    app.state.router_errors = {}
    if config.writable:
        from .commit import Writer

        app.state.writer = Writer(served, tokens=config.tokens, curated=not config.paths,
                                  shapes=Path(config.shapes) if config.shapes else None, allow_remote=config.allow_remote)

    async def sparql_docs() -> Response:  # pragma: no cover - SparqlEndpoint answers /sparql first
        raise RuntimeError("/sparql is answered by SparqlEndpoint")

    summary = "SPARQL 1.1 Protocol query operation"
    app.add_api_route("/sparql", sparql_docs, methods=["GET"], summary=summary, openapi_extra=SPARQL_OPENAPI,
                      response_class=Response, tags=["sparql"], operation_id="sparql_get")
    app.add_api_route("/sparql", sparql_docs, methods=["POST"], summary=summary,
                      openapi_extra=SPARQL_POST_OPENAPI, response_class=Response, tags=["sparql"],
                      operation_id="sparql_post")

    @app.get("/health", tags=["meta"], summary="Liveness and what is loaded",
             responses={503: {"description": "Degraded: no query worker is alive now"}})
    async def health() -> JSONResponse:
        # 503 "degraded" while no query worker is alive (after crashes, until a replacement starts)
        available = engine.available
        return JSONResponse(status_code=200 if available else 503, content={
            "status": "ok" if available else "degraded",
            "start_failure": engine.start_failure,
            "version": __version__,
            "triples": len(loaded.quads),
            "graphs": len(sizes) - 1,
            "entailed_triples": loaded.entailed,
            "data_version": engine.data_version,
            "workers": len(engine.worker_pids()),
            "workers_ready": engine.ready_workers(),
            "spares": len(engine.spare_pids()),
            "spares_ready": engine.spares_ready(),
            "timeout_s": config.timeout,
            "stats": engine.stats,
            "cache": {"bytes": engine.cache.size, "entries": len(engine.cache), "max_bytes": engine.cache.max_bytes},
            "streaming_bytes": engine.spooled_bytes,
            "refused_429": share.refused,
            "router_errors": app.state.router_errors,
        })

    include_optional_routers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["ETag", "Content-Type", "Content-Length", "Server-Timing", "Cache-Control"],
        max_age=3600,
    )
    app.add_middleware(AccessLogMiddleware)
    app.sparql = SparqlEndpoint(engine=engine, config=config, sizes=sizes, share=share)
    app.public = parse_base_url(config.base_url) if config.base_url else None
    document_guard_responses(app)
    app.state.share = share
    return app


def include_optional_routers(app: FastAPI) -> None:
    """Include ``build_router(app)`` of each optional module that exists; a broken one is logged, not fatal."""
    for name in OPTIONAL_ROUTERS:
        module_name = f"{__package__}.{name}"
        try:
            if importlib.util.find_spec(module_name) is None:
                continue
            module = importlib.import_module(module_name)
            build = getattr(module, "build_router", None)
            if build is None:
                continue
            app.include_router(build(app))
        except Exception as e:  # noqa: BLE001 - one broken part must not take the endpoint down
            log.exception("optional router %s could not be included", module_name)
            app.state.router_errors[name] = f"{type(e).__name__}: {e}"


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
        config.host, config.port, config.timeout, app.state.engine.workers_wanted,
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
