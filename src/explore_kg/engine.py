"""Running SPARQL queries: in-process for the CLI and Python API, in isolated worker processes for the server.

Why worker processes: pyoxigraph 0.5 offers no way to cancel a running query. Oxigraph's Rust API
and its own server gained a cancellation token (oxigraph PR #1409; it is checked on RocksDB reads,
so not by an in-memory store), but the Python API does not expose it (oxigraph issue #1926, open),
and ``Store.query`` takes no timeout. A query deep enough can also overflow the native stack and
kill the whole process. So the server's :class:`QueryEngine` keeps a pool of query worker processes,
each holding the store loaded once. The parent sends query text, the worker sends back the result
already serialized by pyoxigraph (only bytes cross the pipe). A worker that passes the deadline is
killed and replaced, and the client gets 503, never a partial answer; the other workers keep serving.

Both paths share the same checks (:mod:`explore_kg.safety`), the same content negotiation and the
same dataset rules: the default graph is the union of the named graphs unless the query (FROM) or
the protocol (``default-graph-uri``) says otherwise.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import gc
import hashlib
import logging
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import pyoxigraph as ox

from .safety import (
    DEFAULT_MAX_QUERY_BYTES,
    NotAcceptable,
    QueryError,
    QueryFailed,
    QueryRefused,
    QuerySyntaxError,
    QueryTimeout,
    QueryTooLarge,
    check_query,
    where_group_start,
)

__all__ = [
    "QueryResult",
    "QueryError",
    "QuerySyntaxError",
    "QueryRefused",
    "QueryTimeout",
    "QueryTooLarge",
    "NotAcceptable",
    "QueryFailed",
    "run_query",
    "QueryEngine",
    "negotiate",
    "RESULT_FORMATS",
    "GRAPH_FORMATS",
    "FORMAT_ALIASES",
]

log = logging.getLogger("explore_kg.engine")

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_RESULT_BYTES = 256 * 1024 * 1024
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024
# Address space of a worker (virtual: ~0.6 GB of it is the reserved query stack) beyond which a query fails.
DEFAULT_WORKER_MEMORY_MB = 4096
# Queries run on a thread with a big stack: a 64 KB query cannot nest deep enough to overflow it
# (an 8 MB stack overflows at ~3,000 nested groups or a ~20,000-term expression).
WORKER_STACK_BYTES = 512 * 1024 * 1024
MAX_DEFAULT_WORKERS = 8
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_workers() -> int:
    """One and a half query workers per CPU, 2 to 8.

    A worker sits idle while the event loop moves its answer out and the next query in (about a third
    of its own time per query), so one per core left the cores partly idle under load; two per core
    made them compete for the cores and caches. Measured on 2 CPUs (bench/README.md): 3 workers beat
    both 2 and 4.
    """
    cpus = os.cpu_count() or 1
    return max(2, min(cpus + max(1, cpus // 2), MAX_DEFAULT_WORKERS))


@dataclass
class QueryResult:
    """A serialized answer: ``kind`` is "bindings" (SELECT), "boolean" (ASK) or "graph" (CONSTRUCT/DESCRIBE)."""

    body: bytes
    media_type: str  # the Content-Type to send, charset included where the format has one
    kind: str
    elapsed_ms: float
    cached: bool = False


# --- content negotiation ------------------------------------------------------------------------

# media type -> (pyoxigraph format, Content-Type header); the first entry of each table is the default.
RESULT_FORMATS: dict[str, tuple[ox.QueryResultsFormat, str]] = {
    "application/sparql-results+json": (ox.QueryResultsFormat.JSON, "application/sparql-results+json"),
    "application/sparql-results+xml": (ox.QueryResultsFormat.XML, "application/sparql-results+xml; charset=utf-8"),
    "text/csv": (ox.QueryResultsFormat.CSV, "text/csv; charset=utf-8"),
    "text/tab-separated-values": (ox.QueryResultsFormat.TSV, "text/tab-separated-values; charset=utf-8"),
    # common synonyms clients send
    "application/json": (ox.QueryResultsFormat.JSON, "application/sparql-results+json"),
    "application/xml": (ox.QueryResultsFormat.XML, "application/sparql-results+xml; charset=utf-8"),
    "text/xml": (ox.QueryResultsFormat.XML, "application/sparql-results+xml; charset=utf-8"),
}
GRAPH_FORMATS: dict[str, tuple[ox.RdfFormat, str]] = {
    "text/turtle": (ox.RdfFormat.TURTLE, "text/turtle; charset=utf-8"),
    "application/n-triples": (ox.RdfFormat.N_TRIPLES, "application/n-triples"),
    "application/ld+json": (ox.RdfFormat.JSON_LD, "application/ld+json"),
    "application/rdf+xml": (ox.RdfFormat.RDF_XML, "application/rdf+xml; charset=utf-8"),
    "application/trig": (ox.RdfFormat.TRIG, "application/trig; charset=utf-8"),
    "application/n-quads": (ox.RdfFormat.N_QUADS, "application/n-quads"),
    # synonyms
    "application/x-turtle": (ox.RdfFormat.TURTLE, "text/turtle; charset=utf-8"),
    "text/plain": (ox.RdfFormat.N_TRIPLES, "application/n-triples"),
    "application/json": (ox.RdfFormat.JSON_LD, "application/ld+json"),
    "application/xml": (ox.RdfFormat.RDF_XML, "application/rdf+xml; charset=utf-8"),
    "text/xml": (ox.RdfFormat.RDF_XML, "application/rdf+xml; charset=utf-8"),
}
KIND_FORMATS = {"bindings": RESULT_FORMATS, "boolean": RESULT_FORMATS, "graph": GRAPH_FORMATS}

# Short names for the ``format`` request parameter, as an Accept value covering both kinds of result.
FORMAT_ALIASES = {
    "json": "application/sparql-results+json, application/ld+json",
    "srj": "application/sparql-results+json",
    "xml": "application/sparql-results+xml, application/rdf+xml",
    "srx": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "ntriples": "application/n-triples",
    "n-triples": "application/n-triples",
    "nt": "application/n-triples",
    "jsonld": "application/ld+json",
    "json-ld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
    "rdf": "application/rdf+xml",
    "rdf+xml": "application/rdf+xml",
    "trig": "application/trig",
    "nquads": "application/n-quads",
    "n-quads": "application/n-quads",
    "nq": "application/n-quads",
}


def format_to_accept(name: str) -> str:
    """The Accept value a ``format=`` parameter stands for (a short name or a media type)."""
    key = name.strip().lower()
    if key in FORMAT_ALIASES:
        return FORMAT_ALIASES[key]
    if "/" in key:
        return key
    raise NotAcceptable(f"unknown format {name!r}; known: {', '.join(sorted(FORMAT_ALIASES))} or a media type")


def _parse_accept(accept: str) -> list[tuple[str, float, int]]:
    ranges = []
    for order, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        if media == "*":
            media = "*/*"
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append((media, q, order))
    return ranges


@functools.lru_cache(maxsize=256)
def negotiate(accept: str | None, kind: str) -> tuple[object, str]:
    """Pick the result format for ``kind`` that the Accept value ranks highest.

    Returns ``(pyoxigraph format, Content-Type)``. q-values, ``type/*`` and ``*/*`` are honoured; the most
    specific matching range decides a format's q; ties go to the client's order, then to ours (the
    first format of the table is the default). Raises NotAcceptable when nothing matches.
    """
    table = KIND_FORMATS[kind]
    if not accept or not accept.strip():
        return next(iter(table.values()))
    ranges = _parse_accept(accept)
    best = None
    for rank, (media, entry) in enumerate(table.items()):
        main = media.split("/")[0]
        match = None
        for rng, q, order in ranges:
            specificity = 3 if rng == media else 2 if rng == main + "/*" else 1 if rng == "*/*" else 0
            if specificity and (match is None or specificity > match[0]):
                match = (specificity, q, order)
        if match is None or match[1] <= 0:
            continue
        key = (match[1], -match[2], -rank)
        if best is None or key > best[0]:
            best = (key, entry)
    if best is None:
        offered = ", ".join(m for m in table if m.startswith(("application/sparql", "text/", "application/n", "application/ld", "application/rdf", "application/trig")))
        what = {"bindings": "SELECT", "boolean": "ASK", "graph": "CONSTRUCT/DESCRIBE"}[kind]
        raise NotAcceptable(f"no format of a {what} result matches Accept: {accept}; available: {offered}")
    return best[1]


# --- evaluation (shared by the in-process path and the workers) --------------------------------

def _term_tuple(term) -> tuple:
    """A picklable, library-neutral form of an rdflib or pyoxigraph term."""
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("bnode", term.value)
    if isinstance(term, ox.Literal):
        return ("literal", term.value, term.language, term.datatype.value)
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return ("iri", str(term))
    if isinstance(term, BNode):
        return ("bnode", str(term))
    if isinstance(term, Literal):
        return ("literal", str(term), term.language, str(term.datatype) if term.datatype else None)
    if isinstance(term, str):  # a plain string binds as an xsd:string literal
        return ("literal", term, None, None)
    raise TypeError(f"cannot bind {term!r}: use an rdflib or pyoxigraph term")


def _oxigraph_term(t: tuple):
    if t[0] == "iri":
        return ox.NamedNode(t[1])
    if t[0] == "bnode":
        return ox.BlankNode(t[1])
    _, value, lang, datatype = t
    if lang:
        return ox.Literal(value, language=lang)
    return ox.Literal(value, datatype=ox.NamedNode(datatype)) if datatype else ox.Literal(value)


def _substitution_tuples(substitutions: Mapping | None) -> tuple:
    if not substitutions:
        return ()
    return tuple(sorted((str(name).lstrip("?$"), _term_tuple(term)) for name, term in substitutions.items()))


class _LimitedBuffer:
    """A write target that refuses to grow past ``limit`` bytes, so a huge result fails early."""

    def __init__(self, limit: int | None):
        self.parts: list[bytes] = []
        self.size = 0
        self.limit = limit

    def write(self, data) -> int:
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            raise _ResultTooLarge()
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


class _ResultTooLarge(Exception):
    pass


def _result_too_large(limit: int | None) -> QueryTooLarge:
    # 400, not 413: the request was fine in size, what it asks for is more than this endpoint sends.
    err = QueryTooLarge(f"the result is larger than {limit} bytes, the most this endpoint sends; "
                        "narrow the query or add LIMIT")
    err.status = 400
    return err


def _syntax_message(e: SyntaxError) -> str:
    return f"malformed query: {e.msg if getattr(e, 'msg', None) else e}"


class _Request(NamedTuple):
    """Everything a worker needs to answer one query (no rdflib terms). It crosses to the worker as a
    plain tuple: pickling a dataclass cost ~4 us per query on the event loop and in the worker."""

    sparql: str
    accept: str | None
    substitutions: tuple = ()
    default_graph_uris: tuple = ()
    named_graph_uris: tuple = ()
    allow_remote: bool = False
    max_result_bytes: int | None = None
    base_iri: str | None = None


def _evaluate(store: ox.Store, req: _Request, known_graphs: frozenset[str]) -> QueryResult:
    """Check one query (:func:`safety.check_query`), run it on ``store`` and serialize its answer.

    Raises QueryError subclasses. The check runs here, in the worker, so that the server's single
    event-loop process only moves bytes; nothing reaches the native parser before it.
    """
    started = time.perf_counter()
    check_query(
        req.sparql,
        known_graphs=known_graphs,
        allow_remote=req.allow_remote,
        max_bytes=None,
        dataset_uris=[*req.default_graph_uris, *req.named_graph_uris],
    )
    kwargs: dict = {}
    if req.default_graph_uris or req.named_graph_uris:
        # A protocol dataset replaces the query's own FROM / FROM NAMED (SPARQL 1.1 Protocol 2.1.4).
        kwargs["default_graph"] = [ox.NamedNode(u) for u in req.default_graph_uris]
        kwargs["named_graphs"] = [ox.NamedNode(u) for u in req.named_graph_uris]
    # Otherwise the store's own default graph already holds the union (merge) of the named graphs:
    # see loading.LoadedData.to_store.
    if req.substitutions:
        kwargs["substitutions"] = {ox.Variable(name): _oxigraph_term(t) for name, t in req.substitutions}
    if req.base_iri:
        kwargs["base_iri"] = req.base_iri
    try:
        try:
            answer = store.query(req.sparql, **kwargs)
        except RuntimeError as e:
            # pyoxigraph substitutes only projected variables; bind the others with VALUES inside the
            # WHERE pattern instead (terms written by pyoxigraph, never user text).
            if not (req.substitutions and "projection" in str(e)):
                raise
            answer = store.query(_with_values(req.sparql, kwargs.pop("substitutions")), **kwargs)
    except SyntaxError as e:
        raise QuerySyntaxError(_syntax_message(e)) from None
    except (ValueError, TypeError, RuntimeError) as e:
        err = QueryFailed(f"query could not be evaluated: {e}")
        err.status = 400
        raise err from None
    if isinstance(answer, ox.QuerySolutions):
        kind = "bindings"
    elif isinstance(answer, ox.QueryBoolean):
        kind = "boolean"
    else:
        kind = "graph"
    fmt, content_type = negotiate(req.accept, kind)
    out = _LimitedBuffer(req.max_result_bytes)
    try:
        answer.serialize(out, format=fmt)
    except _ResultTooLarge:
        raise _result_too_large(req.max_result_bytes) from None
    except OSError as e:
        if out.limit is not None and out.size > out.limit:
            raise _result_too_large(req.max_result_bytes) from None
        raise QueryFailed(f"query evaluation failed: {e}") from None
    except SyntaxError as e:  # some errors only surface while iterating
        raise QuerySyntaxError(_syntax_message(e)) from None
    except (ValueError, TypeError) as e:
        raise QueryFailed(f"query evaluation failed: {e}") from None
    return QueryResult(out.getvalue(), content_type, kind, (time.perf_counter() - started) * 1000)


_big_stack_pool: ThreadPoolExecutor | None = None
_big_stack_lock = threading.Lock()


def _with_values(sparql: str, substitutions: dict) -> str:
    """The query with a ``VALUES`` block binding ``substitutions`` at the start of its WHERE pattern."""
    at = where_group_start(sparql)
    if at is None or any(isinstance(t, ox.BlankNode) for t in substitutions.values()):
        raise RuntimeError("cannot bind a variable that the query does not project")
    names = " ".join(f"?{v.value}" for v in substitutions)
    values = " ".join(str(t) for t in substitutions.values())  # N-Triples syntax, escaped by pyoxigraph
    return f"{sparql[:at]} VALUES ({names}) {{ ({values}) }} {sparql[at:]}"


def _run_on_big_stack(fn, *args):
    """Call ``fn`` on a thread whose stack a deeply nested query cannot overflow.

    The threads are kept (a pool of 4): creating a thread with a 512 MB stack reservation on every
    call would cost more than a small query.
    """
    global _big_stack_pool
    with _big_stack_lock:
        if _big_stack_pool is None:
            _big_stack_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="explore-kg-query")
        previous = threading.stack_size(WORKER_STACK_BYTES)  # read when the pool creates a thread
        try:
            future = _big_stack_pool.submit(fn, *args)
        finally:
            threading.stack_size(previous)
    return future.result()


def _named_graphs(store: ox.Store) -> frozenset[str]:
    return frozenset(g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode))


def _prepare(
    sparql: str,
    *,
    accept: str | None,
    substitutions,
    default_graph_uris,
    named_graph_uris,
    allow_remote: bool,
    max_query_bytes: int | None,
    max_result_bytes: int | None,
    base_iri: str | None = None,
) -> _Request:
    """Build the request a worker (or this process) evaluates; only the size is checked here."""
    if not isinstance(sparql, str):
        raise QuerySyntaxError("the query must be text")
    if max_query_bytes is not None and len(sparql) * 4 > max_query_bytes:
        size = len(sparql.encode("utf-8", "surrogatepass"))
        if size > max_query_bytes:
            raise QueryTooLarge(f"query text is {size} bytes; this endpoint accepts at most {max_query_bytes} bytes")
    return _Request(
        sparql=sparql,
        accept=accept,
        substitutions=_substitution_tuples(substitutions),
        default_graph_uris=tuple(default_graph_uris),
        named_graph_uris=tuple(named_graph_uris),
        allow_remote=allow_remote,
        max_result_bytes=max_result_bytes,
        base_iri=base_iri,
    )


def run_query(
    store: ox.Store,
    sparql: str,
    *,
    media_type: str | None = None,
    substitutions: Mapping | None = None,
    default_graph_uris: Sequence[str] = (),
    named_graph_uris: Sequence[str] = (),
    allow_remote: bool = False,
    max_result_bytes: int | None = None,
    base_iri: str | None = None,
) -> QueryResult:
    """Run a query in this process and return its serialized answer (for the CLI and the Python API).

    ``media_type`` is a media type or an Accept value ("text/csv", "text/turtle, */*;q=0.1"); None picks
    the default (SPARQL JSON for SELECT/ASK, Turtle for CONSTRUCT/DESCRIBE). ``substitutions`` binds
    variables to rdflib or pyoxigraph terms (never spliced into the text). The same refusals as the
    server apply (update, SERVICE, FROM a graph not in the store); there is no time limit here.
    """
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
    return _run_on_big_stack(_evaluate, store, req, _named_graphs(store))


# --- the worker process -------------------------------------------------------------------------

def _die_with_parent() -> None:
    """Ask Linux to kill this worker if the server process dies (so no runaway query outlives it)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


