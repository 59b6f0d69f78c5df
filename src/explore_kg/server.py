"""The SPARQL 1.1 Protocol endpoint (query operation only) and the app other modules plug into.

``create_app(config)`` loads the data once, starts a :class:`~explore_kg.engine.QueryEngine` (time
limited worker processes) and serves:

* ``/sparql``: GET ``?query=``, POST form-encoded, POST ``application/sparql-query``; without a query,
  GET answers with the SPARQL 1.1 Service Description. Content negotiation by Accept or ``format=``.
  ETag / If-None-Match (304), Cache-Control, CORS.
* ``/health``: liveness and what is loaded.
* FastAPI's ``/openapi.json`` (``/docs``, its Swagger UI, is served from the package by :mod:`explore_kg.web`).
* The routers of optional modules (``queries_http``, ``web``, ``dumps``): each that exists exposes
  ``build_router(app) -> APIRouter`` and is included, so the endpoint does not depend on them.

Read-only and safe by default: see :mod:`explore_kg.safety` for what is refused and why.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import gc
import hashlib
import importlib
import importlib.util
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, unquote

import pyoxigraph as ox
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from starlette.middleware.cors import CORSMiddleware

from . import __version__
from .engine import (
    DEFAULT_CACHE_BYTES,
    DEFAULT_MAX_RESULT_BYTES,
    DEFAULT_TIMEOUT,
    DEFAULT_WORKER_MEMORY_MB,
    GRAPH_FORMATS,
    RESULT_FORMATS,
    NotAcceptable,
    QueryEngine,
    QueryError,
    QueryRefused,
    QueryTooLarge,
    format_to_accept,
    negotiate,
)
from .loading import LoadedData, load, to_oxigraph
from .namespaces import INFERRED_GRAPH
from .safety import DEFAULT_MAX_QUERY_BYTES

log = logging.getLogger("explore_kg.server")
access_log = logging.getLogger("explore_kg.access")

OPTIONAL_ROUTERS = ("queries_http", "web", "dumps")


@dataclass
class ServerConfig:
    """How to serve: which files, where to listen, and the limits every query runs under."""

    paths: Sequence[Path | str] = ()  # empty: the shipped graph
    host: str = "127.0.0.1"
    port: int = 8000
    timeout: float = DEFAULT_TIMEOUT
    workers: int | None = None  # query worker processes; None: engine.default_workers() (1.5 per CPU, 2-8)
    inferred: bool = False  # add OWL RL inferences as graph .../graph/inferred
    entailed: bool = True  # sub-class/-property, inverse, equivalence entailments in graph .../graph/entailed
    max_query_bytes: int = DEFAULT_MAX_QUERY_BYTES
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
    allow_remote: bool = False
    cache_bytes: int = DEFAULT_CACHE_BYTES
    cache_max_age: int = 60
    worker_memory_mb: int = DEFAULT_WORKER_MEMORY_MB  # address space per query worker (0: unlimited)
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


class ProtocolError(QueryError):
    """A request that breaks the SPARQL 1.1 Protocol (before any query is looked at)."""

    status = 400


def _etag(*parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f'W/"{digest}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))


def _decode(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProtocolError(f"{what} is not valid UTF-8 (byte {e.start})") from None


def _unquote_plus(raw: bytes) -> str:
    """``urllib.parse.unquote_plus`` of an ASCII parameter, with the percent-decoding done in C.

    Every ``%XX`` becomes ``\\xXX`` for the ``unicode_escape`` codec (backslashes doubled first, so
    nothing else is an escape); its one-character-per-byte result, re-read as UTF-8, is what
    ``unquote_plus`` gives. A malformed escape makes the codec fail: ``unquote_plus`` then decides.
    A 900-byte query: ~5 us instead of ~22 us, on the event loop, for every request.
    """
    raw = raw.replace(b"+", b" ")
    if b"%" not in raw:
        return raw.decode("ascii")
    try:
        latin = codecs.decode(raw.replace(b"\\", b"\\\\").replace(b"%", b"\\x"), "unicode_escape")
    except UnicodeDecodeError:
        return unquote(raw.decode("ascii"))
    return latin.encode("latin-1").decode("utf-8", "replace")


def parse_query_string(query_string: bytes) -> dict[str, list[str]]:
    """The parameters of a URL query string, as ``parse_qsl(..., keep_blank_values=True)`` reads it."""
    params: dict[str, list[str]] = {}
    if not query_string:
        return params
    if not query_string.isascii():  # raw non-ASCII bytes (a lax client): the general path
        for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
            params.setdefault(key, []).append(value)
        return params
    for pair in query_string.split(b"&"):
        if pair:
            key, _, value = pair.partition(b"=")
            params.setdefault(_unquote_plus(key), []).append(_unquote_plus(value))
    return params


BODY_SECONDS = 10
_UPDATE_REFUSED = "SPARQL Update is not accepted: this endpoint is read-only and answers queries only"


class ProtocolRequest:
    """One HTTP request to /sparql, read straight from the ASGI scope (no framework objects: speed)."""

    __slots__ = ("scope", "receive", "method", "headers", "params")

    def __init__(self, scope, receive):
        self.scope, self.receive = scope, receive
        self.method = scope["method"]
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            key = name.decode("latin-1")
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        self.headers = headers
        self.params = parse_query_string(scope.get("query_string", b""))

    @property
    def endpoint(self) -> str:
        """The URL of the endpoint as the client addressed it (for the service description and BASE)."""
        scope = self.scope
        host = self.headers.get("host")
        if not host:
            server = scope.get("server") or ("127.0.0.1", 80)
            host = f"{server[0]}:{server[1]}"
        return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}{scope['path']}"

    async def body(self, limit: int) -> bytes:
        """The request body, refusing (413) past ``limit`` bytes without reading the rest."""
        length = self.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise QueryTooLarge(f"request body is {length} bytes; this endpoint accepts at most {limit} bytes")
        chunks, size = [], 0
        try:
            async with asyncio.timeout(BODY_SECONDS):  # a client trickling its body holds nothing for long
                while True:
                    message = await self.receive()
                    if message["type"] == "http.disconnect":
                        raise ProtocolError("the client went away")
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        raise QueryTooLarge(
                            f"request body is larger than {limit} bytes, the most this endpoint accepts"
                        )
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            err = ProtocolError(f"the request body did not arrive within {BODY_SECONDS} s")
            err.status = 408
            raise err from None

    async def query_and_params(self, max_query_bytes: int) -> tuple[str | None, dict[str, list[str]]]:
        """The query text and the other parameters, by the SPARQL 1.1 Protocol's rules (2.1.1-2.1.3)."""
        params = self.params
        query: list[str] = params.pop("query", [])
        if self.method == "POST":
            ctype, _, ctype_params = self.headers.get("content-type", "").partition(";")
            ctype = ctype.strip().lower()
            for param in ctype_params.split(";"):
                name, _, value = param.partition("=")
                charset = value.strip().strip('"').lower()
                if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8", "us-ascii"):
                    raise ProtocolError(f"unsupported charset {charset!r}: send the query as UTF-8")
            if ctype == "application/x-www-form-urlencoded":
                form = _decode(await self.body(3 * max_query_bytes + 4096), "the form body")
                for key, value in parse_qsl(form, keep_blank_values=True):
                    if key == "query":
                        query.append(value)
                    else:
                        params.setdefault(key, []).append(value)
            elif ctype == "application/sparql-query":
                query.append(_decode(await self.body(max_query_bytes), "the query"))
            elif ctype == "application/sparql-update":
                raise QueryRefused(_UPDATE_REFUSED)
            elif not ctype:
                raise ProtocolError(
                    "a POST needs a Content-Type: application/x-www-form-urlencoded or application/sparql-query"
                )
            else:
                raise ProtocolError(
                    f"unsupported Content-Type {ctype!r} for a SPARQL query: "
                    "use application/x-www-form-urlencoded or application/sparql-query"
                )
        if params.get("update"):
            raise QueryRefused(_UPDATE_REFUSED)
        if len(query) > 1:
            raise ProtocolError(f"the request carries {len(query)} queries; send exactly one 'query' parameter")
        return (query[0] if query else None), params

    def accept(self) -> str | None:
        for name in ("format", "output", "_format"):
            if self.params.get(name):
                return format_to_accept(self.params[name][-1])
        return self.headers.get("accept")


