"""Exporting the graph as deterministic dumps, in six RDF formats and three profiles.

What goes into a dump:

* the asserted triples of every named graph (or of one source's graph, ``graph=``), written as they
  were loaded, each source document's facts in the named graph of that document;
* a *profile*: ``core`` keeps our terms and adds, in graph ``graph/alignment``, the super-classes and
  super-properties that the ontology declares in the standard vocabularies (schema.org, ORG, PROV,
  SOSA, DCTERMS, FOAF, SKOS), so a consumer that knows only those finds something; ``schema`` keeps
  schema.org terms only (for JSON-LD consumers); ``wikidata`` writes Wikidata-shaped ``wdt:``
  statements about the entities that have a ``skos:exactMatch`` to a Wikidata item;
* optionally the OWL 2 RL inferences (:mod:`explore_kg.reasoning`), always kept apart from the
  asserted triples: in graph ``graph/inferred`` (TriG, N-Quads) or in a document of their own
  (Turtle, N-Triples, JSON-LD, RDF/XML cannot name graphs);
* a VoID + DCAT description of exactly what the document holds (graph ``graph/void`` in TriG and
  N-Quads): triple counts overall and per graph, the source documents, the licence, the ontology
  version. It uses the ontology's date, never the clock, so the same data always gives the same bytes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pyoxigraph as ox

from . import __version__, writers
from .export_profiles import (  # noqa: F401 - the profiles' public names, importable from here as before
    _DATE_TYPES,
    _EXACT_MATCH,
    _INSTANCE_SPACES,
    _LABEL,
    _RDF_TYPE,
    _SOURCE_DOCUMENT,
    _SUBCLASS,
    _SUBPROPERTY,
    ALIGNMENT_GRAPH,
    SCHEMA_CLASSES,
    SCHEMA_PROPERTIES,
    SCHEMA_PROPERTIES_BY_CLASS,
    STANDARD_NAMESPACES,
    WIKIDATA_CLASSES,
    WIKIDATA_DATES,
    WIKIDATA_PROPERTIES,
    Ontology,
    SchemaMapper,
    WikidataMapper,
    _is_instance,
    _wikidata_datetime,
    core_alignment,
    graph_slug,
    n,
    schema_profile,
    wikidata_profile,
)
from .loading import LoadedData, to_oxigraph, to_rdflib
from .namespaces import (
    BASE,
    DCAT,
    DCTERMS,
    EKG,
    GRAPH,
    ID,
    INFERRED_GRAPH,
    ONTOLOGY_GRAPH,
    ONTOLOGY_IRI,
    OWL,
    PREFIXES,
    PROV,
    RDF,
    SDO,
    VOID,
    WD,
    XSD,
)

DESCRIPTION_GRAPH = GRAPH["void"]
DATASET = BASE + "dataset/"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
SD_NAME = "http://www.w3.org/ns/sparql-service-description#name"
# Prefixes for writing: the project's (sd: among them, for sd:name).
WRITE_PREFIXES = {k: str(v) for k, v in PREFIXES.items()}


class ExportError(ValueError):
    """A request for an export that cannot be made (unknown format, profile or graph...)."""


@dataclass(frozen=True)
class RdfFormat:
    name: str
    extension: str
    media_type: str
    quads: bool  # can name graphs, so inferred triples can travel in the same document


FORMATS: dict[str, RdfFormat] = {
    f.name: f
    for f in (
        RdfFormat("turtle", "ttl", "text/turtle", False),
        RdfFormat("ntriples", "nt", "application/n-triples", False),
        RdfFormat("jsonld", "jsonld", "application/ld+json", False),
        RdfFormat("rdfxml", "rdf", "application/rdf+xml", False),
        RdfFormat("trig", "trig", "application/trig", True),
        RdfFormat("nquads", "nq", "application/n-quads", True),
    )
}
FORMAT_BY_EXTENSION = {f.extension: f for f in FORMATS.values()}
PROFILES = ("core", "schema", "wikidata")
# What a document holds: the asserted triples, asserted + inferred (quad formats only), or the inferred only.
CONTENTS = ("asserted", "all", "inferred")


# --- writing -------------------------------------------------------------------------------------------


def serialize(quads: Sequence[ox.Quad], fmt: str, *, header: str = "", vocab: str | None = None) -> bytes:
    """The bytes of an RDF document in one of FORMATS, written with the project's prefixes.

    The one way the project writes RDF for people and clients: exports, dumps and the description of a
    dereferenced IRI (:mod:`explore_kg.web`) share it, so Turtle declares the same prefixes and JSON-LD
    carries the same kind of inline ``@context`` everywhere. ``quads`` should come from
    :func:`explore_kg.writers.canonical_quads` (sorted, blank nodes labelled by content).
    """
    prefixes = WRITE_PREFIXES
    writer = {
        "turtle": lambda: writers.write_turtle(quads, prefixes, header),
        "trig": lambda: writers.write_trig(quads, prefixes, header),
        "ntriples": lambda: writers.write_ntriples(quads),
        "nquads": lambda: writers.write_nquads(quads),
        "jsonld": lambda: writers.write_jsonld(quads, prefixes, vocab=vocab),
        "rdfxml": lambda: writers.write_rdfxml(quads, prefixes),
    }.get(fmt)
    if writer is None:
        raise ExportError(f"unknown format {fmt!r}; known formats: {', '.join(FORMATS)}")
    return writer()


def describe_document(triples: Iterable[ox.Triple], fmt: str, *, about: str) -> bytes:
    """The description of one IRI (what /id/... answers an RDF client), written like an export."""
    quads = writers.canonical_quads(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    header = (f"explore-kg {__version__}: the description of <{about}> (its facts, and the facts that name it)."
              f"\nLicence: CC BY 4.0 <{LICENSE}>.")
    return serialize(quads, fmt, header=header)


# --- the exporter -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """One export document: its bytes and what it holds."""

    data: bytes
    format: RdfFormat
    content: str
    profile: str
    graph: str | None
    dataset: str  # IRI of the void:Dataset that the document describes
    triples: int


class Exporter:
    """Builds export documents from loaded data; results are cached, as the data does not change."""

    def __init__(self, loaded: LoadedData):
        # Graphs that export derives itself (a server started with --inferred, or a re-loaded dump, has them)
        # are dropped: they are recomputed from the asserted triples, never passed off as asserted.
        derived = {n(str(g)) for g in (INFERRED_GRAPH, ALIGNMENT_GRAPH, DESCRIPTION_GRAPH)}
        self.quads = [q for q in loaded.quads if q.graph_name not in derived]
        self.graphs = sorted({q.graph_name.value for q in self.quads if isinstance(q.graph_name, ox.NamedNode)})
        onto_graph = n(str(ONTOLOGY_GRAPH))
        self.ontology = Ontology(q for q in self.quads if q.graph_name == onto_graph)
        self._cache: dict[tuple, Document] = {}
        self._inferred: dict[str | None, list[ox.Quad]] = {}
        self._asserted: dict[tuple[str, str | None], list[ox.Quad]] = {}

    # graphs --------------------------------------------------------------------------------

    @cached_property
    def graph_slugs(self) -> dict[str, str]:
        return {graph_slug(g): g for g in self.graphs}

    def resolve_graph(self, name: str | None) -> str | None:
        """A graph's full IRI from its slug or IRI; an unknown one raises ExportError listing the known."""
        if name is None:
            return None
        if name in self.graphs:
            return name
        if name in self.graph_slugs:
            return self.graph_slugs[name]
        known = ", ".join(sorted(self.graph_slugs))
        raise ExportError(f"unknown graph {name!r}; known graphs: {known}")

    @cached_property
    def source_documents(self) -> set[str]:
        return {q.subject.value for q in self.quads if q.predicate == _RDF_TYPE and q.object == _SOURCE_DOCUMENT}

    def _selected(self, graph: str | None) -> list[ox.Quad]:
        if graph is None:
            return self.quads
        g = n(graph)
        return [q for q in self.quads if q.graph_name == g]

    # content ------------------------------------------------------------------------------

    def asserted(self, profile: str, graph: str | None) -> list[ox.Quad]:
        """The asserted quads of the selection, shaped by the profile (core adds graph/alignment)."""
        key = (profile, graph)
        if key not in self._asserted:
            quads = self._selected(graph)
            if profile == "core":
                self._asserted[key] = quads + core_alignment(quads, self.ontology)
            elif profile == "schema":
                self._asserted[key] = schema_profile(quads, self.ontology)
            else:
                self._asserted[key] = wikidata_profile(quads, self.ontology, self.quads)
        return self._asserted[key]

    def inferred(self, profile: str, graph: str | None) -> list[ox.Quad]:
        """OWL RL inferences about the selection, shaped by the profile, minus anything asserted, in graph/inferred."""
        raw = self._raw_inferred(graph)
        g = n(str(INFERRED_GRAPH))
        if profile == "core":
            shaped = raw
        elif profile == "schema":
            shaped = schema_profile(raw, self.ontology)
        else:
            shaped = wikidata_profile(raw, self.ontology, self.quads + raw)
        asserted = {q.triple for q in self.asserted(profile, graph)}
        return [ox.Quad(q.subject, q.predicate, q.object, g) for q in shaped if q.triple not in asserted]

    def _raw_inferred(self, graph: str | None) -> list[ox.Quad]:
        if graph not in self._inferred:
            from .reasoning import reason

            selected = self._selected(graph)
            onto_graph = n(str(ONTOLOGY_GRAPH))
            basis = selected if graph is None else selected + [q for q in self.quads if q.graph_name == onto_graph]
            from rdflib import Graph as RdfGraph

            rg = RdfGraph()
            for q in basis:
                rg.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
            result = reason(rg).inferred
            # Keep what is about the selection: for one source, not the ontology's own entailments.
            nodes = {t for q in selected for t in (q.subject, q.object)}
            g = n(str(INFERRED_GRAPH))
            quads = [ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), g) for s, p, o in result]
            self._inferred[graph] = [q for q in quads if q.subject in nodes]
        return self._inferred[graph]

    # documents ----------------------------------------------------------------------------

    def document(self, fmt: str, *, content: str = "asserted", graph: str | None = None, profile: str = "core") -> Document:
        """Build (or take from the cache) one export document."""
        rdf_format = FORMATS.get(fmt) or FORMAT_BY_EXTENSION.get(fmt)
        if rdf_format is None:
            raise ExportError(f"unknown format {fmt!r}; known formats: {', '.join(FORMATS)}")
        if profile not in PROFILES:
            raise ExportError(f"unknown profile {profile!r}; known profiles: {', '.join(PROFILES)}")
        if content not in CONTENTS:
            raise ExportError(f"unknown content {content!r}; one of {', '.join(CONTENTS)}")
        if content == "all" and not rdf_format.quads:
            raise ExportError(
                f"{rdf_format.name} cannot keep inferred triples apart from asserted ones (it has no named graphs): "
                "use trig or nquads, or export the inferred triples as a document of their own"
            )
        graph_iri = self.resolve_graph(graph)
        key = (rdf_format.name, content, graph_iri, profile)
        if key not in self._cache:
            self._cache[key] = self._build(rdf_format, content, graph_iri, profile)
        return self._cache[key]

    def _build(self, rdf_format: RdfFormat, content: str, graph: str | None, profile: str) -> Document:
        data: list[ox.Quad] = []
        if content in ("asserted", "all"):
            data += self.asserted(profile, graph)  # a copy: the cached list stays as it is
        if content in ("all", "inferred"):
            data += self.inferred(profile, graph)
        dataset = dataset_iri(profile, content, graph)
        data = list(dict.fromkeys(data))
        description = self.describe(data, dataset=dataset, profile=profile, content=content, graph=graph,
                                    merged=not rdf_format.quads)
        quads = writers.canonical_quads(data + description)
        header = (
            f"explore-kg {__version__}: {content} triples, profile {profile}"
            + (f", graph {graph_slug(graph)}" if graph else "")
            + f"\nDescribed by <{dataset}> (VoID/DCAT) inside this document. Licence: CC BY 4.0 <{LICENSE}>."
        )
        vocab = str(SDO) if profile == "schema" else None
        triples = len({q.triple for q in data}) if not rdf_format.quads else len(data)
        return Document(serialize(quads, rdf_format.name, header=header, vocab=vocab), rdf_format, content, profile,
                        graph, dataset, triples)

    def describe(self, data: Sequence[ox.Quad], *, dataset: str, profile: str, content: str, graph: str | None,
                 merged: bool) -> list[ox.Quad]:
        """VoID + DCAT description of ``data``: counts overall and per graph, sources, licence, version."""
        uri_space = str(WD) if profile == "wikidata" else str(ID)
        return describe(DataStats.of(data, uri_space), self.ontology, self.source_documents, dataset=dataset,
                        profile=profile, content=content, graph=graph)