# --- framing: every message is an 8-byte big-endian length, then a pickle (or raw bytes) ----------

_HEADER = struct.Struct("!Q")


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray(n)
    view, pos = memoryview(buf), 0
    while pos < n:
        got = sock.recv_into(view[pos:])
        if not got:
            raise EOFError
        pos += got
    return bytes(buf)


def _recv_frame(sock: socket.socket) -> bytes:
    (n,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size))
    return _recv_exact(sock, n)


def _send_frame(sock: socket.socket, payload: bytes) -> None:
    if len(payload) < 1 << 20:  # one system call (copying a small answer costs less than a second one)
        sock.sendall(_HEADER.pack(len(payload)) + payload)
    else:
        sock.sendall(_HEADER.pack(len(payload)))
        sock.sendall(payload)


class _FrameReader:
    """Frames from a blocking socket, reading what is there at once (a query's header and text
    usually arrive together: one recv instead of two)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = bytearray()

    def next(self) -> bytes:
        buffer = self.buffer
        while True:
            if len(buffer) >= _HEADER.size:
                end = _HEADER.size + _HEADER.unpack_from(buffer)[0]
                if len(buffer) >= end:
                    frame = bytes(buffer[_HEADER.size:end])
                    del buffer[:end]
                    return frame
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError
            buffer += chunk


def _worker_entry() -> None:
    """Entry point of a query worker process (``python -c ...``; argv: socket fd, memory MB).

    The first frame on the socket is the dataset as N-Quads; no file is written anywhere.
    """
    # Ctrl-C, or a SIGTERM sent to the whole process group (timeout, systemd, a container stop), is the
    # parent's to handle: it stops its workers with SIGKILL, and PR_SET_PDEATHSIG ends them with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent()
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
    thread = threading.Thread(target=_worker_loop, args=(sock,), name="explore-kg-worker")
    thread.start()
    thread.join()


def _worker_loop(sock: socket.socket) -> None:
    try:
        data = _recv_frame(sock)
    except (EOFError, OSError):
        return
    started = time.perf_counter()
    store = ox.Store()
    store.load(data, format=ox.RdfFormat.N_QUADS)
    del data
    known_graphs = _named_graphs(store)
    try:
        _send_frame(sock, pickle.dumps(("ready", os.getpid(), (time.perf_counter() - started) * 1000)))
    except OSError:
        return  # the server went away while this worker was starting
    reader = _FrameReader(sock)
    gc.freeze()  # the store's Python side and the modules: never garbage, never walked again
    while True:
        try:
            req = _Request(*pickle.loads(reader.next()))
        except (EOFError, OSError):
            return
        try:
            r = _evaluate(store, req, known_graphs)
            reply = ("ok", r.body, r.media_type, r.kind, r.elapsed_ms)
        except QueryError as e:
            reply = ("error", type(e).__name__, e.message, e.status)
        except Exception as e:  # noqa: BLE001 - any failure becomes an answer, the worker lives on
            reply = ("error", "QueryFailed", f"query evaluation failed: {e}", 500)
        try:
            _send_frame(sock, pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            return


def _expire(future: asyncio.Future) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


_ERRORS = {
    cls.__name__: cls
    for cls in (QuerySyntaxError, QueryRefused, QueryTimeout, QueryTooLarge, NotAcceptable, QueryFailed, QueryError)
}


class _Worker:
    """One query worker process and the server's end of its socket (non-blocking, read by the loop)."""

    def __init__(self, process, sock: socket.socket):
        self.process = process
        self.sock = sock
        self.inbox = bytearray()  # bytes received and not yet a whole frame
        self.pending: asyncio.Future | None = None
        self.ready: asyncio.Future | None = None
        self.dead = False
        self.load_ms = 0.0
        self.query_head = ""  # the start of the query it runs, for the log if it dies

    @property
    def pid(self) -> int | None:
        return self.process.pid