# --- service description -------------------------------------------------------------------------

_SD = "http://www.w3.org/ns/sparql-service-description#"
_FORMATS_NS = "http://www.w3.org/ns/formats/"
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_VOID_TRIPLES = ox.NamedNode("http://rdfs.org/ns/void#triples")
_RESULT_FORMAT_IRIS = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                       "Turtle", "N-Triples", "JSON-LD", "RDF_XML", "TriG", "N-Quads"]


def service_description(endpoint: str, sizes: dict[str, int], allow_remote: bool) -> list[ox.Triple]:
    """The SPARQL 1.1 Service Description of this endpoint, as triples."""

    def sd(name: str) -> ox.NamedNode:
        return ox.NamedNode(_SD + name)

    def integer(n: int) -> ox.Literal:
        return ox.Literal(str(n), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))

    service = ox.NamedNode(endpoint)
    dataset, default = ox.BlankNode("dataset"), ox.BlankNode("defaultGraph")
    triples = [
        ox.Triple(service, _RDF_TYPE, sd("Service")),
        ox.Triple(service, sd("endpoint"), service),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        ox.Triple(service, sd("defaultDataset"), dataset),
        ox.Triple(dataset, _RDF_TYPE, sd("Dataset")),
        ox.Triple(dataset, sd("defaultGraph"), default),
        ox.Triple(default, _RDF_TYPE, sd("Graph")),
        ox.Triple(default, _VOID_TRIPLES, integer(sizes[""])),  # the merge: see graph_sizes
    ]
    if allow_remote:
        triples.append(ox.Triple(service, sd("feature"), sd("BasicFederatedQuery")))
    for name in _RESULT_FORMAT_IRIS:
        triples.append(ox.Triple(service, sd("resultFormat"), ox.NamedNode(_FORMATS_NS + name)))
    for i, (graph_iri, count) in enumerate(sorted(sizes.items())):
        if not graph_iri:
            continue
        named, graph = ox.BlankNode(f"namedGraph{i}"), ox.BlankNode(f"graph{i}")
        triples += [
            ox.Triple(dataset, sd("namedGraph"), named),
            ox.Triple(named, _RDF_TYPE, sd("NamedGraph")),
            ox.Triple(named, sd("name"), ox.NamedNode(graph_iri)),
            ox.Triple(named, sd("graph"), graph),
            ox.Triple(graph, _RDF_TYPE, sd("Graph")),
            ox.Triple(graph, _VOID_TRIPLES, integer(count)),
        ]
    return triples


