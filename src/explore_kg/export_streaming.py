"""Exporting data too large to hold in Python: the same documents as :class:`explore_kg.export.Exporter`,
streamed from any quad source (an on-disk store, an external store, loaded data) through an external sort.

The in-memory exporter keeps every quad as a Python object (~1 KB each) and sorts them in memory; at a
million quads that is more memory than the store itself. Here:

1. the rdf:type / skos:exactMatch / ontology quads are read first, by predicate (an index look-up on a
   store): the ontology's super-terms, the source documents, the schema profile's per-kind mappings, the
   Wikidata matches;
2. one pass over the quads applies the profile to each quad (:mod:`explore_kg.export_profiles`) and
   writes each resulting quad as one line of text (its terms in N-Triples form, in the order the format
   sorts by) into a sorter, which sorts chunks of :data:`CHUNK` lines in memory and spills them to
   temporary files; quads that hold a blank node are kept aside and given RDFC-1.0 canonical labels at the
   end (canonical labels depend only on the quads that mention blank nodes, so the labels are those of
   :func:`explore_kg.writers.canonical_quads` over the whole document);
3. a first merge of the sorted runs counts what the VoID description says (distinct triples, subjects,
   properties, classes, triples per graph: equal triples are adjacent in the sorted order), a second merge
   writes the document, the description's quads merged in at their place.

Deterministic: the order is the sort of the lines' text (an external sort, not the store's order, which
follows its internal term ids), and blank-node labels are canonical. Every format is byte-identical to
the in-memory exporter's on the shipped data (tests/test_export_streaming.py): Turtle and TriG decide
which blank nodes go inline from the blank-node quads, which are held in memory (the ontology's lists
and restrictions; a dataset made mostly of blank nodes would hold them all). Not offered here:
the OWL RL inferences (owlrl holds the whole graph in rdflib and does not scale: it did not finish 100k
triples in 120 s on this machine).
"""

from __future__ import annotations

import heapq
import json
import os
import shutil
import tempfile
from collections import defaultdict
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
    WRITE_PREFIXES,
    DataStats,
    ExportError,
    dataset_iri,
    describe,
    graph_slug,
)
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
from .namespaces import DCTERMS, ID, ONTOLOGY_GRAPH, OWL, SDO, WD

CHUNK = 200_000  # lines sorted in memory before a run is spilled to disk
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


# --- sorting lines ------------------------------------------------------------------------------------


class _Sorter:
    """An external sort of text lines (no line holds a newline: N-Triples escapes them): chunks sorted in
    memory, spilled to files in ``directory``, merged on reading. Equal lines come out once."""

    def __init__(self, directory: str):
        self.directory = directory
        self.lines: list[str] = []
        self.runs: list[str] = []

    def add(self, line: str) -> None:
        self.lines.append(line)
        if len(self.lines) >= CHUNK:
            self._spill()

    def _spill(self) -> None:
        self.lines = sorted(set(self.lines))
        fd, path = tempfile.mkstemp(dir=self.directory, suffix=".run")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(line + "\n" for line in self.lines)
        self.runs.append(path)
        self.lines = []

    def finish(self) -> None:
        if self.runs and self.lines:
            self._spill()
        else:
            self.lines = sorted(set(self.lines))

    def __iter__(self) -> Iterator[str]:
        """The sorted, distinct lines (may be read more than once)."""
        if not self.runs:
            yield from self.lines
            return
        files = [open(path, encoding="utf-8", newline="\n") for path in self.runs]  # noqa: SIM115 - closed below
        try:
            last = None
            for line in heapq.merge(*((raw[:-1] for raw in f) for f in files)):
                if line != last:
                    yield line
                    last = line
        finally:
            for f in files:
                f.close()


# --- the lines: a quad's terms in N-Triples form, in the order a format sorts by -------------------------
#
# "triple" (Turtle, JSON-LD, RDF/XML):  rank+subject NUL predicate NUL rank+object NUL graph
#     the order of writers.term_key (IRIs, then blank nodes, then literals), graph last;
# "line" (N-Triples, N-Quads):  "subject predicate object ." NUL graph
#     the order of the sorted output lines, graph last;
# "graph" (TriG):  graph IRI (bare: write_trig orders graphs by IRI) NUL rank+subject NUL predicate NUL rank+object.
# In each, equal triples are adjacent in the first two (what the description counts rely on).


