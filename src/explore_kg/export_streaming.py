"""Exporting data too large to hold in Python: the same documents as :class:`explore_kg.export.Exporter`,
streamed from any quad source (an on-disk store, an external store, loaded data) through an external sort.

The in-memory exporter keeps every quad as a Python object (~1 KB each) and sorts them in memory; at a
million quads that is more memory than the store itself. Here:

1. the ontology / skos:exactMatch / rdf:type quads are read first, by predicate (an index look-up on a
   store): the ontology's super-terms, the schema profile's per-kind mappings, the Wikidata matches;
2. one pass over the quads applies the profile to each quad (:mod:`explore_kg.export_profiles`) and
   writes each resulting quad as one line of text (:mod:`explore_kg.export_lines`: its terms in N-Triples
   form, in the order the format sorts by) into a sorter, which sorts chunks of :data:`CHUNK` lines in
   memory and spills them to temporary files. The core profile, which keeps every quad as it is and adds
   its alignment quads, works on N-Triples lines (a store writes them itself: ``dump_graph``), so a quad
   becomes a Python object only if it holds a blank node; those quads are kept aside and given RDFC-1.0
   canonical labels at the end (canonical labels depend only on the quads that mention blank nodes, so the
   labels are those of :func:`explore_kg.writers.canonical_quads` over the whole document);
3. a first reading of the sorted lines merges the runs into one (kept for the next reading) and counts what
   the VoID description says (distinct triples, subjects, properties, classes, triples per graph: equal
   triples are adjacent in the sorted order); a second reading writes the document
   (:mod:`explore_kg.export_stream_writers`), the description's lines merged in at their place.

Deterministic: the order is the sort of the lines' text (an external sort, not the store's order, which
follows its internal term ids), and blank-node labels are canonical. Every format is byte-identical to
the in-memory exporter's on the shipped data (tests/test_export_streaming.py): Turtle and TriG decide
which blank nodes go inline from the blank-node quads, which are held in memory (the ontology's lists
and restrictions; a dataset made mostly of blank nodes would hold them all). Not offered here:
the OWL RL inferences (owlrl holds the whole graph in rdflib and does not scale: it did not finish 100k
triples in 120 s on this machine).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import pyoxigraph as ox

from . import __version__, writers
from .export import (
    DESCRIPTION_GRAPH,
    FORMAT_BY_EXTENSION,
    FORMATS,
    INFERRED_GRAPH,
    LICENSE,
    PROFILES,
    DataStats,
    ExportError,
    dataset_iri,
    describe,
    graph_slug,
)
from .export_lines import LineBatches, LineSorter, parsed, quad_line, read_graph_dumps
from .export_profiles import (
    _EXACT_MATCH,
    _RDF_TYPE,
    _SOURCE_DOCUMENT,
    _SUBCLASS,
    _SUBPROPERTY,
    ALIGNMENT_GRAPH,
    Ontology,
    SchemaMapper,
    WikidataMapper,
)
from .export_stream_writers import WRITERS
from .namespaces import DCTERMS, ID, ONTOLOGY_GRAPH, OWL, SDO, WD

CHUNK = 200_000  # lines sorted in memory before a run is spilled to disk
CHILD_DUMP_QUADS = 50_000  # from this many quads, a store's graphs are read by a child process (~0.2 s to start)
_ONTOLOGY_PREDICATES = [str(p) for p in (_SUBCLASS.value, _SUBPROPERTY.value, _EXACT_MATCH.value, OWL.versionIRI,
                                         OWL.versionInfo, DCTERMS.modified, DCTERMS.issued, DCTERMS.created)]
_DERIVED = frozenset(str(g) for g in (INFERRED_GRAPH, ALIGNMENT_GRAPH, DESCRIPTION_GRAPH))
_TYPE_NT = str(_RDF_TYPE)

Progress = Callable[[str, int, int | None], None]  # (phase, done, total or None)


def _no_progress(_phase: str, _done: int, _total: int | None) -> None:
    pass


def _with_predicates(quads, predicates: list[str]) -> Iterator[ox.Quad]:
    """The quads with one of ``predicates``: by index where the source has one (a store), else by a pass."""
    if hasattr(quads, "with_predicates"):
        yield from quads.with_predicates(predicates)
        return
    wanted = {ox.NamedNode(p) for p in predicates}
    yield from (q for q in quads if q.predicate in wanted)


def _graph_iri(q: ox.Quad) -> str:
    return q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""


# --- the exporter ---------------------------------------------------------------------------------------


@dataclass
class StreamedDocument:
    """What a streamed export wrote (its bytes went to the output)."""

    format: str
    content: str
    profile: str
    graph: str | None
    dataset: str
    triples: int
    bytes: int


class StreamingExporter:
    """The documents of :class:`explore_kg.export.Exporter` for data read from ``loaded.quads`` (any iterable
    of quads, ideally with ``with_predicates`` and ``graph_names``, as a store's have), written to a binary
    output without holding the data. A store's quads that offer ``dump_graph`` (and, for a store other
    processes can open, ``graphs_dumped_by_a_child``) are read as N-Triples text for the core profile."""

    def __init__(self, loaded, *, progress: Progress = _no_progress, scratch: str | None = None):
        self.quads = loaded.quads
        self.total = len(self.quads) if hasattr(self.quads, "__len__") else None
        self.progress = progress
        self.scratch = scratch
        onto_graph = str(ONTOLOGY_GRAPH)
        self.ontology = Ontology(q for q in _with_predicates(self.quads, _ONTOLOGY_PREDICATES)
                                 if _graph_iri(q) == onto_graph)
        self._sources: set[str] | None = None
        self._graphs: list[str] | None = None

    def types(self) -> Iterator[ox.Quad]:
        """The rdf:type quads of the source graphs (read by index; not kept)."""
        return (q for q in _with_predicates(self.quads, [_TYPE_NT[1:-1]]) if _graph_iri(q) not in _DERIVED)

    @property
    def source_documents(self) -> set[str]:
        if self._sources is None:
            self._sources = {q.subject.value for q in self.types() if q.object == _SOURCE_DOCUMENT}
        return self._sources

    @property
    def graphs(self) -> list[str]:
        if self._graphs is None:
            if hasattr(self.quads, "graph_names"):  # a store's quads (on disk, external) list their graphs
                found = set(self.quads.graph_names())
            else:
                found = {_graph_iri(q) for q in self.quads} - {""}
            self._graphs = sorted(found - _DERIVED - {"https://w3id.org/explore-kg/graph/entailed"})
        return self._graphs

    def resolve_graph(self, name: str | None) -> str | None:
        if name is None or name in self.graphs:
            return name
        slugs = {graph_slug(g): g for g in self.graphs}
        if name in slugs:
            return slugs[name]
        raise ExportError(f"unknown graph {name!r}; known graphs: {', '.join(sorted(slugs))}")

    def write(self, out: BinaryIO, fmt: str, *, content: str = "asserted", graph: str | None = None,
              profile: str = "core") -> StreamedDocument:
        rdf_format = FORMATS.get(fmt) or FORMAT_BY_EXTENSION.get(fmt)
        if rdf_format is None:
            raise ExportError(f"unknown format {fmt!r}; known formats: {', '.join(FORMATS)}")
        if profile not in PROFILES:
            raise ExportError(f"unknown profile {profile!r}; known profiles: {', '.join(PROFILES)}")
        if content != "asserted":
            raise ExportError("the OWL 2 RL inferences are not exported for large inputs: owlrl holds the whole "
                              "graph in memory and does not scale to it; export the asserted triples")
        graph_iri = self.resolve_graph(graph)
        kind = {"ntriples": "line", "nquads": "line", "trig": "graph"}.get(rdf_format.name, "triple")
        scratch = tempfile.mkdtemp(prefix="explore-kg-export-", dir=self.scratch)
        try:
            sorter = LineSorter(scratch, CHUNK)
            counted = LineSorter(scratch, CHUNK) if kind == "graph" else sorter  # the counts need triple order
            self._fill(sorter, counted, kind, profile, graph_iri)
            uri_space = str(WD) if profile == "wikidata" else str(ID)
            stats = self._count(counted, "line" if counted is not sorter else kind, uri_space)
            dataset = dataset_iri(profile, content, graph_iri)
            description = describe(stats, self.ontology, self.source_documents, dataset=dataset, profile=profile,
                                   content=content, graph=graph_iri)
            described = sorted({quad_line(kind, q) for q in description})
            header = (f"explore-kg {__version__}: {content} triples, profile {profile}"
                      + (f", graph {graph_slug(graph_iri)}" if graph_iri else "")
                      + f"\nDescribed by <{dataset}> (VoID/DCAT) inside this document. Licence: CC BY 4.0 <{LICENSE}>.")
            def lines() -> Iterator[str]:  # (a fresh reading each call: RDF/XML reads twice)
                total = stats.quads + len(described)
                for done, line in enumerate(_with_description(sorter, described), 1):
                    if not done & 0xFFFF:
                        self.progress("writing", done, total)
                    yield line
                self.progress("writing", total, total)

            vocab = str(SDO) if profile == "schema" else None
            counting = _CountingWriter(out)
            WRITERS[rdf_format.name](counting, lines, kind, header, vocab, scratch, self.blank)
            triples = stats.triples if not rdf_format.quads else stats.quads
            return StreamedDocument(rdf_format.name, content, profile, graph_iri, dataset, triples, counting.count)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _fill(self, sorter: LineSorter, counted: LineSorter, kind: str, profile: str, graph: str | None) -> None:
        """One pass over the quads: the profile's quads as lines; blank-node quads canonicalised at the end."""
        blank: list[ox.Quad] = []
        alignment = _Alignment(self.ontology)
        two = counted is not sorter

        def add(q: ox.Quad) -> None:
            if isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode):
                blank.append(q)
                return
            sorter.add(quad_line(kind, q))
            if two:
                counted.add(quad_line("line", q))

        if profile == "core":
            self._fill_core(sorter, counted if two else None, kind, graph, alignment, add)
        else:
            self._fill_mapped(profile, graph, add)
        self.blank = writers.canonical_quads(blank) if blank else []
        if blank:
            for q in self.blank:
                sorter.add(quad_line(kind, q))
                if two:
                    counted.add(quad_line("line", q))
        sorter.finish()
        if two:
            counted.finish()

    def _fill_core(self, sorter: LineSorter, counted: LineSorter | None, kind: str, graph: str | None,
                   alignment: _Alignment, add: Callable[[ox.Quad], None]) -> None:
        """The core profile works on N-Triples lines: each quad as it is, plus its alignment quads; only the
        quads that hold a blank node (or a triple term) become pyoxigraph quads (``add``)."""
        done = 0
        sources: set[str] = set()  # the source documents, seen on the way (when every graph is read)
        a_graph = f"<{ALIGNMENT_GRAPH}>"
        classes, properties = alignment.classes, alignment.properties

        as_line = _LAYOUTS[kind]
        source_type = f"<{_SOURCE_DOCUMENT.value}>"

        def handle(g: str, text_lines: list[str]) -> None:
            nonlocal done
            out: list[str] = []
            slow: list[tuple[str, str, str, str]] = []
            same = kind == "line"  # the N-Triples line is the sorted line's text
            for line in text_lines:
                s, p, rest = line.split(" ", 2)
                o = rest[:-2]
                first = o[0]
                if s[0] == "_" or first == "_" or (first == "<" and o[1] == "<"):
                    slow.append((s, p, o, g))
                    continue
                out.append(f"{line}\0{g}" if same else as_line(s, p, o, g))
                if p == _TYPE_NT and first == "<":
                    if o == source_type:
                        sources.add(s[1:-1])
                    ups = classes.get(o)
                    if ups is None:
                        ups = alignment.supers_of(o, classes)
                    for c in ups:
                        out.append(as_line(s, p, c, a_graph))
                else:
                    ups = properties.get(p)
                    if ups is None:
                        ups = alignment.supers_of(p, properties)
                    for u in ups:
                        out.append(as_line(s, u, o, a_graph))
            if counted is not None:  # TriG: the same quads in the order of the counts
                counted.extend([_as_line(line) for line in out])
            sorter.extend(out)
            for q in parsed(slow):
                if q.predicate == _RDF_TYPE and q.object == _SOURCE_DOCUMENT and isinstance(q.subject, ox.NamedNode):
                    sources.add(q.subject.value)
                add(q)
                for a in alignment.of(q):
                    add(a)
            before, done = done, done + len(text_lines)
            if before >> 16 != done >> 16:
                self.progress("exporting", done, self.total)

        graphs = [graph] if graph else self.graphs
        if (getattr(self.quads, "path", None) is not None and hasattr(self.quads, "graphs_dumped_by_a_child")
                and (self.total or 0) >= CHILD_DUMP_QUADS):
            with self.quads.graphs_dumped_by_a_child(graphs) as stream:  # read on another core
                read_graph_dumps(stream, graphs, handle)
        elif hasattr(self.quads, "dump_graph"):  # a store writes the N-Triples of a graph itself
            for iri in graphs:
                output = LineBatches(f"<{iri}>", handle)
                self.quads.dump_graph(iri, output)
                output.close()
        else:
            self._quads_as_lines(graph, handle)
        self.progress("exporting", done, self.total)
        if graph is None:
            self._sources = sources

    def _quads_as_lines(self, graph: str | None, handle: Callable[[str, list[str]], None]) -> None:
        """Quads (not from a store) as N-Triples lines, a graph's run of quads at a time."""
        current, batch = None, []
        for q in self._exported_quads(graph):
            g = q.graph_name
            if g != current or len(batch) >= 65536:
                if batch:
                    handle("" if isinstance(current, ox.DefaultGraph) else str(current), batch)
                current, batch = g, []
            batch.append(f"{q.subject} {q.predicate} {q.object} .")
        if batch:
            handle("" if isinstance(current, ox.DefaultGraph) else str(current), batch)

    def _fill_mapped(self, profile: str, graph: str | None, add: Callable[[ox.Quad], None]) -> None:
        """The schema and wikidata profiles: each quad mapped by the profile's mapper, as pyoxigraph quads."""
        if profile == "schema":
            mapper = SchemaMapper(self.ontology)
            for q in self.types():
                mapper.add_type(q)
        else:
            mapper = WikidataMapper(self.ontology)
            for q in _with_predicates(self.quads, [_EXACT_MATCH.value]):
                if _graph_iri(q) not in _DERIVED:
                    mapper.add_match(q)
        done = 0

        def counted() -> Iterator[ox.Quad]:
            nonlocal done
            for q in self.quads:
                done += 1
                if not done & 0xFFFF:
                    self.progress("exporting", done, self.total)
                yield q

        for q in self._exported_quads(graph, counted()):
            for m in mapper.map(q):
                add(m)
        self.progress("exporting", done, self.total)
        if profile == "schema":
            for m in mapper.things():
                add(m)

    def _exported_quads(self, graph: str | None, quads: Iterable[ox.Quad] | None = None) -> Iterator[ox.Quad]:
        """The quads an export writes: those of ``graph`` if one is named, else all but the derived graphs'."""
        wanted = ox.NamedNode(graph) if graph else None
        for q in self.quads if quads is None else quads:
            g = q.graph_name
            if wanted is not None:
                if g != wanted:
                    continue
            elif isinstance(g, ox.NamedNode) and g.value in _DERIVED:
                continue
            yield q

    def _count(self, lines: LineSorter, kind: str, uri_space: str) -> _Stats:

        def counted() -> Iterator[str]:
            for done, line in enumerate(lines, 1):
                if not done & 0xFFFF:
                    self.progress("counting", done, None)
                yield line
        return _count(counted(), kind, uri_space)