# --- access log ---------------------------------------------------------------------------------

def log_access(scope, status: int, nbytes: int, started: float, **extra) -> None:
    """One JSON line per request: method, path, status, bytes, total ms (and query ms, cache, error)."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    record = {
        "ts": round(time.time(), 3),
        "client": client[0] if client else None,
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "bytes": nbytes,
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }
    record.update((k, v) for k, v in extra.items() if v is not None)
    access_log.info(json.dumps(record, ensure_ascii=False))


class AccessLogMiddleware:
    """The access log of every route other than /sparql (which logs its own, with the query time)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        info = {"status": 500, "bytes": 0}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                info["status"] = message["status"]
            elif message["type"] == "http.response.body":
                info["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            log_access(scope, info["status"], info["bytes"], started)


# --- the /sparql endpoint -----------------------------------------------------------------------

SPARQL_PATHS = ("/sparql", "/sparql/")  # with a trailing slash too, as the W3C protocol tests write it
_CORS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", b"ETag, Content-Type, Content-Length, Server-Timing, Cache-Control"),
]


class SparqlEndpoint:
    """The plain ASGI handler of /sparql, called by :class:`EndpointApp` before any framework layer.

    A plain ASGI handler keeps the per-request work of the single event-loop process small (no
    framework request/response objects, no dependency resolution, no middleware wrapping ``send``):
    the benchmark's throughput depends on it. Every other path goes to the FastAPI app (docs, health,
    optional routers). FastAPI's OpenAPI still documents /sparql (routes declared for the docs).
    """

    def __init__(self, *, engine: QueryEngine, config: ServerConfig, sizes: dict[str, int]):
        self.engine = engine
        self.config = config
        self.sizes = sizes
        self.cache_control = f"public, max-age={config.cache_max_age}".encode()

    async def __call__(self, scope, receive, send):
        started = time.perf_counter()
        status, headers, body, extra = await self.answer(scope, receive)
        headers = [*headers, *_CORS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
        log_access(scope, status, len(body), started, **extra)

    async def answer(self, scope, receive) -> tuple[int, list, bytes, dict]:
        method = scope["method"]
        if method == "OPTIONS":  # CORS preflight
            asked = dict(scope["headers"]).get(b"access-control-request-headers", b"content-type, accept")
            return 200, [(b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                         (b"access-control-allow-headers", asked), (b"access-control-max-age", b"3600"),
                         (b"allow", b"GET, POST, HEAD, OPTIONS")], b"", {}
        if method not in ("GET", "HEAD", "POST"):
            return 405, [(b"allow", b"GET, POST, HEAD, OPTIONS"), (b"content-type", b"text/plain; charset=utf-8")], \
                f"method {method} is not allowed: query with GET or POST\n".encode(), {}
        request = ProtocolRequest(scope, receive)
        engine = self.engine
        try:
            query, params = await request.query_and_params(self.config.max_query_bytes)
            accept = request.accept()
            if query is None:
                if method == "POST":
                    raise ProtocolError(
                        "missing 'query': POST a form with a 'query' field or an application/sparql-query body"
                    )
                body, content_type = self.description(request.endpoint, accept)
                return 200, [(b"content-type", content_type.encode()), (b"cache-control", self.cache_control),
                             (b"vary", b"Accept")], body, {}
            endpoint = request.endpoint
            default_graphs = params.get("default-graph-uri", ())
            named_graphs = params.get("named-graph-uri", ())
            etag = _etag(engine.data_version, query, accept, default_graphs, named_graphs, endpoint)
            headers = [(b"etag", etag.encode()), (b"cache-control", self.cache_control), (b"vary", b"Accept")]
            if _matches(request.headers.get("if-none-match"), etag):
                return 304, headers, b"", {}
            result = await engine.query(query, media_type=accept, default_graph_uris=default_graphs,
                                        named_graph_uris=named_graphs, base_iri=endpoint)
        except QueryError as err:
            return err.status, [(b"content-type", b"text/plain; charset=utf-8")], \
                (err.message + "\n").encode("utf-8"), {"error": err.message[:200]}
        headers.append((b"content-type", result.media_type.encode()))
        headers.append((b"server-timing", f"query;dur={result.elapsed_ms:.2f}".encode()))
        return 200, headers, result.body, {"query_ms": round(result.elapsed_ms, 2), "cached": result.cached}

    @lru_cache(maxsize=64)  # noqa: B019 - one endpoint object per app, kept for the app's life
    def description(self, endpoint: str, accept: str | None) -> tuple[bytes, str]:
        """The service description, serialized in the negotiated RDF format."""
        fmt, content_type = negotiate(accept, "graph")
        body = ox.serialize(
            service_description(endpoint, self.sizes, self.config.allow_remote),
            format=fmt,
            prefixes={"sd": _SD, "void": "http://rdfs.org/ns/void#", "formats": _FORMATS_NS},
        )
        return body, content_type


# --- the app ------------------------------------------------------------------------------------

class EndpointApp(FastAPI):
    """FastAPI, except that /sparql goes straight to :class:`SparqlEndpoint`.

    FastAPI's own entry (telemetry hooks), Starlette's error middleware (which wraps ``send``), CORS
    and the access-log middleware cost the event-loop process about a tenth of its time per query;
    the endpoint does its own CORS headers and access log.
    """

    sparql: SparqlEndpoint | None = None
    sparql_html = None  # set by the web router: a browser's GET /sparql?query= gets the editor with the results

    async def __call__(self, scope, receive, send) -> None:
        if self.sparql is not None and scope["type"] == "http" and scope["path"] in SPARQL_PATHS:
            if self.sparql_html is not None and self.sparql_html.wanted(scope):
                return await self.sparql_html(dict(scope, app=self), receive, send)
            return await self.sparql(scope, receive, send)
        return await super().__call__(scope, receive, send)


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
        "503": {"description": "The query exceeded the time limit (no partial results are sent)"},
    },
}
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


