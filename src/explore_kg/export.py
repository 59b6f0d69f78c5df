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
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph as RdfGraph

from . import __version__, writers
from .loading import LoadedData, to_oxigraph, to_rdflib
from .namespaces import (
    BASE,
    DCAT,
    DCTERMS,
    EKG,
    FOAF,
    GRAPH,
    ID,
    INFERRED_GRAPH,
    ONTOLOGY_GRAPH,
    ONTOLOGY_IRI,
    ORG,
    OWL,
    PREFIXES,
    PROV,
    RDF,
    RDFS,
    SDO,
    SKOS,
    SOSA,
    SOURCE,
    VOCAB,
    VOID,
    WD,
    WDT,
    XSD,
)

ALIGNMENT_GRAPH = GRAPH["alignment"]
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

# --- profile tables --------------------------------------------------------------------------------

STANDARD_NAMESPACES = tuple(str(ns) for ns in (SDO, ORG, PROV, SOSA, DCTERMS, FOAF, SKOS))

# schema profile: what the ontology does not say itself. A property listed here maps only as listed;
# any other property maps to its schema.org super-properties in the ontology (or is left out).
SCHEMA_PROPERTIES: dict[str, tuple[str, ...]] = {
    str(RDFS.label): (str(SDO.name),),
    str(SKOS.prefLabel): (str(SDO.name),),
    str(DCTERMS.title): (str(SDO.name),),
    str(EKG.acronym): (str(SDO.alternateName),),
    str(SKOS.altLabel): (str(SDO.alternateName),),
    str(EKG.description): (str(SDO.description),),
    str(DCTERMS.description): (str(SDO.description),),
    str(SKOS.definition): (str(SDO.description),),
    str(SKOS.exactMatch): (str(SDO.sameAs),),
    str(OWL.sameAs): (str(SDO.sameAs),),
    str(EKG.statedIn): (str(SDO.subjectOf),),
    str(EKG.published): (str(SDO.datePublished),),
    str(DCTERMS.language): (str(SDO.inLanguage),),
    str(DCTERMS.publisher): (str(SDO.publisher),),
    str(DCTERMS.creator): (str(SDO.creator),),
    str(EKG.headquarters): (str(SDO.location),),
    str(EKG.member): (str(SDO.member),),
    str(EKG.speaker): (str(SDO.performer),),
    str(EKG.developer): (str(SDO.manufacturer),),
    str(EKG.partOf): (str(SDO.isPartOf),),
    str(SKOS.inScheme): (str(SDO.inDefinedTermSet),),
    str(SKOS.notation): (str(SDO.termCode),),
    # agreements (schema:CreativeWork): when, by whom and where
    str(EKG.signingDate): (str(SDO.dateCreated),),
    str(EKG.party): (str(SDO.creator),),
    str(EKG.signatory): (str(SDO.contributor),),
    str(EKG.declaredAt): (str(SDO.locationCreated),),
    # missions and programmes (schema:Project, an Organization): the agencies
    str(EKG.leadAgency): (str(SDO.parentOrganization), str(SDO.member)),
    str(EKG.participant): (str(SDO.member),),
    str(EKG.operator): (str(SDO.member),),
    str(EKG.launchDate): (str(SDO.startDate),),
    # claims (schema:Claim, a CreativeWork about the subject that appears in the source document)
    str(EKG.claim): (str(SDO.subjectOf),),
    str(EKG.claimSubject): (str(SDO.about),),
    str(EKG.claimValue): (str(SDO.value),),
    str(EKG.qualifier): (str(SDO.keywords),),
    str(EKG.dateQualifier): (str(SDO.keywords),),
    str(EKG.datePrecision): (str(SDO.keywords),),
    str(EKG.basis): (str(SDO.keywords),),
    str(RDFS.comment): (str(SDO.description),),
    str(PROV.wasDerivedFrom): (str(SDO.isBasedOn),),
}
# The same property said another way on some kinds of thing: {class: {property: schema.org properties}}.
SCHEMA_PROPERTIES_BY_CLASS: dict[str, dict[str, tuple[str, ...]]] = {
    str(EKG.Event): {str(EKG.participant): (str(SDO.attendee),), str(EKG.leadAgency): (str(SDO.organizer),)},
    str(EKG.Claim): {str(EKG.statedIn): (str(SDO.appearance),)},
}
SCHEMA_CLASSES: dict[str, tuple[str, ...]] = {
    str(SKOS.Concept): (str(SDO.DefinedTerm),),
    str(SKOS.ConceptScheme): (str(SDO.DefinedTermSet),),
    str(EKG.Position): (str(SDO.OrganizationRole),),
    str(EKG.Claim): (str(SDO.Claim),),
}

