"""Loading RDF files into one dataset: the only place that reads files.

Files are parsed once with pyoxigraph (fast, and its syntax errors carry line and column), then the
quads are handed to whichever engine needs them: an rdflib ``Dataset`` for the Python API, validation
and export, or an in-memory Oxigraph ``Store`` for SPARQL.

Named graphs: a Turtle/N-Triples/RDF-XML/JSON-LD file that describes exactly one
``ekg:SourceDocument`` is loaded into the named graph whose name is that document's IRI, so
``GRAPH ?source { ... }`` says which document states a triple. TriG and N-Quads keep their own graphs.
Any other file goes to a graph named after the file. The ontology files go to ``graph/ontology``.
Every date triple (ekg:date and its sub-properties, ekg:plannedLaunchDate, ekg:plannedDate,
ekg:published) gets a claim with its precision and earliest/latest day in the same graph
(:mod:`explore_kg.claims`): an authored claim is completed, a missing one minted with a deterministic IRI.
For every entity of our ``id/`` namespace in a source's graph, claims included, the loader adds
``?entity ekg:statedIn ?source`` to that graph, so provenance survives a flat (Turtle) export.

:meth:`LoadedData.to_store` builds the store SPARQL runs on; with ``entailed=True`` it also materialises
the RDFS-level entailments (:mod:`explore_kg.entailment`) in graph ``graph/entailed``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.term import Node

from .claims import complete_date_claims, date_properties, subproperty_edges
from .namespaces import EKG, ID, ONTOLOGY_GRAPH, PREFIXES, PROJECT_ROOT

ONTOLOGY_DIR = PROJECT_ROOT / "ontology"
DATA_DIR = PROJECT_ROOT / "data"
QUERIES_DIR = PROJECT_ROOT / "queries"
SHAPES_FILE = ONTOLOGY_DIR / "shapes.ttl"

FORMATS = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".turtle": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".n3": ox.RdfFormat.N3,
    ".trig": ox.RdfFormat.TRIG,
    ".nq": ox.RdfFormat.N_QUADS,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json": ox.RdfFormat.JSON_LD,
}
QUAD_FORMATS = {ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS}

_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_SOURCE_DOCUMENT = ox.NamedNode(str(EKG.SourceDocument))
_STATED_IN = ox.NamedNode(str(EKG.statedIn))
_ONTOLOGY_GRAPH = ox.NamedNode(str(ONTOLOGY_GRAPH))


class LoadError(Exception):
    """A file that could not be read or parsed; names the file and, where known, the line."""

    def __init__(self, path: Path | str, message: str, line: int | None = None, column: int | None = None):
        self.path, self.message, self.line, self.column = str(path), message, line, column
        where = self.path + (f":{line}" if line else "") + (f":{column}" if line and column else "")
        super().__init__(f"{where}: {message}")

    @classmethod
    def from_parser(cls, path: Path | str, e: Exception) -> LoadError:
        """The LoadError for what pyoxigraph's parser raised: a SyntaxError's line and column, else its text."""
        if isinstance(e, SyntaxError):
            line, column, message = _syntax_position(e)
            return cls(path, message, line, column)
        return cls(path, str(e))


def shipped_ontology_files() -> list[Path]:
    """The ontology and SKOS vocabularies shipped with the project. The SHACL shapes are not data:
    validation reads them from SHAPES_FILE on their own, and they stay out of the served graph."""
    return sorted(p for p in ONTOLOGY_DIR.glob("*.ttl") if p.name != SHAPES_FILE.name)


def shipped_data_files() -> list[Path]:
    """The instance data shipped with the project: one Turtle file per source document."""
    return sorted(DATA_DIR.glob("**/*.ttl"))


def rdf_format(path: Path) -> ox.RdfFormat:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise LoadError(path, f"unknown RDF file extension {path.suffix!r} (known: {', '.join(sorted(FORMATS))})") from None


def parse_file(path: Path | str) -> list[ox.Quad]:
    """Parse one file into quads; any syntax error becomes a LoadError naming file:line:column."""
    path = Path(path)
    fmt = rdf_format(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LoadError(path, f"cannot read file: {e.strerror or e}") from e
    try:
        # base_iri lets relative IRIs resolve without touching the network; JSON-LD remote contexts
        # are never fetched by pyoxigraph.
        return list(ox.parse(data, format=fmt, base_iri=path.resolve().as_uri()))
    except (SyntaxError, ValueError, OSError) as e:
        raise LoadError.from_parser(path, e) from e


def with_default_graph(quads: Iterable[ox.Quad]) -> Iterator[ox.Quad]:
    """Each quad, then (for a named graph's) its triple in the default graph: the store's default graph
    is the RDF merge of the named graphs, written in the same pass (see :meth:`LoadedData.to_store`)."""
    default = ox.DefaultGraph()
    for q in quads:
        yield q
        if not isinstance(q.graph_name, ox.DefaultGraph):
            yield ox.Quad(q.subject, q.predicate, q.object, default)


_POSITION = re.compile(r"line (\d+)(?: between columns (\d+) and \d+| column (\d+))?", re.I)


def _syntax_position(e: SyntaxError) -> tuple[int | None, int | None, str]:
    text = str(e.msg if getattr(e, "msg", None) else e)
    line = getattr(e, "lineno", None)
    column = getattr(e, "offset", None)
    if not line:
        m = _POSITION.search(text)
        if m:
            line = int(m.group(1))
            column = int(m.group(2) or m.group(3) or 0) or None
    return line, column, text


def source_of(quads: Sequence[ox.Quad]) -> ox.NamedNode | None:
    """The single ekg:SourceDocument a file describes, or None if it describes none or several."""
    docs = {q.subject for q in quads if q.predicate == _RDF_TYPE and q.object == _SOURCE_DOCUMENT}
    return next(iter(docs)) if len(docs) == 1 and isinstance(next(iter(docs)), ox.NamedNode) else None


def assign_graphs(path: Path, quads: list[ox.Quad], ontology: bool = False,
                  dates: frozenset[ox.NamedNode] | None = None) -> list[ox.Quad]:
    """Put a triple file's statements into its named graph, complete the claims of its date triples
    (``dates``: the date properties, default :func:`known_date_properties` of this file) and add
    ekg:statedIn provenance."""
    if ontology:
        return quads if rdf_format(path) in QUAD_FORMATS else [
            ox.Quad(q.subject, q.predicate, q.object, _ONTOLOGY_GRAPH) for q in quads]
    if dates is None:
        dates = known_date_properties(subproperty_edges(quads))
    if rdf_format(path) in QUAD_FORMATS:  # its graphs are its own: claims in each, statedIn for new claims
        return quads + quad_file_additions(quads, dates)
    source = source_of(quads)
    graph = source if source is not None else ox.NamedNode(path.resolve().as_uri())
    out = [ox.Quad(q.subject, q.predicate, q.object, graph) for q in quads]
    out.extend(complete_date_claims(out, dates))
    if source is not None:
        entities = {q.subject for q in out if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(str(ID))}
        out.extend(ox.Quad(e, _STATED_IN, source, graph) for e in sorted(entities, key=lambda n: n.value))
    return out


def quad_file_additions(quads: Sequence[ox.Quad], dates: frozenset[ox.NamedNode]) -> list[ox.Quad]:
    """What the loader adds to an N-Quads/TriG file's own graphs: the claims of its date triples, and
    ekg:statedIn for each new claim in a source document's graph. Reads only the date, claim and
    source-document quads (a streaming loader may pass just those: :mod:`explore_kg.store.disk`)."""
    claims = complete_date_claims(quads, dates)
    sources = {q.subject for q in quads
               if q.predicate == _RDF_TYPE and q.object == _SOURCE_DOCUMENT and q.subject == q.graph_name}
    minted = {(q.subject, q.graph_name): None for q in claims if q.predicate == _RDF_TYPE and q.graph_name in sources}
    return claims + [ox.Quad(c, _STATED_IN, g, g) for c, g in minted]


@lru_cache(maxsize=1)
def _shipped_subproperty_edges() -> tuple:
    """The shipped ontology's sub-property axioms: which properties are dates even in a file loaded alone."""
    edges: list = []
    for path in shipped_ontology_files():
        try:
            edges += subproperty_edges(parse_file(path))
        except LoadError:  # a broken shipped ontology is reported when it is loaded, not here
            continue
    return tuple(edges)


def known_date_properties(edges: Iterable[tuple[ox.NamedNode, ox.NamedNode]] = ()) -> frozenset[ox.NamedNode]:
    """The date properties (see :func:`explore_kg.claims.date_properties`) by the shipped ontology's
    sub-property axioms plus ``edges`` (:func:`explore_kg.claims.subproperty_edges` of other files)."""
    return date_properties([*_shipped_subproperty_edges(), *edges])


@dataclass
class LoadedData:
    """Quads read from files, with the file each named graph came from."""

    quads: list[ox.Quad] = field(default_factory=list)
    graph_files: dict[str, str] = field(default_factory=dict)  # graph IRI -> file path
    files: list[Path] = field(default_factory=list)
    entailed: int | None = None  # entailed triples the last to_store(entailed=True) added; None: not asked

    def to_store(self, *, entailed: bool = False) -> ox.Store:
        """An in-memory Oxigraph store for SPARQL: every quad, plus the union of all graphs written
        into the store's default graph.

        The default graph is the RDF *merge* of the named graphs: a triple that three sources state
        is one triple there. Oxigraph's own union mode (``use_default_graph_as_union``) would
        instead return one solution per graph stating it, so queries run on this materialised union.

        With ``entailed``, the sub-class, sub-property, inverse and equivalence entailments of that
        merge are added once, in graph ``graph/entailed`` and in the default graph; the source graphs
        keep only asserted triples (:mod:`explore_kg.entailment`). ``self.entailed`` then counts them.
        """
        store = ox.Store()
        store.bulk_extend(with_default_graph(self.quads))
        if entailed:
            from .entailment import materialise

            self.entailed = materialise(store)
        return store

    def to_dataset(self) -> Dataset:
        """An rdflib Dataset whose default graph is the union of the named graphs."""
        ds = Dataset(default_union=True)
        for prefix, ns in PREFIXES.items():
            ds.bind(prefix, ns, override=True, replace=True)
        graphs: dict[ox.NamedNode | ox.DefaultGraph, Graph] = {}
        for q in self.quads:
            g = graphs.get(q.graph_name)
            if g is None:
                g = ds.default_graph if isinstance(q.graph_name, ox.DefaultGraph) else ds.graph(to_rdflib(q.graph_name))
                graphs[q.graph_name] = g
            g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
        return ds


def load(paths: Iterable[Path | str] = (), *, shipped: bool = True, ontology_paths: Iterable[Path | str] = ()) -> LoadedData:
    """Read the shipped ontology and data (unless ``shipped=False``) plus any extra files.

    Raises LoadError on the first file that cannot be parsed; nothing is half-loaded.
    """
    loaded = LoadedData()
    onto = list(ontology_paths) + (shipped_ontology_files() if shipped else [])
    data = (shipped_data_files() if shipped else []) + [Path(p) for p in paths]
    edges: list = []  # the sub-property axioms read so far (ontology files come first)
    for path, is_ontology in [(Path(p), True) for p in onto] + [(Path(p), False) for p in data]:
        parsed = parse_file(path)
        edges += subproperty_edges(parsed)
        quads = assign_graphs(path, parsed, ontology=is_ontology, dates=known_date_properties(edges))
        loaded.quads.extend(quads)
        loaded.files.append(path)
        for g in {q.graph_name for q in quads if isinstance(q.graph_name, ox.NamedNode)}:
            loaded.graph_files.setdefault(g.value, str(path))
    return loaded


def load_dataset(paths: Iterable[Path | str] = (), *, shipped: bool = True) -> Dataset:
    """The shipped graph (plus any extra files) as an rdflib Dataset, default graph = union."""
    return load(paths, shipped=shipped).to_dataset()


# --- term conversion between pyoxigraph and rdflib -------------------------------------------

def to_rdflib(term) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        dt = term.datatype.value
        if dt == "http://www.w3.org/2001/XMLSchema#string":
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(dt))
    if isinstance(term, ox.DefaultGraph):
        return None
    raise TypeError(f"unsupported term {term!r}")


