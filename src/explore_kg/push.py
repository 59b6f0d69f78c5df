"""``explore-kg push --store URL [FILE...]``: load the graph into an external SPARQL store, then verify it.

What is pushed is what ``serve`` would serve embedded (the same loader and options): the ontology, the
vocabularies and every source graph as its own named graph, graph/entailed unless ``--asserted``,
graph/inferred with ``--inferred``, and the merge of them all as explore-kg's default graph (the
store's default graph on an Oxigraph server, else the named graph ``graph/merge``: see
:mod:`explore_kg.store.dialects.generic`). So a store answers every query as the embedded one does.

Writing: the SPARQL 1.1 Graph Store HTTP Protocol (``PUT`` the first batch of a graph with
``--replace``, ``POST`` the others), in batches of N-Triples; a store without GSP gets SPARQL Update
(``DROP SILENT GRAPH`` then ``INSERT DATA``). The triples holding blank nodes go in a graph's first
batch together: a blank node label names the same node only within one request. Without ``--replace``
a graph the store already holds as sent is skipped (said in the log), an empty one written, and one
that holds other triples refused with a message suggesting ``--replace`` (exit status 1, nothing
written): a second identical push is a no-op, never a second copy of its blank nodes.

Verifying: per graph, the number of triples and a content hash computed *by the store*: SPARQL's
``SHA1`` of each triple's terms (``STR``, language, datatype; blank nodes as ``_:``), sorted and
hashed again here, compared with the same computed over what was sent. A store that answered "done"
and loaded nothing, or something else, fails with exit status 1; a store down or refusing: 3.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from .store.remote import Connection, QueryFailed, StoreRefused, StoreUnavailable

log = logging.getLogger("explore_kg.push")

EXIT_OK, EXIT_DIFFERENT, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3
BATCH_TRIPLES = 20000
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

# Computed by the store for each triple: what verify() compares. Each character outside printable ASCII
# counts as "?": Virtuoso 7's SHA1 of a string outside Latin-1 is not that of its UTF-8 bytes, and its
# ENCODE_FOR_URI leaves Latin-1 letters as they are (both measured); REPLACE agrees everywhere.
TRIPLE_HASH = ('SHA1(REPLACE(CONCAT(IF(isBlank(?s), "_:", STR(?s)), " ", STR(?p), " ", '
               'IF(isBlank(?o), "_:", STR(?o)), " ", '
               'IF(isLiteral(?o), CONCAT(LANG(?o), "|", IF(LANG(?o) = "", STR(DATATYPE(?o)), "")), "-")), '
               '"[^ -~]", "?"))')
_NOT_ASCII = re.compile(r"[^ -~]")


def triple_hash(t: ox.Triple) -> str:
    """The same as :data:`TRIPLE_HASH`, computed here over a triple that is sent."""
    def text(term) -> str:
        return "_:" if isinstance(term, ox.BlankNode) else term.value

    o = t.object
    if isinstance(o, ox.Literal):
        tail = f"{o.language}|" if o.language else f"|{o.datatype.value}"
    else:
        tail = "-"
    line = f"{text(t.subject)} {t.predicate.value} {text(o)} {tail}"
    return hashlib.sha1(_NOT_ASCII.sub("?", line).encode("ascii")).hexdigest()


def content_hash(hashes: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(hashes)).encode()).hexdigest()


@dataclass
class Graph:
    """One graph to push: its IRI (None: explore-kg's default graph, the merge) and its triples."""

    iri: str | None
    triples: list[ox.Triple]

    @property
    def label(self) -> str:
        return self.iri or "(default graph: the merge)"


def graphs_to_push(paths: Sequence[str], *, entailed: bool, inferred: bool) -> list[Graph]:
    """The graphs ``serve`` would hold for the same files and options, blank-node triples first."""
    from .server import ServerConfig, load_for_serving

    loaded = load_for_serving(ServerConfig(paths=paths, inferred=inferred, entailed=entailed))
    store = loaded.to_store(entailed=entailed)
    by_graph: dict[str | None, list[ox.Triple]] = {}
    for q in store:
        key = None if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
        by_graph.setdefault(key, []).append(ox.Triple(q.subject, q.predicate, q.object))
    out = []
    for iri in sorted(by_graph, key=lambda g: (g is None, g or "")):
        triples = by_graph[iri]
        triples.sort(key=lambda t: not (isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)))
        out.append(Graph(iri, triples))
    return out