# wikidata profile: only mappings we checked against Wikidata's property definitions. An exact
# predicate match is required (no sub-properties); objects must themselves have a Wikidata item.
WIKIDATA_PROPERTIES: dict[str, str] = {
    str(EKG.country): "P17",  # country
    str(EKG.headquarters): "P159",  # headquarters location
    str(EKG.parentOrganisation): "P749",  # parent organization
    str(EKG.partOf): "P361",  # part of
    str(EKG.location): "P276",  # location
    str(EKG.host): "P664",  # organizer
    str(EKG.participant): "P710",  # participant
    str(EKG.operator): "P137",  # operator
    str(EKG.launchVehicle): "P375",  # space launch vehicle
    str(EKG.target): "P1444",  # destination point
}
# Dates: Wikidata's truthy statements hold an xsd:dateTime; a year or month becomes its first day.
WIKIDATA_DATES: dict[str, str] = {
    str(EKG.launchDate): "P619",  # UTC date of spacecraft launch
    str(EKG.startDate): "P580",  # start time
    str(EKG.endDate): "P582",  # end time
    str(EKG.date): "P585",  # point in time
}
# P31 (instance of) for our classes; classes with a skos:exactMatch to a Wikidata item are added.
WIKIDATA_CLASSES: dict[str, str] = {
    str(EKG.Person): "Q5",  # human
    str(EKG.Country): "Q6256",  # country
    str(EKG.City): "Q515",  # city
}

_RDF_TYPE = ox.NamedNode(str(RDF.type))
_SUBCLASS = ox.NamedNode(str(RDFS.subClassOf))
_SUBPROPERTY = ox.NamedNode(str(RDFS.subPropertyOf))
_EXACT_MATCH = ox.NamedNode(str(SKOS.exactMatch))
_LABEL = ox.NamedNode(str(RDFS.label))
_SOURCE_DOCUMENT = ox.NamedNode(str(EKG.SourceDocument))
_INSTANCE_SPACES = (str(ID), str(VOCAB), str(SOURCE))
_DATE_TYPES = {str(XSD.date), str(XSD.gYearMonth), str(XSD.gYear), str(XSD.dateTime)}


def n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def graph_slug(iri: str) -> str:
    """The short name of a graph: a source's slug, ``ontology``, ``inferred``... or the file name."""
    for space in (str(SOURCE), str(GRAPH)):
        if iri.startswith(space):
            return iri[len(space):]
    return iri.rstrip("/").rsplit("/", 1)[-1]


# --- the ontology, as far as export needs it -------------------------------------------------------