def _rank(text: str) -> str:
    return ("0" if text[0] == "<" else "1" if text[0] == "_" else "2") + text


def _line_of(kind: str, s: str, p: str, o: str, g: str) -> str:
    if kind == "triple":
        return f"{_rank(s)}\0{p}\0{_rank(o)}\0{g}"
    if kind == "line":
        return f"{s} {p} {o} .\0{g}"
    return f"{g[1:-1]}\0{_rank(s)}\0{p}\0{_rank(o)}"


def _fields(kind: str, line: str) -> tuple[str, str, str, str]:
    """(subject, predicate, object, graph) in N-Triples form ('' for the default graph)."""
    if kind == "triple":
        s, p, o, g = line.split("\0")
        return s[1:], p, o[1:], g
    if kind == "graph":
        g, s, p, o = line.split("\0")
        return s[1:], p, o[1:], f"<{g}>" if g else ""
    triple, g = line.rsplit("\0", 1)
    s, p, rest = triple.split(" ", 2)
    return s, p, rest[:-2], g


def _quad_line(kind: str, q: ox.Quad) -> str:
    g = "" if isinstance(q.graph_name, ox.DefaultGraph) else str(q.graph_name)
    return _line_of(kind, str(q.subject), str(q.predicate), str(q.object), g)


def _parsed(rows: Iterable[tuple[str, str, str, str]], batch: int = 4096) -> Iterator[ox.Quad]:
    """Quads back from their N-Triples terms, parsed by pyoxigraph a batch at a time."""
    chunk: list[str] = []

    def flush() -> Iterator[ox.Quad]:
        yield from ox.parse("".join(chunk).encode("utf-8"), format=ox.RdfFormat.N_QUADS)
        chunk.clear()

    for s, p, o, g in rows:
        chunk.append(f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n")
        if len(chunk) >= batch:
            yield from flush()
    if chunk:
        yield from flush()


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
    of quads, ideally with ``with_predicates`` and ``graph_names``, as a store's have), written to a binary output without holding the data."""

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
            sorter = _Sorter(scratch)
            counted = _Sorter(scratch) if kind == "graph" else sorter  # the counts need triple order
            self._fill(sorter, counted, kind, profile, graph_iri)
            uri_space = str(WD) if profile == "wikidata" else str(ID)
            self.progress("counting", 0, None)
            stats = _count(counted, "line" if counted is not sorter else kind, uri_space)
            dataset = dataset_iri(profile, content, graph_iri)
            description = describe(stats, self.ontology, self.source_documents, dataset=dataset, profile=profile,
                                   content=content, graph=graph_iri)
            described = sorted({_quad_line(kind, q) for q in description})
            header = (f"explore-kg {__version__}: {content} triples, profile {profile}"
                      + (f", graph {graph_slug(graph_iri)}" if graph_iri else "")
                      + f"\nDescribed by <{dataset}> (VoID/DCAT) inside this document. Licence: CC BY 4.0 <{LICENSE}>.")
            def lines() -> Iterator[str]:  # (a fresh merge each call: RDF/XML reads twice)
                total = stats.quads + len(described)
                for done, line in enumerate(_distinct(heapq.merge(sorter, described)), 1):
                    if done % 65536 == 0:
                        self.progress("writing", done, total)
                    yield line
                self.progress("writing", total, total)

            vocab = str(SDO) if profile == "schema" else None
            counting = _CountingWriter(out)
            _WRITERS[rdf_format.name](counting, lines, kind, header, vocab, scratch, self.blank)
            triples = stats.triples if not rdf_format.quads else stats.quads
            return StreamedDocument(rdf_format.name, content, profile, graph_iri, dataset, triples, counting.count)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _fill(self, sorter: _Sorter, counted: _Sorter, kind: str, profile: str, graph: str | None) -> None:
        """One pass over the quads: the profile's quads as lines; blank-node quads canonicalised at the end."""
        blank: list[ox.Quad] = []
        mapper = None
        if profile == "schema":
            mapper = SchemaMapper(self.ontology)
            for q in self.types():
                mapper.add_type(q)
        elif profile == "wikidata":
            mapper = WikidataMapper(self.ontology)
            for q in _with_predicates(self.quads, [_EXACT_MATCH.value]):
                if _graph_iri(q) not in _DERIVED:
                    mapper.add_match(q)
        alignment = _Alignment(self.ontology)
        two = counted is not sorter

        def add(q: ox.Quad) -> None:
            if isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode):
                blank.append(q)
                return
            sorter.add(_quad_line(kind, q))
            if two:
                counted.add(_quad_line("line", q))

        done = 0
        wanted = ox.NamedNode(graph) if graph else None
        for q in self.quads:
            done += 1
            if done % 65536 == 0:
                self.progress("exporting", done, self.total)
            g = q.graph_name
            if wanted is not None:
                if g != wanted:
                    continue
            elif isinstance(g, ox.NamedNode) and g.value in _DERIVED:
                continue
            if profile == "core":
                add(q)
                for a in alignment.of(q):
                    add(a)
            else:
                for m in mapper.map(q):
                    add(m)
        self.progress("exporting", done, self.total)
        if profile == "schema":
            for m in mapper.things():
                add(m)
        self.blank = writers.canonical_quads(blank) if blank else []
        if blank:
            for q in self.blank:
                sorter.add(_quad_line(kind, q))
                if two:
                    counted.add(_quad_line("line", q))
        sorter.finish()
        if two:
            counted.finish()