_LAYOUTS = {  # the sorted line of a quad without blank nodes, by layout (export_lines.line_of)
    "line": lambda s, p, o, g: f"{s} {p} {o} .\0{g}",
    "triple": lambda s, p, o, g: f"0{s}\0{p}\0{'0' if o[0] == '<' else '2'}{o}\0{g}",
    "graph": lambda s, p, o, g: f"{g[1:-1]}\0" f"0{s}\0{p}\0{'0' if o[0] == '<' else '2'}{o}",
}


def _as_line(line: str) -> str:
    """A "graph" line (no blank node) in the "line" layout."""
    g, s, p, o = line.split("\0")
    return f"{s[1:]} {p} {o[1:]} .\0<{g}>" if g else f"{s[1:]} {p} {o[1:]} .\0"


class _Alignment:
    """core_alignment, with each term's standard super-terms looked up once: as pyoxigraph quads for
    :meth:`of`, as N-Triples text in :attr:`classes` (rdf:type objects) and :attr:`properties`."""

    def __init__(self, onto: Ontology):
        self.onto = onto
        self.cache: dict[ox.NamedNode, list[ox.NamedNode]] = {}
        self.graph = ox.NamedNode(str(ALIGNMENT_GRAPH))
        self.classes: dict[str, list[str]] = {}
        self.properties: dict[str, list[str]] = {}

    def _supers(self, term: ox.NamedNode) -> list[ox.NamedNode]:
        found = self.cache.get(term)
        if found is None:
            found = self.cache[term] = list(self.onto.standard_supers(term))
        return found

    def supers_of(self, nt: str, cache: dict[str, list[str]]) -> list[str]:
        found = cache[nt] = [str(t) for t in self._supers(ox.NamedNode(nt[1:-1]))]
        return found

    def of(self, q: ox.Quad) -> list[ox.Quad]:
        if q.predicate == _RDF_TYPE and isinstance(q.object, ox.NamedNode):
            return [ox.Quad(q.subject, _RDF_TYPE, c, self.graph) for c in self._supers(q.object)]
        return [ox.Quad(q.subject, p, q.object, self.graph) for p in self._supers(q.predicate)]