class Ontology:
    """Super-terms and version information read from the ontology graph."""

    def __init__(self, quads: Iterable[ox.Quad]):
        self.supers: dict[ox.NamedNode, set[ox.NamedNode]] = defaultdict(set)
        self.exact_match: dict[ox.NamedNode, set[ox.NamedNode]] = defaultdict(set)
        self.facts: dict[ox.NamedNode, ox.Term] = {}
        onto = n(ONTOLOGY_IRI)
        for q in quads:
            if q.predicate in (_SUBCLASS, _SUBPROPERTY) and isinstance(q.object, ox.NamedNode):
                self.supers[q.subject].add(q.object)
            elif q.predicate == _EXACT_MATCH and isinstance(q.object, ox.NamedNode):
                self.exact_match[q.subject].add(q.object)
            if q.subject == onto:
                self.facts.setdefault(q.predicate, q.object)

    def all_supers(self, term: ox.NamedNode) -> set[ox.NamedNode]:
        """Every super-class or super-property of term (transitively), not term itself."""
        seen: set[ox.NamedNode] = set()
        todo = list(self.supers.get(term, ()))
        while todo:
            t = todo.pop()
            if t not in seen and t != term:
                seen.add(t)
                todo.extend(self.supers.get(t, ()))
        return seen

    def standard_supers(self, term: ox.NamedNode) -> set[ox.NamedNode]:
        return {s for s in self.all_supers(term) if s.value.startswith(STANDARD_NAMESPACES)}

    def in_namespace(self, term: ox.NamedNode, namespace: str) -> set[ox.NamedNode]:
        return {s for s in self.all_supers(term) | {term} if s.value.startswith(namespace)}

    @property
    def version_iri(self) -> ox.NamedNode | None:
        v = self.facts.get(n(str(OWL.versionIRI)))
        return v if isinstance(v, ox.NamedNode) else None

    @property
    def version_info(self) -> str:
        v = self.facts.get(n(str(OWL.versionInfo)))
        return v.value if isinstance(v, ox.Literal) else __version__

    @property
    def date(self) -> ox.Literal | None:
        """The ontology's last modification (or creation) date: the export's date, never the clock."""
        for p in (DCTERMS.modified, DCTERMS.issued, DCTERMS.created):
            v = self.facts.get(n(str(p)))
            if isinstance(v, ox.Literal):
                return v
        return None


# --- profiles ------------------------------------------------------------------------------------------


def _is_instance(t: ox.Term) -> bool:
    return isinstance(t, ox.NamedNode) and t.value.startswith(_INSTANCE_SPACES)


def core_alignment(quads: Iterable[ox.Quad], onto: Ontology) -> list[ox.Quad]:
    """The standard super-types and super-properties of asserted triples, in graph/alignment."""
    g = n(str(ALIGNMENT_GRAPH))
    out = []
    for q in quads:
        if q.predicate == _RDF_TYPE and isinstance(q.object, ox.NamedNode):
            out.extend(ox.Quad(q.subject, _RDF_TYPE, c, g) for c in onto.standard_supers(q.object))
        else:
            out.extend(ox.Quad(q.subject, p, q.object, g) for p in onto.standard_supers(q.predicate))
    return out


def schema_profile(quads: Iterable[ox.Quad], onto: Ontology) -> list[ox.Quad]:
    """schema.org types and properties only, each triple kept in its graph; untyped nodes are schema:Thing."""
    schema = str(SDO)
    out: list[ox.Quad] = []
    typed: set[tuple[ox.Term, ox.Term]] = set()
    mentioned: dict[tuple[ox.Term, ox.Term], None] = {}
    quads = list(quads)
    overrides: dict[ox.Term, dict[str, tuple[str, ...]]] = defaultdict(dict)  # subject -> its kind's mapping
    for q in quads:
        if q.predicate == _RDF_TYPE and isinstance(q.object, ox.NamedNode):
            for c in onto.all_supers(q.object) | {q.object}:
                overrides[q.subject].update(SCHEMA_PROPERTIES_BY_CLASS.get(c.value, {}))
    for q in quads:
        if not _is_instance(q.subject) or isinstance(q.object, ox.BlankNode):
            continue
        if q.predicate == _RDF_TYPE:
            classes = {n(c) for c in SCHEMA_CLASSES.get(q.object.value, ())} | onto.in_namespace(q.object, schema)
            out.extend(ox.Quad(q.subject, _RDF_TYPE, c, q.graph_name) for c in classes)
            if classes:
                typed.add((q.subject, q.graph_name))
            continue
        special = overrides.get(q.subject, {})
        if q.predicate.value in special:
            props = {n(p) for p in special[q.predicate.value]}
        elif q.predicate.value in SCHEMA_PROPERTIES:
            props = {n(p) for p in SCHEMA_PROPERTIES[q.predicate.value]}
        else:
            props = onto.in_namespace(q.predicate, schema)
        if props:
            out.extend(ox.Quad(q.subject, p, q.object, q.graph_name) for p in props)
            mentioned[(q.subject, q.graph_name)] = None
    thing = n(str(SDO.Thing))
    out.extend(ox.Quad(s, _RDF_TYPE, thing, g) for s, g in mentioned if (s, g) not in typed)
    return out