class _Alignment:
    """core_alignment of one quad, with each term's standard super-terms looked up once."""

    def __init__(self, onto: Ontology):
        self.onto = onto
        self.cache: dict[ox.NamedNode, list[ox.NamedNode]] = {}
        self.graph = ox.NamedNode(str(ALIGNMENT_GRAPH))

    def _supers(self, term: ox.NamedNode) -> list[ox.NamedNode]:
        found = self.cache.get(term)
        if found is None:
            found = self.cache[term] = list(self.onto.standard_supers(term))
        return found

    def of(self, q: ox.Quad) -> list[ox.Quad]:
        if q.predicate == _RDF_TYPE and isinstance(q.object, ox.NamedNode):
            return [ox.Quad(q.subject, _RDF_TYPE, c, self.graph) for c in self._supers(q.object)]
        return [ox.Quad(q.subject, p, q.object, self.graph) for p in self._supers(q.predicate)]


@dataclass
class _Stats(DataStats):
    quads: int = 0  # distinct quads


def _count(lines: Iterable[str], kind: str, uri_space: str) -> _Stats:
    """What the description says of the data, from lines in which equal triples are adjacent."""
    stats = _Stats(properties=set(), classes=set(), per_graph={})
    last_triple = last_subject = None
    own = "<" + uri_space
    per_graph = stats.per_graph
    for line in lines:
        s, p, o, g = _fields(kind, line)
        stats.quads += 1
        if g:
            iri = g[1:-1]
            per_graph[iri] = per_graph.get(iri, 0) + 1
        triple = (s, p, o)
        if triple == last_triple:
            continue
        last_triple = triple
        stats.triples += 1
        if s != last_subject:
            last_subject = s
            stats.subjects += 1
            if s.startswith(own):
                stats.entities += 1
        stats.properties.add(p[1:-1])
        if p == _TYPE_NT:
            stats.classes.add(ox.NamedNode(o[1:-1]) if o.startswith("<") else o)
    return stats


def _distinct(lines: Iterable[str]) -> Iterator[str]:
    last = None
    for line in lines:
        if line != last:
            yield line
            last = line


class _CountingWriter:
    def __init__(self, out: BinaryIO):
        self.out, self.count = out, 0

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.count += len(data)
        return len(data)

    def flush(self) -> None:
        self.out.flush()


# --- writers --------------------------------------------------------------------------------------------


