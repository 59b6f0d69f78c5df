"""The SPARQL 1.1 Protocol's query operation at ``/sparql``: reading the request, and answering it.

:class:`ProtocolRequest` turns a GET or POST into the query text and its dataset (``default-graph-uri``,
``named-graph-uri``) with the protocol's errors (an update, two queries, a wrong media type: 400/415);
:class:`SparqlEndpoint` is the raw ASGI app that checks, runs (through the engine's workers), negotiates,
caches (ETag / 304) and streams the answer; :func:`service_description` is what a GET without a query
answers. The app around it (hardening, routes, start-up) is :mod:`explore_kg.server`.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import logging
import os
import time
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote

import pyoxigraph as ox

from .access_log import log_access
from .engine import (
    QueryEngine,
    QueryError,
    QueryRefused,
    QueryResult,
    QueryTooLarge,
    format_to_accept,
    negotiate,
)
from .limits import ClientShare

if TYPE_CHECKING:
    from .server import ServerConfig

log = logging.getLogger("explore_kg.server")
access_log = logging.getLogger("explore_kg.access")


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
    A 900-byte query: ~5 us instead of ~22 us, on the event loop, for every request. Escapes that are
    not UTF-8 are a ProtocolError (400), as for a POST body: a query is never silently altered.
    """
    raw = raw.replace(b"+", b" ")
    if b"%" not in raw:
        return raw.decode("ascii")
    try:
        latin = codecs.decode(raw.replace(b"\\", b"\\\\").replace(b"%", b"\\x"), "unicode_escape")
    except UnicodeDecodeError:
        latin = unquote(raw.decode("ascii"), encoding="latin-1")
    try:
        return latin.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProtocolError(f"a percent-escaped URL parameter is not valid UTF-8 (byte {e.start})") from None


def _parse_qsl(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as e:
        raise ProtocolError(f"a percent-escaped parameter is not valid UTF-8 (byte {e.start})") from None


def parse_query_string(query_string: bytes) -> dict[str, list[str]]:
    """The parameters of a URL query string, as ``parse_qsl(..., keep_blank_values=True)`` reads it."""
    params: dict[str, list[str]] = {}
    if not query_string:
        return params
    if not query_string.isascii():  # raw non-ASCII bytes (a lax client): the general path
        for key, value in _parse_qsl(_decode(query_string, "the URL's query string")):
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
                for key, value in _parse_qsl(form):
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

def may_want_html(scope) -> bool:
    """Whether a /sparql request may be a browser's, which gets the web router's editor page with the
    results: the cheap first test of :meth:`explore_kg.web_gallery.SparqlResultsPage.wanted`, decided
    without parsing anything (the endpoint asks it before the web router may even be built)."""
    if scope["method"] not in ("GET", "HEAD"):
        return False
    accept = next((value for name, value in scope["headers"] if name == b"accept"), b"")
    return b"text/html" in accept or b"=html" in scope.get("query_string", b"").lower()


SPARQL_PATHS = ("/sparql", "/sparql/")  # with a trailing slash too, as the W3C protocol tests write it
_COMMON_HEADERS = [  # on every answer of /sparql, errors included
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers",
     b"ETag, Content-Type, Content-Length, Server-Timing, Cache-Control, Retry-After"),
    (b"x-content-type-options", b"nosniff"),
    (b"vary", b"Accept"),
]
SEND_CHUNK = 256 * 1024  # an answer larger than this is sent in pieces, one when the client took the last
_NO_SLOT = object()


async def _send_file(fd: int, size: int, receive, send) -> None:
    """Send ``size`` bytes of the open file ``fd`` at the client's pace; stop if the client goes away."""
    gone = asyncio.Event()

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    watcher = asyncio.ensure_future(watch())
    try:
        at = 0
        while at < size and not gone.is_set():
            chunk = os.pread(fd, min(SEND_CHUNK, size - at), at)
            if not chunk:
                raise OSError(f"the result file ended at byte {at} of {size}")
            at += len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": at < size})
    finally:
        watcher.cancel()


