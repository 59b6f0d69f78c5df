"""Running SPARQL queries: in-process for the CLI and Python API, in isolated worker processes for the server.

Why worker processes: pyoxigraph 0.5 offers no way to cancel a running query. Oxigraph's Rust API
and its own server gained a cancellation token (oxigraph PR #1409; it is checked on RocksDB reads,
so not by an in-memory store), but the Python API does not expose it (oxigraph issue #1926, open),
and ``Store.query`` takes no timeout. A query deep enough can also overflow the native stack and
kill the whole process. So the server's :class:`QueryEngine` keeps a pool of query worker processes,
each holding the store loaded once. The parent sends query text, the worker sends back the result
already serialized by pyoxigraph (only bytes cross the pipe). A worker that passes the deadline is
killed and replaced, and the client gets 503, never a partial answer; the other workers keep serving.

This module holds what both paths share: content negotiation, the checks and the evaluation. The
server's side is in its own modules: :mod:`explore_kg.pool` (the worker pool, its deadlines and its
fair share), :mod:`explore_kg.worker_processes` (starting and replacing the processes, with ready spares),
:mod:`explore_kg.worker` (the worker process), :mod:`explore_kg.framing` (the wire between them) and
:mod:`explore_kg.result_cache`.

Both paths share the same checks (:mod:`explore_kg.safety`), the same content negotiation and the
same dataset rules: the default graph is the union of the named graphs unless the query (FROM) or
the protocol (``default-graph-uri``) says otherwise.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple

import pyoxigraph as ox

from .safety import (
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
# The counters every executor keeps (the worker pool, the external store's engine): /health's "stats".
ENGINE_STATS = ("queries", "timeouts", "crashes", "respawns", "spare_swaps", "cache_hits")


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
    """A serialized answer: ``kind`` is "bindings" (SELECT), "boolean" (ASK) or "graph" (CONSTRUCT/DESCRIBE).

    A large answer asked for with ``spool_bytes`` is not in ``body`` but in ``file``, an open unlinked
    temporary file of ``size`` bytes: whoever gets it sends it and calls :meth:`close`.
    """

    body: bytes
    media_type: str  # the Content-Type to send, charset included where the format has one
    kind: str
    elapsed_ms: float
    cached: bool = False
    file: Any = None
    size: int = 0
    on_close: Callable[[], None] | None = None
    worker_pid: int | None = None  # the server's query worker that computed it (in the access log as "worker")

    @property
    def length(self) -> int:
        return self.size if self.file is not None else len(self.body)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        if self.on_close is not None:
            self.on_close, on_close = None, self.on_close
            on_close()


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
    """A write target that refuses to grow past ``limit`` bytes, so a huge result fails early; past
    ``spool`` bytes it moves what it holds to an unlinked temporary file (``file``) and writes there."""

    def __init__(self, limit: int | None, spool: int | None = None):
        self.parts: list[bytes] = []
        self.size = 0
        self.limit = limit
        self.spool = spool
        self.file = None

    def write(self, data) -> int:
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            raise _ResultTooLarge()
        if self.file is not None:
            self.file.write(data)
        elif self.spool is not None and self.size > self.spool:
            self.file = tempfile.TemporaryFile(prefix="explore-kg-result-")
            self.file.writelines(self.parts)
            self.file.write(data)
            self.parts = []
        else:
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
    spool_bytes: int | None = None  # an answer larger than this comes back as a file (QueryResult.file)


def _evaluate(store: ox.Store, req: _Request, known_graphs: Collection[str]) -> QueryResult:
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
    out = _LimitedBuffer(req.max_result_bytes, req.spool_bytes)
    try:
        answer.serialize(out, format=fmt)
        if out.file is not None:
            out.file.flush()
            return QueryResult(b"", content_type, kind, (time.perf_counter() - started) * 1000,
                               file=out.file, size=out.size)
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


class StoreGraphs(Collection):
    """The store's named graphs as the safety check asks for them, one IRI at a time: a query rarely names
    a graph, and listing them all before every query cost 0.14 s at 6k graphs, 1.4 s at 60k (10M quads)."""

    def __init__(self, store: ox.Store):
        self.store = store

    def __contains__(self, iri: object) -> bool:
        try:
            return isinstance(iri, str) and self.store.contains_named_graph(ox.NamedNode(iri))
        except ValueError:  # not an IRI: no graph of ours
            return False

    def __iter__(self) -> Iterator[str]:
        return iter(_named_graphs(self.store))

    def __len__(self) -> int:
        return len(_named_graphs(self.store))


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
    return _run_on_big_stack(_evaluate, store, req, StoreGraphs(store))


def __getattr__(name: str):
    """``QueryEngine``, the server's half (explore_kg.pool), re-exported here; imported when asked for, so
    that a query worker, which imports this module, does not import asyncio and the pool."""
    if name == "QueryEngine":
        from .pool import QueryEngine

        return QueryEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