@dataclass
class _Stats(DataStats):
    quads: int = 0  # distinct quads


def _count(lines: Iterable[str], kind: str, uri_space: str) -> _Stats:
    """What the description says of the data, from lines in which equal triples are adjacent ("line" or
    "triple" layout). Terms are counted as N-Triples text, turned into the description's values at the end."""
    quads = triples = subjects = entities = 0
    per_graph: dict[str, int] = {}
    properties: set[str] = set()
    classes: set[str] = set()
    last_triple = last_subject = None
    own = "<" + uri_space
    by_line = kind == "line"
    for line in lines:
        quads += 1
        cut = line.rindex("\0")
        if cut + 1 < len(line):
            g = line[cut + 1:]
            per_graph[g] = per_graph.get(g, 0) + 1
        triple = line[:cut]
        if triple == last_triple:
            continue
        last_triple = triple
        triples += 1
        if by_line:
            s, p, o = triple.split(" ", 2)
            o = o[:-2]
        else:
            s, p, o = triple.split("\0")
            s, o = s[1:], o[1:]
        if s != last_subject:
            last_subject = s
            subjects += 1
            if s.startswith(own):
                entities += 1
        properties.add(p)
        if p == _TYPE_NT:
            classes.add(o)
    return _Stats(triples=triples, entities=entities, subjects=subjects, quads=quads,
                  properties={p[1:-1] for p in properties},
                  classes={ox.NamedNode(o[1:-1]) if o.startswith("<") else o for o in classes},
                  per_graph={g[1:-1]: n for g, n in per_graph.items()})


def _with_description(lines: Iterable[str], described: list[str]) -> Iterator[str]:
    """The sorted, distinct lines with the description's (sorted, distinct, few) lines at their place."""
    i, n = 0, len(described)
    for line in lines:
        while i < n and described[i] < line:
            yield described[i]
            i += 1
        if i < n and described[i] == line:
            i += 1
        yield line
    yield from described[i:]


class _CountingWriter:
    def __init__(self, out: BinaryIO):
        self.out, self.count = out, 0

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.count += len(data)
        return len(data)

    def flush(self) -> None:
        self.out.flush()
