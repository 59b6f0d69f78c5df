"""The ontology's HTML documentation, generated from the ontology itself (and a few triples of the data
per term): what ``/ontology`` shows a browser, one section per kind of term and an anchor per term, so
``https://w3id.org/explore-kg/ontology#Mission`` lands on the class.

:func:`document` turns the ontology graph into the template's context (pure, testable without a
server); :mod:`explore_kg.ontology_http` fetches the graph and the examples through the server's engine
and renders ``templates/ontology_docs.html``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, SKOS

from .namespaces import BASE, EKG, ONTOLOGY_IRI, compact

VANN = Namespace("http://purl.org/vocab/vann/")
SCHEMA = Namespace("https://schema.org/")

SECTIONS = (
    ("classes", "Classes", OWL.Class),
    ("object-properties", "Object properties", OWL.ObjectProperty),
    ("datatype-properties", "Datatype properties", OWL.DatatypeProperty),
    ("other-properties", "Other properties", RDF.Property),
    ("annotation-properties", "Annotation properties", OWL.AnnotationProperty),
    ("datatypes", "Datatypes", RDFS.Datatype),
)
# The standard vocabularies the ontology aligns to, by namespace.
VOCABULARIES = {
    "https://schema.org/": "schema.org",
    "http://www.w3.org/ns/org#": "W3C ORG",
    "http://www.w3.org/ns/prov#": "PROV-O",
    "http://www.w3.org/ns/sosa/": "SOSA",
    "http://www.w3.org/2006/time#": "OWL-Time",
    "http://purl.org/dc/terms/": "DCTERMS",
    "http://www.w3.org/2004/02/skos/core#": "SKOS",
    "http://xmlns.com/foaf/0.1/": "FOAF",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "RDF",
    "http://www.w3.org/2000/01/rdf-schema#": "RDFS",
    "http://www.w3.org/2001/XMLSchema#": "XSD",
}
# How a term relates to another vocabulary's, in the words the page uses.
ALIGNMENTS = (
    (RDFS.subClassOf, "sub-class of"), (RDFS.subPropertyOf, "sub-property of"),
    (OWL.equivalentClass, "equivalent to"), (OWL.equivalentProperty, "equivalent to"),
    (SKOS.exactMatch, "exact match"), (SKOS.closeMatch, "close match"), (SKOS.broadMatch, "broader match"),
    (SKOS.narrowMatch, "narrower match"), (SKOS.relatedMatch, "related match"),
)
EXAMPLES_PER_TERM = 3


@dataclass
class Link:
    label: str
    href: str | None
    title: str | None = None
    vocabulary: str | None = None


@dataclass
class Term:
    iri: str
    anchor: str
    curie: str
    label: str
    kind: str
    definition: str | None = None
    comment: str | None = None
    deprecated: bool = False
    supers: list[Link] = field(default_factory=list)
    subs: list[Link] = field(default_factory=list)
    domain: list[Link] = field(default_factory=list)
    range: list[Link] = field(default_factory=list)
    domain_includes: list[Link] = field(default_factory=list)
    range_includes: list[Link] = field(default_factory=list)
    inverse: list[Link] = field(default_factory=list)
    characteristics: list[str] = field(default_factory=list)
    disjoint: list[Link] = field(default_factory=list)
    alignment: list[tuple[str, Link]] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)  # skos:example of the ontology
    data_examples: list[tuple[Link, str, Link]] = field(default_factory=list)  # (s, p, o) from the data


Example = tuple[str, str, Mapping]  # subject IRI, predicate IRI, object as a SPARQL JSON term


def vocabulary_of(iri: str) -> str | None:
    return next((name for ns, name in VOCABULARIES.items() if iri.startswith(ns)), None)


def document(graph: Graph, examples: Mapping[str, Sequence[Example]] | None = None,
             label_of: Callable[[str], str] | None = None, local: Callable[[str], str | None] | None = None) -> dict:
    """The template context: the ontology's metadata, its terms by section, and the alignment summary.

    ``examples`` maps a term's IRI to a few data triples using it; ``label_of`` names a data entity;
    ``local`` gives the path this server shows an IRI of our namespace at.
    """
    examples = examples or {}
    name = label_of or compact
    where = local or (lambda iri: None)
    onto = URIRef(ONTOLOGY_IRI)
    ns = str(EKG)

    def text(node, *props) -> str | None:
        for p in props:
            values = [v for v in graph.objects(node, p) if isinstance(v, Literal)]
            english = [v for v in values if v.language in ("en", None)]
            if english or values:
                return str((english or values)[0])
        return None

    def link(node) -> Link:
        iri = str(node)
        if iri.startswith(ns):
            local_name = iri[len(ns):]
            return Link(text(node, RDFS.label) or local_name, "#" + local_name, compact(iri))
        if isinstance(node, Literal):
            return Link(str(node), None)
        if iri.startswith(BASE):
            return Link(name(iri), where(iri), iri)
        return Link(compact(iri), iri if iri.startswith(("http://", "https://")) else None, iri, vocabulary_of(iri))

    def links(subject, prop, inverse: bool = False) -> list[Link]:
        nodes = graph.subjects(prop, subject) if inverse else graph.objects(subject, prop)
        return sorted((link(n) for n in set(nodes) if isinstance(n, URIRef)), key=lambda lk: lk.label.lower())

    sections, alignment_count, seen = [], {}, set()
    for anchor, title, kind in SECTIONS:
        terms = []
        for t in sorted({s for s in graph.subjects(RDF.type, kind) if str(s).startswith(ns)} - seen, key=str):
            seen.add(t)
            local_name = str(t)[len(ns):]
            hierarchy = RDFS.subPropertyOf if kind not in (OWL.Class, RDFS.Datatype) else RDFS.subClassOf
            term = Term(str(t), local_name, "ekg:" + local_name, text(t, RDFS.label, SKOS.prefLabel) or local_name,
                        title[:-1].lower() if title.endswith("s") else title.lower(),
                        definition=text(t, SKOS.definition), comment=text(t, RDFS.comment),
                        deprecated=any(str(v).lower() in ("true", "1") for v in graph.objects(t, OWL.deprecated)))
            term.supers = [lk for lk in links(t, hierarchy) if lk.href and lk.href.startswith("#")]
            term.subs = links(t, hierarchy, inverse=True)
            term.domain, term.range = links(t, RDFS.domain), links(t, RDFS.range)
            term.domain_includes, term.range_includes = links(t, SCHEMA.domainIncludes), links(t, SCHEMA.rangeIncludes)
            term.inverse = links(t, OWL.inverseOf) + links(t, OWL.inverseOf, inverse=True)
            term.disjoint = links(t, OWL.disjointWith) + links(t, OWL.disjointWith, inverse=True)
            term.characteristics = sorted(str(k).rsplit("#", 1)[-1] for k in graph.objects(t, RDF.type)
                                          if k in (OWL.TransitiveProperty, OWL.SymmetricProperty))
            for prop, words in ALIGNMENTS:
                for target in links(t, prop):
                    if target.vocabulary:
                        term.alignment.append((words, target))
                        alignment_count[target.vocabulary] = alignment_count.get(target.vocabulary, 0) + 1
            term.examples = sorted(str(v) for v in graph.objects(t, SKOS.example))
            for s, p, o in examples.get(str(t), ())[:EXAMPLES_PER_TERM]:
                obj = (link(URIRef(o["value"])) if o["type"] == "uri" else
                       Link(o["value"] if len(o["value"]) <= 80 else o["value"][:77] + "...", None,
                            o.get("datatype") and compact(o["datatype"])))
                term.data_examples.append((link(URIRef(s)), "a" if p == str(RDF.type) else compact(p), obj))
            terms.append(term)
        if terms:
            sections.append({"anchor": anchor, "title": title,
                             "terms": sorted(terms, key=lambda term: term.anchor.lower())})

    version_iri = graph.value(onto, OWL.versionIRI)
    about = {
        "iri": ONTOLOGY_IRI,
        "title": text(onto, DCTERMS.title, RDFS.label) or "explore-kg ontology",
        "description": text(onto, DCTERMS.description),
        "version": text(onto, OWL.versionInfo),
        "version_iri": str(version_iri) if version_iri else None,
        "prior_version": str(graph.value(onto, OWL.priorVersion) or "") or None,
        "license": str(graph.value(onto, DCTERMS.license) or "") or None,
        "creator": text(onto, DCTERMS.creator),
        "publisher": text(onto, DCTERMS.publisher),
        "created": text(onto, DCTERMS.created),
        "issued": text(onto, DCTERMS.issued),
        "modified": text(onto, DCTERMS.modified),
        "citation": text(onto, DCTERMS.bibliographicCitation),
        "history": text(onto, SKOS.historyNote),
        "prefix": text(onto, VANN.preferredNamespacePrefix),
        "namespace": text(onto, VANN.preferredNamespaceUri),
    }
    return {"about": about, "sections": sections,
            "alignment": sorted(alignment_count.items(), key=lambda kv: (-kv[1], kv[0])),
            "term_count": sum(len(s["terms"]) for s in sections)}


def version_path(version_iri: str | None) -> str | None:
    """Where this server answers the versioned ontology IRI (``/ontology/0.2.0``)."""
    if not version_iri or not version_iri.startswith(ONTOLOGY_IRI + "/"):
        return None
    return "/ontology/" + version_iri[len(ONTOLOGY_IRI) + 1:]