def wikidata_profile(quads: Iterable[ox.Quad], onto: Ontology, context: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Wikidata-shaped statements (wdt:P...) about entities with a skos:exactMatch to a Wikidata item.

    ``context`` holds all loaded quads, where the exactMatch links are looked up.
    """
    items: dict[ox.Term, list[ox.NamedNode]] = defaultdict(list)
    for q in context:
        if q.predicate == _EXACT_MATCH and isinstance(q.object, ox.NamedNode) and q.object.value.startswith(str(WD)):
            if q.object not in items[q.subject]:
                items[q.subject].append(q.object)
    classes = {c: {n(str(WD) + q)} for c, q in WIKIDATA_CLASSES.items()}
    for c, matches in onto.exact_match.items():
        classes.setdefault(c.value, set()).update(m for m in matches if m.value.startswith(str(WD)))
    p31 = n(str(WDT) + "P31")
    out: list[ox.Quad] = []
    for q in quads:
        subjects = items.get(q.subject)
        if not subjects:
            continue
        values: list[tuple[ox.NamedNode, ox.Term]] = []
        p = q.predicate.value
        if q.predicate == _RDF_TYPE:
            values = [(p31, c) for c in classes.get(q.object.value, ())]
        elif q.predicate == _LABEL and isinstance(q.object, ox.Literal) and q.object.language:
            values = [(_LABEL, q.object)]
        elif p in WIKIDATA_PROPERTIES:
            values = [(n(str(WDT) + WIKIDATA_PROPERTIES[p]), o) for o in items.get(q.object, ())]
        elif p in WIKIDATA_DATES and isinstance(q.object, ox.Literal):
            dt = _wikidata_datetime(q.object)
            values = [(n(str(WDT) + WIKIDATA_DATES[p]), dt)] if dt else []
        for item in subjects:
            out.extend(ox.Quad(item, prop, value, q.graph_name) for prop, value in values)
            out.append(ox.Quad(q.subject, _EXACT_MATCH, item, q.graph_name))
    return out


def _wikidata_datetime(lit: ox.Literal) -> ox.Literal | None:
    dt = lit.datatype.value
    if dt not in _DATE_TYPES:
        return None  # e.g. a Japanese fiscal year: Wikidata has no such calendar
    if dt == str(XSD.dateTime):
        return lit
    value = lit.value
    parts = value.split("-")
    if dt == str(XSD.gYear):
        value = f"{value}-01-01"
    elif dt == str(XSD.gYearMonth):
        value = f"{value}-01"
    elif len(parts) != 3:
        return None
    return ox.Literal(value[:10] + "T00:00:00Z", datatype=n(str(XSD.dateTime)))


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
        g = n(str(DESCRIPTION_GRAPH))
        ds = n(dataset)
        out: list[ox.Quad] = []

        def add(s, p, o):
            out.append(ox.Quad(s, n(str(p)) if not isinstance(p, ox.NamedNode) else p, o, g))

        def lit(value, datatype=None, language=None):
            if language:
                return ox.Literal(str(value), language=language)
            return ox.Literal(str(value), datatype=n(str(datatype))) if datatype else ox.Literal(str(value))

        onto = self.ontology
        triples = {q.triple for q in data}
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
        add(ds, VOID.triples, lit(len(triples), XSD.integer))
        add(ds, VOID.entities, lit(len({t.subject for t in triples if _in(t.subject, uri_space)}), XSD.integer))
        add(ds, VOID.distinctSubjects, lit(len({t.subject for t in triples}), XSD.integer))
        add(ds, VOID.properties, lit(len({t.predicate for t in triples}), XSD.integer))
        add(ds, VOID.classes, lit(len({t.object for t in triples if t.predicate == _RDF_TYPE}), XSD.integer))
        add(ds, VOID.uriSpace, lit(uri_space))
        for ns in sorted(_vocabularies(triples)):
            add(ds, VOID.vocabulary, n(ns))
        sources = sorted(self.source_documents if graph is None else self.source_documents & {graph})
        for s in sources:
            add(ds, DCTERMS.source, n(s))
        if content == "inferred":
            add(ds, PROV.wasDerivedFrom, n(dataset_iri(profile, "asserted", graph)))
        # per-graph subsets (in merged formats they still say which graph each part came from)
        per_graph: dict[str, set] = defaultdict(set)
        for q in data:
            if isinstance(q.graph_name, ox.NamedNode):
                per_graph[q.graph_name.value].add(q.triple)
        for gname in sorted(per_graph):
            sub = n(f"{dataset}#{graph_slug(gname)}")
            add(ds, VOID.subset, sub)
            add(sub, RDF.type, n(str(VOID.Dataset)))
            add(sub, VOID.triples, lit(len(per_graph[gname]), XSD.integer))
            add(sub, n(SD_NAME), n(gname))
            if gname in self.source_documents:
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


def _vocabularies(triples: Iterable[ox.Triple]) -> set[str]:
    """The namespaces of the properties and classes used (VoID's void:vocabulary)."""
    found = set()
    for t in triples:
        terms = [t.predicate] + ([t.object] if t.predicate == _RDF_TYPE and isinstance(t.object, ox.NamedNode) else [])
        for term in terms:
            ns = next((ns for ns in _VOCABULARY_NAMESPACES if term.value.startswith(ns)), None)
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


def run_cli(*, fmt: str, inferred: bool, graph: str | None, profile: str, output: str | None,
            store: dict | None = None) -> int:
    """The ``explore-kg export`` command: write the document(s), report errors plainly; returns the exit status."""
    import sys

    from .loading import LoadError, load

    fmt, profile = fmt.lower(), profile.lower()
    rdf_format = FORMATS.get(fmt) or FORMAT_BY_EXTENSION.get(fmt)
    try:
        if rdf_format is None:
            raise ExportError(f"unknown format {fmt!r}; known formats: {', '.join(FORMATS)}")
        if inferred and not rdf_format.quads and not output:
            raise ExportError(
                f"--inferred with {rdf_format.name} writes the inferred triples to a second file: give -o FILE, "
                "or use --format trig or nquads to get them in their own named graph on standard output")
        if store:  # --store URL: the same documents from the quads in an external store
            from .store.remote import StoreUnavailable, stored_data

            try:
                exporter = Exporter(stored_data(store))
            except StoreUnavailable as e:
                print(f"explore-kg export: {e.message}", file=sys.stderr)
                return 3
        else:
            exporter = Exporter(load())
        content = "all" if inferred and rdf_format.quads else "asserted"
        main = exporter.document(rdf_format.name, content=content, graph=graph, profile=profile)
        extra = (exporter.document(rdf_format.name, content="inferred", graph=graph, profile=profile)
                 if inferred and not rdf_format.quads else None)
    except (ExportError, LoadError) as e:
        print(f"explore-kg export: {e}", file=sys.stderr)
        return 2
    if not output or output == "-":
        sys.stdout.buffer.write(main.data)
        sys.stdout.buffer.flush()
        return 0
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(main.data)
    print(f"wrote {path} ({main.triples} triples, {len(main.data)} bytes)", file=sys.stderr)
    if extra is not None:
        side = inferred_path(path)
        side.write_bytes(extra.data)
        print(f"wrote {side} ({extra.triples} inferred triples, {len(extra.data)} bytes)", file=sys.stderr)
    return 0