def to_oxigraph(term: Node):
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"unsupported term {term!r}")


# --- where subjects are described, for file:line in reports -------------------------------------

_PREFIX_DECL = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.I)
_SUBJECT_AT_LINE_START = re.compile(r"^(?:<([^>\s]+)>|([A-Za-z][\w.-]*)?:((?:[\w.:%-]|\\.)*))(?=[\s;,]|$)")


def subject_lines(path: Path | str) -> dict[str, int]:
    """Map each subject IRI to the first line (1-based) where a Turtle/TriG file starts describing it.

    A light scan, not a parser: a subject is a term at column 0 of a line, as in every file of this
    project and in what most Turtle writers produce. Good enough to point a person at the right line.
    """
    found: dict[str, int] = {}
    for iri, number in iter_subject_lines(path):
        found.setdefault(iri, number)
    return found


def iter_subject_lines(path: Path | str) -> Iterator[tuple[str, int]]:
    """(subject IRI, line) for each line of a Turtle/TriG file that starts a subject's block, read as a
    stream (the scan of :func:`subject_lines`; a caller may stop once it has what it looks for)."""
    prefixes: dict[str, str] = {}
    try:
        f = Path(path).open(encoding="utf-8", errors="replace")
    except OSError:
        return
    with f:
        for number, text in enumerate(f, start=1):
            m = _PREFIX_DECL.match(text)
            if m:
                prefixes[m.group(1) or ""] = m.group(2)
                continue
            m = _SUBJECT_AT_LINE_START.match(text)
            if not m:
                continue
            if m.group(1):
                yield m.group(1), number
            elif (m.group(2) or "") in prefixes:
                yield prefixes[m.group(2) or ""] + re.sub(r"\\(.)", r"\1", m.group(3)), number