class SparqlEndpoint:
    """The plain ASGI handler of /sparql, called by :class:`EndpointApp` before any framework layer.

    A plain ASGI handler keeps the per-request work of the single event-loop process small (no
    framework request/response objects, no dependency resolution, no middleware wrapping ``send``):
    the benchmark's throughput depends on it. Every other path goes to the FastAPI app (docs, health,
    optional routers). FastAPI's OpenAPI still documents /sparql (routes declared for the docs).
    """

    def __init__(self, *, engine: QueryEngine, config: ServerConfig, sizes: dict[str, int],
                 share: ClientShare | None = None):
        self.engine = engine
        self.config = config
        self.sizes = sizes
        self.share = share or ClientShare(2 * engine.workers_wanted, config.client_queue, config.timeout)
        self.cache_control = f"public, max-age={config.cache_max_age}".encode()

    async def __call__(self, scope, receive, send):
        started = time.perf_counter()
        status, headers, body, extra = await self.answer(scope, receive)
        result: QueryResult | None = extra.pop("result", None)
        client = extra.pop("slot", _NO_SLOT)
        try:
            length = result.length if result is not None else len(body)
            headers = [*headers, *_COMMON_HEADERS, (b"content-length", str(length).encode())]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            if scope["method"] == "HEAD" or length <= SEND_CHUNK:
                await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
            elif result is not None and result.file is not None:
                await _send_file(result.file.fileno(), length, receive, send)
            else:  # in pieces, each sent when the client has taken the last: its socket buffer stays small
                view = memoryview(body)
                for at in range(0, length, SEND_CHUNK):
                    await send({"type": "http.response.body", "body": bytes(view[at:at + SEND_CHUNK]),
                                "more_body": at + SEND_CHUNK < length})
        finally:
            if result is not None:
                result.close()
            if client is not _NO_SLOT:
                self.share.leave(client)
        log_access(scope, status, length, started, **extra)

    async def answer(self, scope, receive) -> tuple[int, list, bytes, dict]:
        """Status, headers, body and log fields; ``extra["result"]`` and ``extra["slot"]`` when a query
        ran (the caller sends the result, closes it and gives the client's slot back)."""
        method = scope["method"]
        if method == "OPTIONS":  # CORS preflight
            asked = dict(scope["headers"]).get(b"access-control-request-headers", b"content-type, accept")
            return 200, [(b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                         (b"access-control-allow-headers", asked), (b"access-control-max-age", b"3600"),
                         (b"allow", b"GET, POST, HEAD, OPTIONS")], b"", {}
        if method not in ("GET", "HEAD", "POST"):
            return 405, [(b"allow", b"GET, POST, HEAD, OPTIONS"), (b"content-type", b"text/plain; charset=utf-8")], \
                f"method {method} is not allowed: query with GET or POST\n".encode(), {}
        engine = self.engine
        try:
            request = ProtocolRequest(scope, receive)
            query, params = await request.query_and_params(self.config.max_query_bytes)
            accept = request.accept()
            if query is None:
                if method == "POST":
                    raise ProtocolError(
                        "missing 'query': POST a form with a 'query' field or an application/sparql-query body"
                    )
                body, content_type = self.description(request.endpoint, accept)
                return 200, [(b"content-type", content_type.encode()), (b"cache-control", self.cache_control)], \
                    body, {}
            endpoint = request.endpoint
            default_graphs = params.get("default-graph-uri", ())
            named_graphs = params.get("named-graph-uri", ())
            etag = _etag(engine.data_version, query, accept, default_graphs, named_graphs, endpoint)
            headers = [(b"etag", etag.encode()), (b"cache-control", self.cache_control)]
            client = scope.get("client")
            client = client[0] if client else None
            await self.share.enter(client)
            try:
                result = await engine.query(query, media_type=accept, default_graph_uris=default_graphs,
                                            named_graph_uris=named_graphs, base_iri=endpoint, spool=True,
                                            client=client)
            except BaseException:
                self.share.leave(client)
                raise
        except QueryError as err:
            headers = [(b"content-type", b"text/plain; charset=utf-8")]
            retry_after = getattr(err, "retry_after", None)
            if retry_after is not None:
                headers.append((b"retry-after", str(retry_after).encode()))
            return err.status, headers, (err.message + "\n").encode("utf-8"), {"error": err.message[:200]}
        # Only now: a 304 says "the answer you hold is still right", so there must be an answer
        # (If-None-Match: * with a malformed query is the query's error, never a 304).
        extra = {"query_ms": round(result.elapsed_ms, 2), "cached": result.cached, "worker": result.worker_pid,
                 "slot": client}
        if _matches(request.headers.get("if-none-match"), etag):
            result.close()
            return 304, headers, b"", extra
        headers.append((b"content-type", result.media_type.encode()))
        headers.append((b"server-timing", f"query;dur={result.elapsed_ms:.2f}".encode()))
        extra["result"] = result
        return 200, headers, result.body, extra

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