@dataclass
class DataStats:
    """What the VoID description counts of a document's data (computed here from quads in memory, or by
    :mod:`explore_kg.export_streaming` from a sorted stream)."""

    triples: int = 0  # distinct triples, all graphs merged
    entities: int = 0  # distinct subjects in the URI space
    subjects: int = 0
    properties: set = field(default_factory=set)  # predicate IRIs
    classes: set = field(default_factory=set)  # objects of rdf:type (terms)
    per_graph: dict = field(default_factory=dict)  # named graph IRI -> distinct triples

    @classmethod
    def of(cls, data: Sequence[ox.Quad], uri_space: str) -> DataStats:
        triples = {q.triple for q in data}
        per_graph: dict[str, set] = defaultdict(set)
        for q in data:
            if isinstance(q.graph_name, ox.NamedNode):
                per_graph[q.graph_name.value].add(q.triple)
        subjects = {t.subject for t in triples}
        return cls(len(triples), len({s for s in subjects if _in(s, uri_space)}), len(subjects),
                   {t.predicate.value for t in triples}, {t.object for t in triples if t.predicate == _RDF_TYPE},
                   {g: len(ts) for g, ts in per_graph.items()})


def describe(stats: DataStats, onto: Ontology, source_documents: set[str], *, dataset: str, profile: str,
             content: str, graph: str | None) -> list[ox.Quad]:
    """VoID + DCAT description of a document's data from its counts (:class:`DataStats`)."""
    g = n(str(DESCRIPTION_GRAPH))
    ds = n(dataset)
    out: list[ox.Quad] = []

    def add(s, p, o):
        out.append(ox.Quad(s, n(str(p)) if not isinstance(p, ox.NamedNode) else p, o, g))

    def lit(value, datatype=None, language=None):
        if language:
            return ox.Literal(str(value), language=language)
        return ox.Literal(str(value), datatype=n(str(datatype))) if datatype else ox.Literal(str(value))

    uri_space = str(WD) if profile == "wikidata" else str(ID)
    add(ds, RDF.type, n(str(VOID.Dataset)))
    add(ds, RDF.type, n(str(DCAT.Dataset)))
    add(ds, RDF.type, n(str(SDO.Dataset)))
    what = {"asserted": "asserted triples", "all": "asserted and inferred triples", "inferred": "inferred triples"}[content]
    add(ds, DCTERMS.title, lit(f"explore-kg: {what} ({profile} profile)", language="en"))
    add(ds, DCTERMS.description, lit(
        "A curated knowledge graph of international space exploration: agencies, missions, agreements, "
        "people and events, each fact traced to the source document that states it. "
        + {"core": "Our ontology's terms, with their standard super-classes and super-properties.",
           "schema": "schema.org types and properties only.",
           "wikidata": "Wikidata-shaped statements about entities matched to Wikidata items."}[profile]
        + (" Inferred by OWL 2 RL reasoning, kept apart from the asserted triples." if content != "asserted" else ""),
        language="en"))
    add(ds, DCTERMS.license, n(LICENSE))
    if profile == "schema":
        add(ds, SDO.name, lit(f"explore-kg: {what} ({profile} profile)", language="en"))
        add(ds, SDO.license, n(LICENSE))
    add(ds, DCTERMS.conformsTo, n(ONTOLOGY_IRI))
    if profile == "schema":
        add(ds, DCTERMS.conformsTo, n(str(SDO)))
    add(ds, OWL.versionInfo, lit(__version__))
    if onto.date is not None:
        add(ds, DCTERMS.modified, onto.date)
    for kw in ("space exploration", "international cooperation", "space agencies"):
        add(ds, DCAT.keyword, lit(kw, language="en"))
    add(ds, VOID.triples, lit(stats.triples, XSD.integer))
    add(ds, VOID.entities, lit(stats.entities, XSD.integer))
    add(ds, VOID.distinctSubjects, lit(stats.subjects, XSD.integer))
    add(ds, VOID.properties, lit(len(stats.properties), XSD.integer))
    add(ds, VOID.classes, lit(len(stats.classes), XSD.integer))
    add(ds, VOID.uriSpace, lit(uri_space))
    for ns in sorted(_vocabularies(stats.properties, stats.classes)):
        add(ds, VOID.vocabulary, n(ns))
    sources = sorted(source_documents if graph is None else source_documents & {graph})
    for s in sources:
        add(ds, DCTERMS.source, n(s))
    if content == "inferred":
        add(ds, PROV.wasDerivedFrom, n(dataset_iri(profile, "asserted", graph)))
    # per-graph subsets (in merged formats they still say which graph each part came from)
    for gname in sorted(stats.per_graph):
        sub = n(f"{dataset}#{graph_slug(gname)}")
        add(ds, VOID.subset, sub)
        add(sub, RDF.type, n(str(VOID.Dataset)))
        add(sub, VOID.triples, lit(stats.per_graph[gname], XSD.integer))
        add(sub, n(SD_NAME), n(gname))
        if gname in source_documents:
            add(sub, DCTERMS.source, n(gname))
    # the ontology version, so every export says which ontology its terms mean
    o = n(ONTOLOGY_IRI)
    add(o, RDF.type, n(str(OWL.Ontology)))
    if onto.version_iri is not None:
        add(o, OWL.versionIRI, onto.version_iri)
    add(o, OWL.versionInfo, lit(onto.version_info))
    return out