class Pusher:
    """Writes graphs to one store (GSP, else SPARQL Update) and verifies them."""

    def __init__(self, conn: Connection, *, replace: bool, batch: int = BATCH_TRIPLES, use_gsp: bool | None = None):
        self.conn, self.replace, self.batch = conn, replace, batch
        self.use_gsp = conn.dialect.gsp_url is not None if use_gsp is None else use_gsp

    def _target(self, graph: Graph) -> str | None:
        """The store's graph IRI for ``graph`` (None: its default graph)."""
        if graph.iri is None:
            return self.conn.dialect.merge_graph
        return graph.iri

    def batches(self, graph: Graph) -> list[list[ox.Triple]]:
        triples = graph.triples
        blank = sum(1 for t in triples if isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode))
        first = max(self.batch, blank)
        out = [triples[:first]]
        out += [triples[at:at + self.batch] for at in range(first, len(triples), self.batch)]
        return [b for b in out if b] or [[]]

    def write(self, graph: Graph, progress=None) -> None:
        target = self._target(graph)
        for number, batch in enumerate(self.batches(graph)):
            data = ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES) or b""
            first = number == 0
            if self.use_gsp:
                method = "PUT" if first and self.replace else "POST"
                self.conn.request(method, self.conn.dialect.gsp_url, what=f"writing {graph.label}",
                                  params=self.conn.dialect.gsp_target(target), content=data,
                                  headers={"Content-Type": "application/n-triples"})
            else:
                where = f"GRAPH <{target}> " if target else ""
                drop = (f"DROP SILENT GRAPH <{target}> ;\n" if target else "DROP SILENT DEFAULT ;\n") \
                    if first and self.replace else ""
                self.conn.update(f"{drop}INSERT DATA {{ {where}{{\n{data.decode()}\n}} }}", what=f"writing {graph.label}")
            if progress is not None:
                progress(len(batch))

    def stored(self, graph: Graph) -> tuple[int, str]:
        """(triples, content hash) of ``graph`` as the store computes them."""
        target = self._target(graph)
        pattern = f"GRAPH <{target}> {{ ?s ?p ?o }}" if target else "?s ?p ?o"
        rows = self.conn.select(f"SELECT ?h WHERE {{ {pattern} BIND({TRIPLE_HASH} AS ?h) }}", dataset=False)
        hashes = [r["h"].value for r in rows if "h" in r]
        if len(hashes) != len(rows):
            raise StoreRefused("the SPARQL store does not compute SHA1 over STR/LANG/DATATYPE: cannot verify")
        return len(hashes), content_hash(hashes)

    def verify(self, graph: Graph) -> str | None:
        """None if the store holds what was sent, else what differs (one line)."""
        sent_hashes = [triple_hash(t) for t in graph.triples]
        count, digest = self.stored(graph)
        if count == 0 and graph.triples:
            return (f"{graph.label}: the store answered success but holds no triple of it "
                    f"({len(graph.triples)} sent); it did not load the data")
        if count != len(graph.triples):
            return f"{graph.label}: {len(graph.triples)} triples sent, the store holds {count}"
        if digest != content_hash(sent_hashes):
            return (f"{graph.label}: the store holds {count} triples as sent, but their content differs (a store "
                    "that rewrites literals, e.g. non-canonical numbers, or lost some)")
        return None


class _Progress:
    def __init__(self, total: int):
        self.bar = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("pushing {task.description}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("triples"), TimeElapsedColumn(), console=Console(stderr=True),
                                transient=True)
            self.task = self.bar.add_task("", total=total)
            self.bar.start()

    def describe(self, text: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, description=text[-60:])

    def __call__(self, n: int) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def already_there(pusher: Pusher, graphs: list[Graph]) -> tuple[list[Graph], list[str]]:
    """Without --replace: (the graphs to write, the graphs that differ). A graph the store already holds
    as sent (count and content hash) is skipped, so a second identical push writes nothing (and adds no
    second copy of its blank nodes); an empty one is written; one holding other triples is not touched."""
    todo, differing = [], []
    for graph in graphs:
        count, digest = pusher.stored(graph)
        if count == 0:
            todo.append(graph)
        elif count == len(graph.triples) and digest == content_hash(triple_hash(t) for t in graph.triples):
            log.info("skipped %s: the store already holds it as sent (count and content hash match)", graph.label)
        else:
            differing.append(f"{graph.label}: the store already holds {count} other triples in this graph "
                             f"({len(graph.triples)} to send); push with --replace to replace it")
    return todo, differing


def push(conn: Connection, graphs: list[Graph], *, replace: bool, verify: bool = True,
         batch: int = BATCH_TRIPLES, use_gsp: bool | None = None) -> list[str]:
    """Write and verify ``graphs``; returns the differences found (empty: the store holds them).
    Without ``replace`` only graphs the store does not hold yet are written (see :func:`already_there`);
    if one holds other triples, nothing is written and that is the difference returned."""
    pusher = Pusher(conn, replace=replace, batch=batch, use_gsp=use_gsp)
    if not replace:
        graphs, differing = already_there(pusher, graphs)
        if differing:
            return differing
    progress = _Progress(sum(len(g.triples) for g in graphs))
    started = time.perf_counter()
    try:
        for graph in graphs:
            progress.describe(graph.label)
            pusher.write(graph, progress)
    finally:
        progress.close()
    total = sum(len(g.triples) for g in graphs)
    log.info("pushed %d triples in %d graphs in %.1f s (%s)", total, len(graphs), time.perf_counter() - started,
             "Graph Store Protocol" if pusher.use_gsp else "SPARQL Update")
    if not verify:
        return []
    problems = [p for p in (pusher.verify(g) for g in graphs) if p]
    conn.graphs(refresh=True)
    return problems


def run_cli(paths: Sequence[str], *, store: str, update_url: str | None, gsp_url: str | None, auth: str | None,
            auth_type: str | None, replace: bool, entailed: bool, inferred: bool, batch: int,
            verify: bool = True) -> int:
    """The ``push`` command; returns its exit status (0 pushed and verified, 1 differences, 2 usage, 3 store)."""
    from .loading import LoadError

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        conn = Connection(store, update_url=update_url, gsp_url=gsp_url, auth=auth, auth_type=auth_type)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        conn.raw_query("ASK {}", "application/sparql-results+json", what="a first query")  # down: say so now
        graphs = graphs_to_push(paths, entailed=entailed, inferred=inferred)
    except LoadError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (StoreUnavailable, StoreRefused, QueryFailed) as e:
        print(f"error: {e.message}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    try:
        log.info("pushing to the store (%s)", conn.dialect.title)
        problems = push(conn, graphs, replace=replace, verify=verify, batch=batch)
    except (StoreUnavailable, StoreRefused, QueryFailed) as e:
        print(f"error: {e.message}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    finally:
        conn.close()
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return EXIT_DIFFERENT
    if verify:
        log.info("verified: every graph holds the triples sent (count and content hash computed by the store)")
    return EXIT_OK
