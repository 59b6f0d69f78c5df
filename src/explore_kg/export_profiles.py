"""The export profiles: what ``core``, ``schema`` and ``wikidata`` make of the asserted quads.

Split from :mod:`explore_kg.export` (which re-exports every name here): the tables of mappings, the
ontology's super-terms as far as export needs them, and one function per profile. Each profile is
also given as a per-quad mapper (:class:`SchemaMapper`, :class:`WikidataMapper`, :func:`core_alignment`
of one quad) so the streaming exporter (:mod:`explore_kg.export_streaming`) applies the same rules to
a store it never holds in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from . import __version__
from .namespaces import (
    DCTERMS,
    EKG,
    FOAF,
    GRAPH,
    ID,
    ONTOLOGY_IRI,
    ORG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SDO,
    SKOS,
    SOSA,
    SOURCE,
    VOCAB,
    WD,
    WDT,
    XSD,
)

ALIGNMENT_GRAPH = GRAPH["alignment"]

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


class SchemaMapper:
    """The schema profile one quad at a time: ``overrides`` (subject -> its kind's property mapping) come
    from the rdf:type quads first (:meth:`add_type`); :meth:`things` ends it (untyped nodes: schema:Thing)."""

    def __init__(self, onto: Ontology):
        self.onto = onto
        self.overrides: dict[ox.Term, dict[str, tuple[str, ...]]] = defaultdict(dict)
        self.typed: set[tuple[ox.Term, ox.Term]] = set()
        self.mentioned: dict[tuple[ox.Term, ox.Term], None] = {}
        self._supers: dict[ox.NamedNode, set[ox.NamedNode]] = {}

    def add_type(self, q: ox.Quad) -> None:
        if q.predicate == _RDF_TYPE and isinstance(q.object, ox.NamedNode):
            for c in self.onto.all_supers(q.object) | {q.object}:
                self.overrides[q.subject].update(SCHEMA_PROPERTIES_BY_CLASS.get(c.value, {}))

    def _in_schema(self, term: ox.NamedNode) -> set[ox.NamedNode]:
        found = self._supers.get(term)
        if found is None:
            found = self._supers[term] = self.onto.in_namespace(term, str(SDO))
        return found

    def map(self, q: ox.Quad) -> list[ox.Quad]:
        if not _is_instance(q.subject) or isinstance(q.object, ox.BlankNode):
            return []
        if q.predicate == _RDF_TYPE:
            classes = {n(c) for c in SCHEMA_CLASSES.get(q.object.value, ())} | self._in_schema(q.object)
            if classes:
                self.typed.add((q.subject, q.graph_name))
            return [ox.Quad(q.subject, _RDF_TYPE, c, q.graph_name) for c in classes]
        special = self.overrides.get(q.subject, {})
        if q.predicate.value in special:
            props = {n(p) for p in special[q.predicate.value]}
        elif q.predicate.value in SCHEMA_PROPERTIES:
            props = {n(p) for p in SCHEMA_PROPERTIES[q.predicate.value]}
        else:
            props = self._in_schema(q.predicate)
        if props:
            self.mentioned[(q.subject, q.graph_name)] = None
        return [ox.Quad(q.subject, p, q.object, q.graph_name) for p in props]

    def things(self) -> list[ox.Quad]:
        thing = n(str(SDO.Thing))
        return [ox.Quad(s, _RDF_TYPE, thing, g) for s, g in self.mentioned if (s, g) not in self.typed]


def schema_profile(quads: Iterable[ox.Quad], onto: Ontology) -> list[ox.Quad]:
    """schema.org types and properties only, each triple kept in its graph; untyped nodes are schema:Thing."""
    quads = list(quads)
    mapper = SchemaMapper(onto)
    for q in quads:
        mapper.add_type(q)
    out: list[ox.Quad] = []
    for q in quads:
        out.extend(mapper.map(q))
    return out + mapper.things()


class WikidataMapper:
    """The wikidata profile one quad at a time; ``add_match`` first takes every skos:exactMatch quad."""

    def __init__(self, onto: Ontology):
        self.items: dict[ox.Term, list[ox.NamedNode]] = defaultdict(list)
        self.classes = {c: {n(str(WD) + q)} for c, q in WIKIDATA_CLASSES.items()}
        for c, matches in onto.exact_match.items():
            self.classes.setdefault(c.value, set()).update(m for m in matches if m.value.startswith(str(WD)))
        self.p31 = n(str(WDT) + "P31")

    def add_match(self, q: ox.Quad) -> None:
        if q.predicate == _EXACT_MATCH and isinstance(q.object, ox.NamedNode) and q.object.value.startswith(str(WD)):
            if q.object not in self.items[q.subject]:
                self.items[q.subject].append(q.object)

    def map(self, q: ox.Quad) -> list[ox.Quad]:
        subjects = self.items.get(q.subject)
        if not subjects:
            return []
        values: list[tuple[ox.NamedNode, ox.Term]] = []
        p = q.predicate.value
        if q.predicate == _RDF_TYPE:
            values = [(self.p31, c) for c in self.classes.get(q.object.value, ())]
        elif q.predicate == _LABEL and isinstance(q.object, ox.Literal) and q.object.language:
            values = [(_LABEL, q.object)]
        elif p in WIKIDATA_PROPERTIES:
            values = [(n(str(WDT) + WIKIDATA_PROPERTIES[p]), o) for o in self.items.get(q.object, ())]
        elif p in WIKIDATA_DATES and isinstance(q.object, ox.Literal):
            dt = _wikidata_datetime(q.object)
            values = [(n(str(WDT) + WIKIDATA_DATES[p]), dt)] if dt else []
        out = []
        for item in subjects:
            out.extend(ox.Quad(item, prop, value, q.graph_name) for prop, value in values)
            out.append(ox.Quad(q.subject, _EXACT_MATCH, item, q.graph_name))
        return out


def wikidata_profile(quads: Iterable[ox.Quad], onto: Ontology, context: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Wikidata-shaped statements (wdt:P...) about entities with a skos:exactMatch to a Wikidata item.

    ``context`` holds all loaded quads, where the exactMatch links are looked up.
    """
    mapper = WikidataMapper(onto)
    for q in context:
        mapper.add_match(q)
    out: list[ox.Quad] = []
    for q in quads:
        out.extend(mapper.map(q))
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