class QueryEngine:
    """The server's executor: a pool of query worker processes with a deadline on every query.

    ``await engine.start()`` before the first query and ``await engine.close()`` at the end (the
    server's lifespan does both). Answers are cached (LRU, by query, dataset, bindings and Accept)
    since the data does not change while the server runs.
    """

    def __init__(
        self,
        store: ox.Store,
        *,
        workers: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_query_bytes: int | None = DEFAULT_MAX_QUERY_BYTES,
        max_result_bytes: int | None = DEFAULT_MAX_RESULT_BYTES,
        allow_remote: bool = False,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        worker_memory_mb: int = DEFAULT_WORKER_MEMORY_MB,
    ):
        self.store = store
        self.workers_wanted = workers or default_workers()
        self.timeout = timeout
        self.max_query_bytes = max_query_bytes
        self.max_result_bytes = max_result_bytes
        self.allow_remote = allow_remote
        self.known_graphs = _named_graphs(store)
        self.cache_bytes = cache_bytes
        self.worker_memory_mb = worker_memory_mb
        self._cache: OrderedDict = OrderedDict()
        self._cache_size = 0
        self._dump = store.dump(format=ox.RdfFormat.N_QUADS)  # what each worker loads
        self.data_version = hashlib.sha256(self._dump).hexdigest()[:16]
        self.triples = len(store)
        self._workers: set[_Worker] = set()
        self._idle: collections.deque[_Worker] | None = None
        self._waiters: collections.deque[asyncio.Future] = collections.deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._tasks: set[asyncio.Task] = set()
        self.stats = {"queries": 0, "timeouts": 0, "crashes": 0, "respawns": 0, "cache_hits": 0}
        self.start_failure: str | None = None  # why the last replacement worker failed to start, until one starts
        self.respawn_ms: list[float] = []

    # -- lifecycle --

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._idle = collections.deque()
        workers = await asyncio.gather(*(self._spawn() for _ in range(self.workers_wanted)))
        await asyncio.gather(*(w.ready for w in workers))
        log.info(
            "query workers ready: %d (store loaded in %s ms each)",
            len(workers),
            ", ".join(f"{w.load_ms:.0f}" for w in workers),
        )

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        for w in list(self._workers):
            self._retire(w)

    async def __aenter__(self) -> QueryEngine:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def _spawn(self) -> _Worker:
        # A fresh interpreter (not multiprocessing): nothing of the caller's __main__ is re-imported,
        # so scripts and notebooks can use the engine without a ``__main__`` guard.
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_PARENT, env.get("PYTHONPATH")]))
        try:
            process = await asyncio.to_thread(
                subprocess.Popen,
                [sys.executable, "-c", "from explore_kg.engine import _worker_entry; _worker_entry()",
                 str(theirs.fileno()), str(self.worker_memory_mb)],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                env=env,
            )
        finally:
            theirs.close()
        worker = _Worker(process, ours)
        worker.ready = self._loop.create_future()
        self._workers.add(worker)
        try:
            # blocking, in a thread: the worker reads it only once its interpreter is up
            await asyncio.to_thread(_send_frame, ours, self._dump)
        except OSError:
            pass  # the worker died at once; the reader below sees EOF and reports it
        # From here on the event loop owns the socket: non-blocking, whatever the loop (asyncio or uvloop)
        ours.setblocking(False)
        self._loop.add_reader(ours.fileno(), self._on_readable, worker)
        return worker

    def _respawn_later(self) -> None:
        """Start a replacement worker in the background (the pool keeps its size)."""
        if self._closed:
            return
        started = time.perf_counter()

        async def respawn():
            for attempt in range(5):
                try:
                    worker = await self._spawn()
                    await worker.ready
                except (QueryError, OSError) as e:
                    if self._closed:
                        return
                    log.error("a replacement query worker failed to start (attempt %d): %s", attempt + 1, e)
                    self._start_failed(f"{type(e).__name__}: {getattr(e, 'message', e)}")
                    await asyncio.sleep(0.5 * 2**attempt)
                    continue
                self.respawn_ms.append((time.perf_counter() - started) * 1000)
                self.stats["respawns"] += 1
                return
            log.error("giving up replacing a query worker; %d remain", len(self._workers))

        def done(task: asyncio.Task) -> None:
            self._tasks.discard(task)
            if not task.cancelled() and task.exception() is not None and not self._closed:
                log.error("replacing a query worker failed: %s", task.exception())

        task = self._loop.create_task(respawn())
        self._tasks.add(task)
        task.add_done_callback(done)

    @property
    def available(self) -> bool:
        """Whether at least one started worker is alive (False: queries cannot be answered now)."""
        return any(w.ready.done() and not w.ready.exception() and not w.dead for w in self._workers)

    def _start_failed(self, reason: str) -> None:
        """A worker failed to start. With no other worker alive, nothing can answer: the queries waiting
        for a worker fail now, with a 503 that says so, instead of at their deadline."""
        self.start_failure = reason
        if self.available:
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(self._unavailable())

    def _unavailable(self) -> QueryError:
        err = QueryFailed(
            "no query worker is available: new query workers fail to start "
            f"({self.start_failure}); the server keeps trying, see its log"
        )
        err.status = 503
        return err

    def _retire(self, worker: _Worker) -> None:
        """Kill a worker (stuck, dead or closing) and forget it; reaping happens off the event loop."""
        if worker.dead:
            return
        worker.dead = True
        self._workers.discard(worker)
        with contextlib.suppress(Exception):
            self._loop.remove_reader(worker.sock.fileno())
        with contextlib.suppress(Exception):
            worker.process.kill()
        with contextlib.suppress(Exception):
            worker.sock.close()
        threading.Thread(target=worker.process.wait, args=(5,), daemon=True).start()

    def _on_readable(self, worker: _Worker) -> None:
        """Read what the worker's socket holds; handle every complete frame; notice a dead worker."""
        try:
            chunk = worker.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._on_worker_gone(worker)
            return
        inbox = worker.inbox
        inbox += chunk
        while len(inbox) >= _HEADER.size:
            (n,) = _HEADER.unpack_from(inbox)
            if len(inbox) < _HEADER.size + n:
                break
            message = pickle.loads(inbox[_HEADER.size:_HEADER.size + n])
            del inbox[:_HEADER.size + n]
            self._on_message(worker, message)

    def _on_worker_gone(self, worker: _Worker) -> None:
        """The worker closed its socket: it died (or was killed); fail its query and replace it."""
        was_ready = worker.ready.done()
        code = None
        with contextlib.suppress(Exception):
            code = worker.process.wait(0.05)  # it closed its end: it is exiting or gone
        if not worker.dead:
            log.warning("query worker %s ended unexpectedly (exit status %s)%s", worker.pid, code,
                        f" while running: {worker.query_head!r}" if worker.pending is not None else "")
        self._retire(worker)
        if worker.pending is not None and not worker.pending.done():
            worker.pending.set_exception(
                QueryFailed("the query worker stopped while evaluating this query (out of memory, or a "
                            "crash); it was replaced and the server goes on")
            )
        elif not was_ready:
            worker.ready.set_exception(QueryFailed("a query worker failed to start"))
        if was_ready:
            self.stats["crashes"] += 1
            self._respawn_later()

    def _on_message(self, worker: _Worker, message: tuple) -> None:
        if message[0] == "ready":
            worker.load_ms = message[2]
            self.start_failure = None
            worker.ready.set_result(worker)
            self._release(worker)
            return
        pending, worker.pending = worker.pending, None
        if pending is not None and not pending.done():
            pending.set_result(message)
        if not worker.dead:
            self._release(worker)  # also when the asker gave up (cancelled): the worker is free

    def _release(self, worker: _Worker) -> None:
        """Hand a free worker to the longest-waiting query, or put it back in the idle pool."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self._idle.append(worker)

    async def _acquire(self, timeout: float) -> _Worker:
        while self._idle:
            worker = self._idle.popleft()
            if not worker.dead:
                return worker
        if self.start_failure is not None and not self.available:
            if not self._tasks and not self._closed:  # the retries gave up: try again, one at a time
                self._respawn_later()
            raise self._unavailable()
        waiter = self._loop.create_future()
        self._waiters.append(waiter)
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
            return await self._acquire(max(0.001, timeout))
        return worker

    # -- queries --

    def cache_key(self, req: _Request) -> tuple:
        return (req.sparql, req.accept, req.substitutions, req.default_graph_uris, req.named_graph_uris, req.base_iri)

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
    ) -> QueryResult:
        """Answer one query within ``timeout`` seconds (default: the engine's), in a worker process.

        ``media_type`` is a media type or a whole Accept value; see :func:`negotiate`. ``base_iri``
        resolves relative IRIs in the query (the server passes its endpoint URL).
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
        self.stats["queries"] += 1
        key = self.cache_key(req)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            self.stats["cache_hits"] += 1
            return QueryResult(hit.body, hit.media_type, hit.kind, 0.0, cached=True)
        result = await self._dispatch(req, self.timeout if timeout is None else timeout)
        self._remember(key, result)
        return result

    async def _dispatch(self, req: _Request, timeout: float) -> QueryResult:
        loop = self._loop
        deadline = loop.time() + timeout
        try:
            worker = await self._acquire(timeout)
        except TimeoutError:
            self.stats["timeouts"] += 1
            raise QueryTimeout(
                f"no query worker became free within {timeout:g} s (the server is busy); try again"
            ) from None
        future = loop.create_future()
        worker.pending = future
        worker.query_head = req.sparql[:300]
        try:
            payload = pickle.dumps(tuple(req), protocol=pickle.HIGHEST_PROTOCOL)
            frame = _HEADER.pack(len(payload)) + payload
            try:  # the socket's buffer is empty (the worker has read its last query): one send will do
                sent = worker.sock.send(frame)
            except BlockingIOError:
                sent = 0
            if sent < len(frame):
                await loop.sock_sendall(worker.sock, frame[sent:])
        except OSError:
            if not worker.dead:  # (if it died, its death was noticed and it is being replaced)
                self._retire(worker)
                self._respawn_later()
            raise QueryFailed("the query worker could not be reached; it was replaced") from None
        # A timer rather than asyncio.wait_for (a task-level wrapper, measurable per query on the loop)
        timer = loop.call_at(deadline, _expire, future)
        try:
            message = await future
        except TimeoutError:
            self.stats["timeouts"] += 1
            if not worker.dead:
                self._retire(worker)
                self._respawn_later()
            raise QueryTimeout(
                f"the query did not finish within the time limit of {timeout:g} s; it was stopped"
            ) from None
        finally:
            timer.cancel()
        if message[0] == "ok":
            _, body, media_type, kind, elapsed = message
            return QueryResult(body, media_type, kind, elapsed)
        _, name, text, status = message
        err = _ERRORS.get(name, QueryError)(text)
        err.status = status
        raise err

    def _remember(self, key: tuple, result: QueryResult) -> None:
        size = len(result.body) + len(key[0])
        if size > self.cache_bytes // 8:
            return
        self._cache[key] = result
        self._cache_size += size
        while self._cache_size > self.cache_bytes and self._cache:
            old_key, old = self._cache.popitem(last=False)
            self._cache_size -= len(old.body) + len(old_key[0])

    def worker_pids(self) -> list[int]:
        return [w.pid for w in self._workers if w.pid and not w.dead]