def _write_lines(out, lines: Iterator[str], kind: str, header: str, vocab, scratch: str, *, quads: bool) -> None:
    buf: list[str] = []
    last = None
    for line in lines():
        triple, g = line.rsplit("\0", 1)
        if quads:
            text = f"{triple[:-1]}{g} .\n" if g else triple + "\n"
        else:
            if triple == last:
                continue
            last = triple
            text = triple + "\n"
        buf.append(text)
        if len(buf) >= 8192:
            out.write("".join(buf).encode("utf-8"))
            buf.clear()
    out.write("".join(buf).encode("utf-8"))


def _write_ntriples(out, lines, kind, header, vocab, scratch, blank):
    _write_lines(out, lines, kind, header, vocab, scratch, quads=False)


def _write_nquads(out, lines, kind, header, vocab, scratch, blank):
    _write_lines(out, lines, kind, header, vocab, scratch, quads=True)


def _triples(lines: Iterator[str], kind: str) -> Iterator[ox.Triple]:
    """The distinct triples of lines in triple order, as terms."""
    def rows():
        last = None
        for line in lines:
            s, p, o, _g = _fields(kind, line)
            if (s, p, o) != last:
                last = (s, p, o)
                yield s, p, o, ""
    for q in _parsed(rows()):
        yield q.triple


def _by_subject(triples: Iterator[ox.Triple]) -> Iterator[list[ox.Triple]]:
    group: list[ox.Triple] = []
    for t in triples:
        if group and t.subject != group[0].subject:
            yield group
            group = []
        group.append(t)
    if group:
        yield group


class _TurtleStream:
    """writers._TurtleGraph, one subject at a time: it holds only the triples that mention blank nodes (all
    of them, so which nodes go inline, as ``[ ... ]`` or lists, is decided as writers.write_turtle decides),
    and each named subject's triples while its statement is written."""

    def __init__(self, blank_triples: list[ox.Triple], prefixes: writers.Prefixes, shared: set[ox.BlankNode]):
        self.w = writers._TurtleGraph(blank_triples, prefixes, shared)

    def statements(self, group: list[ox.Triple], depth: int = 0) -> list[str]:
        w, s, indent = self.w, group[0].subject, "    " * depth
        if not isinstance(s, ox.BlankNode):
            props: dict = defaultdict(list)
            for t in group:
                props[t.predicate].append(t.object)
            w.by_subject[s] = props
            try:
                return [indent + w.term(s, depth) + " " + w.predicate_objects(s, depth + 1) + " ."]
            finally:
                del w.by_subject[s]
        if s in w.inline or s in w._written:
            return []  # written where it is used
        if s not in w.referenced and s not in w.shared:
            w._written.add(s)
            body = w.predicate_objects(s, depth + 1)
            return [indent + "[\n" + indent + "    " + body + "\n" + indent + "] ."]
        return [indent + f"_:{s.value} " + w.predicate_objects(s, depth + 1) + " ."]