def create_app(config: ServerConfig | None = None, *, loaded: LoadedData | None = None) -> FastAPI:
    """The endpoint app: data loaded now, query workers started with the app's lifespan."""
    config = config or ServerConfig()
    started = time.perf_counter()
    loaded = loaded if loaded is not None else load_for_serving(config)
    store = loaded.to_store(entailed=config.entailed)
    sizes = graph_sizes(store)
    log.info(
        "loaded %d triples in %d graphs from %d files in %.0f ms",
        len(loaded.quads), len(sizes) - 1, len(loaded.files), (time.perf_counter() - started) * 1000,
    )
    for graph_iri, count in sorted(sizes.items()):
        log.info("  %7d triples  %s", count, graph_iri or "(default graph: the merge of all graphs)")
    engine = QueryEngine(
        store,
        workers=config.workers,
        timeout=config.timeout,
        max_query_bytes=config.max_query_bytes,
        max_result_bytes=config.max_result_bytes,
        allow_remote=config.allow_remote,
        cache_bytes=config.cache_bytes,
        worker_memory_mb=config.worker_memory_mb,
    )

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

    async def sparql_docs() -> Response:  # pragma: no cover - SparqlEndpoint answers /sparql first
        raise RuntimeError("/sparql is answered by SparqlEndpoint")

    summary = "SPARQL 1.1 Protocol query operation"
    app.add_api_route("/sparql", sparql_docs, methods=["GET"], summary=summary, openapi_extra=SPARQL_OPENAPI,
                      response_class=Response, tags=["sparql"], operation_id="sparql_get")
    app.add_api_route("/sparql", sparql_docs, methods=["POST"], summary=summary,
                      openapi_extra=SPARQL_POST_OPENAPI, response_class=Response, tags=["sparql"],
                      operation_id="sparql_post")

    @app.get("/health", tags=["meta"], summary="Liveness and what is loaded")
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
            "timeout_s": config.timeout,
            "stats": engine.stats,
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
    app.sparql = SparqlEndpoint(engine=engine, config=config, sizes=sizes)
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
        app = create_app(config)
    except LoadError as e:
        hint = ""
        if "LoadDocumentCallback" in e.message:  # pyoxigraph's words for a remote JSON-LD @context
            hint = (" (the file's JSON-LD @context is a URL: explore-kg never fetches what a file names; "
                    "put the context inline)")
        log.error("cannot serve: %s%s", e, hint)
        return 2
    log.info(
        "serving SPARQL at http://%s:%d/sparql (timeout %g s, %s query workers, %s)",
        config.host, config.port, config.timeout, app.state.engine.workers_wanted,
        "remote access ALLOWED" if config.allow_remote else "no remote access",
    )
    # uvicorn picks uvloop and httptools when installed; past limit_concurrency connections it answers 503.
    uvicorn.run(app, host=config.host, port=config.port, access_log=False, log_level=log_level.lower(),
                server_header=False, limit_concurrency=1024, timeout_keep_alive=5)
    return 0