def _in(t: ox.Term, space: str) -> bool:
    return isinstance(t, ox.NamedNode) and t.value.startswith(space)


_VOCABULARY_NAMESPACES = sorted(
    (str(ns) for name, ns in PREFIXES.items() if not str(ns).startswith(BASE) or ns == EKG), key=len, reverse=True
)


def _vocabularies(properties: Iterable[str], classes: Iterable[ox.Term]) -> set[str]:
    """The namespaces of the properties and classes used (VoID's void:vocabulary)."""
    found = set()
    iris = [*properties, *(c.value for c in classes if isinstance(c, ox.NamedNode))]
    for iri in iris:
        ns = next((ns for ns in _VOCABULARY_NAMESPACES if iri.startswith(ns)), None)
        if ns:
            found.add(ns)
    return found


def dataset_iri(profile: str, content: str, graph: str | None) -> str:
    """The IRI of the void:Dataset a document describes, e.g. dataset/core, dataset/schema-inferred."""
    name = profile + {"asserted": "", "all": "-with-inferred", "inferred": "-inferred"}[content]
    return DATASET + name + (f"/{graph_slug(graph)}" if graph else "")


def inferred_path(path: Path) -> Path:
    """Where a triple-format export puts its inferred triples: explore-kg.ttl -> explore-kg.inferred.ttl."""
    return path.with_name(f"{path.stem}.inferred{path.suffix}")


def run_cli(**options) -> int:
    """The ``explore-kg export`` command (:func:`explore_kg.export_cli.run_cli`)."""
    from .export_cli import run_cli as run

    return run(**options)