def _sorted_triples(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    return sorted(set(triples), key=lambda t: (writers.term_key(t.subject), str(t.predicate), writers.term_key(t.object)))


def _with_header(out, body_path: str, head: bytes, tail: bytes = b"") -> None:
    out.write(head)
    with open(body_path, "rb") as f:
        while chunk := f.read(1 << 20):
            out.write(chunk)
    out.write(tail)


def _write_turtle(out, lines, kind, header, vocab, scratch, blank):
    prefixes = writers.Prefixes(WRITE_PREFIXES)
    body = os.path.join(scratch, "body")
    writer = _TurtleStream(_sorted_triples(q.triple for q in blank), prefixes, set())
    with open(body, "w", encoding="utf-8", newline="\n") as f:
        first = True
        for group in _by_subject(_triples(lines(), kind)):
            for statement in writer.statements(group):
                f.write(("" if first else "\n\n") + statement)
                first = False
    head = (writers._comment(header) + prefixes.header_turtle() + "\n").encode("utf-8")
    _with_header(out, body, head, b"\n")


def _write_trig(out, lines, kind, header, vocab, scratch, blank):
    prefixes = writers.Prefixes(WRITE_PREFIXES)
    body = os.path.join(scratch, "body")
    shared = writers._bnodes_per_graph(blank)
    blank_by_graph: dict[str, list[ox.Triple]] = defaultdict(list)
    for q in blank:
        blank_by_graph["" if isinstance(q.graph_name, ox.DefaultGraph) else str(q.graph_name)].append(q.triple)

    def graphs() -> Iterator[tuple[str, Iterator[list[ox.Triple]]]]:
        current, rows = None, []
        for line in lines():
            s, p, o, g = _fields(kind, line)
            if g != current and rows:
                yield current, rows
                rows = []
            current = g
            rows.append((s, p, o, ""))
        if rows:
            yield current, rows

    with open(body, "w", encoding="utf-8", newline="\n") as f:
        first_block = True
        for g, rows in graphs():
            depth = 1 if g else 0
            statements = []
            writer = _TurtleStream(_sorted_triples(blank_by_graph.get(g, ())), prefixes, shared)
            for group in _by_subject(q.triple for q in _parsed(rows)):
                statements.extend(writer.statements(group, depth))
            if g:
                name = prefixes.compact(g[1:-1]) or g
                block = f"GRAPH {name} {{\n" + "\n\n".join(statements) + "\n}"
            else:
                block = "\n\n".join(statements)
            f.write(("" if first_block else "\n\n") + block)
            first_block = False
    head = (writers._comment(header) + prefixes.header_turtle() + "\n").encode("utf-8")
    _with_header(out, body, head, b"\n")


def _write_jsonld(out, lines, kind, header, vocab, scratch, blank):
    c = writers._JsonLdCompactor(WRITE_PREFIXES, vocab)
    body = os.path.join(scratch, "body")
    with open(body, "w", encoding="utf-8", newline="\n") as f:
        first = True
        for group in _by_subject(_triples(lines(), kind)):
            node = _jsonld_node(group, c)
            text = json.dumps(node, ensure_ascii=False, indent=2).replace("\n", "\n    ")
            f.write(("" if first else ",\n") + "    " + text)
            first = False
    context = json.dumps(c.context(), ensure_ascii=False, indent=2).replace("\n", "\n  ")
    with open(body, "rb") as f:
        empty = not f.read(1)
    head = ('{\n  "@context": ' + context + ',\n  "@graph": [' + ("" if empty else "\n")).encode("utf-8")
    _with_header(out, body, head, b"]\n}\n" if empty else b"\n  ]\n}\n")


def _jsonld_node(group: list[ox.Triple], c) -> dict:
    """writers.write_jsonld's node object for one subject."""
    s = group[0].subject
    props: dict[ox.NamedNode, list] = {}
    for t in group:
        props.setdefault(t.predicate, []).append(t.object)
    node: dict[str, object] = {"@id": c.iri(s.value) if isinstance(s, ox.NamedNode) else f"_:{s.value}"}
    types = sorted(o for o in props.get(_RDF_TYPE, []) if isinstance(o, ox.NamedNode))
    other_types = [o for o in props.get(_RDF_TYPE, []) if not isinstance(o, ox.NamedNode)]
    if types:
        node["@type"] = writers._one_or_list(sorted(c.vocab_term(t.value) for t in types))
    for p in sorted(props, key=lambda p: p.value):
        objs = props[p] if p != _RDF_TYPE else other_types
        if not objs:
            continue
        key = c.vocab_term(p.value) if p != _RDF_TYPE else c.iri(p.value)
        node[key] = writers._one_or_list([writers._jsonld_value(o, c) for o in sorted(objs, key=writers.term_key)])
    return node


def _write_rdfxml(out, lines, kind, header, vocab, scratch, blank):
    # RDF/XML declares its prefixes first: one merge of the sorted runs finds the used ones, a second writes.
    used = writers._used_namespaces(_triples(lines(), kind), WRITE_PREFIXES)
    ox.serialize(_triples(lines(), kind), out, format=ox.RdfFormat.RDF_XML, prefixes=used)


_WRITERS = {"ntriples": _write_ntriples, "nquads": _write_nquads, "turtle": _write_turtle, "trig": _write_trig,
            "jsonld": _write_jsonld, "rdfxml": _write_rdfxml}
