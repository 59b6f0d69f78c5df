"""The checks the field runs on a published ontology, offline: FOOPS!-style metadata (is it findable,
citable, licensed, versioned, and is every term labelled and defined?), the OntPub SHACL profile (the
profile pyLODE's ``ontpub`` mode documents) with pySHACL, and an OOPS!-style scan of the pitfalls that
apply to an OWL 2 RL ontology.

``python -m explore_kg.ontology_checks ontology/explore-kg.ttl`` prints each check with pass/fail and
exits 1 when one fails (2 for a file that is missing or does not parse). ``--markdown`` prints the
table that docs/ontology-checks.md holds (a test keeps the two the same).

Each check reads the ontology file alone (not the SKOS vocabularies, not the data) and returns the list
of problems it found, each one line naming the term, so a failing run says what to fix.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, SKOS, XSD

PROFILE_FILE = Path(__file__).resolve().parent / "shipped" / "ontpub-validator.shacl.ttl"
VANN = Namespace("http://purl.org/vocab/vann/")
SCHEMA = Namespace("https://schema.org/")
SH = Namespace("http://www.w3.org/ns/shacl#")

PROPERTY_KINDS = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property)
TERM_KINDS = (OWL.Class, RDFS.Datatype, *PROPERTY_KINDS)
# Ranges of datatype properties that need not be stated: a date property takes any of four date types.
_W3C = (str(RDF), str(RDFS), str(OWL), str(XSD))
# OWL constructs outside what this project allows: owlrl turns "at most one" into owl:sameAs.
_NOT_RL_SAFE = (OWL.FunctionalProperty, OWL.InverseFunctionalProperty, OWL.maxCardinality, OWL.cardinality,
                OWL.maxQualifiedCardinality, OWL.qualifiedCardinality, OWL.minCardinality, OWL.unionOf,
                OWL.complementOf, OWL.someValuesFrom, OWL.hasKey)


@dataclass(frozen=True)
class Check:
    id: str
    family: str  # "FOOPS!", "OntPub" or "OOPS!"
    title: str
    run: Callable[[Ontology], list[str]]


class Ontology:
    """The ontology graph, its IRI and its own terms (those in its namespace)."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.iri = next((s for s in graph.subjects(RDF.type, OWL.Ontology) if isinstance(s, URIRef)), None)
        ns = graph.value(self.iri, VANN.preferredNamespaceUri) if self.iri is not None else None
        self.namespace = str(ns) if ns is not None else (str(self.iri) + "#" if self.iri is not None else "")
        prefix = graph.value(self.iri, VANN.preferredNamespacePrefix) if self.iri is not None else None
        self.prefix = str(prefix) if prefix is not None else None

    def own(self, term) -> bool:
        return isinstance(term, URIRef) and bool(self.namespace) and str(term).startswith(self.namespace)

    def terms(self, *kinds: URIRef) -> list[URIRef]:
        kinds = kinds or TERM_KINDS
        return sorted({t for k in kinds for t in self.graph.subjects(RDF.type, k) if self.own(t)}, key=str)

    def classes(self) -> list[URIRef]:
        return self.terms(OWL.Class)

    def properties(self) -> list[URIRef]:
        return self.terms(OWL.ObjectProperty, OWL.DatatypeProperty, RDF.Property)

    def name(self, term) -> str:
        s = str(term)
        if self.prefix and self.namespace and s.startswith(self.namespace):
            return f"{self.prefix}:{s[len(self.namespace):]}"
        return f"<{s}>"

    def header(self, *props: URIRef) -> list:
        return [o for p in props for o in self.graph.objects(self.iri, p)] if self.iri is not None else []


def load(path: Path | str) -> Ontology:
    return Ontology(Graph().parse(str(path), format="turtle" if str(path).endswith(".ttl") else None))


# --- FOOPS!-style metadata ------------------------------------------------------------------------


def _needs(onto: Ontology, what: str, *props: URIRef, kind: type | None = None) -> list[str]:
    if onto.iri is None:
        return ["no owl:Ontology with an IRI: nothing to describe"]
    values = onto.header(*props)
    names = " or ".join(onto.graph.namespace_manager.normalizeUri(p) for p in props)
    if not values:
        return [f"the ontology has no {what} ({names})"]
    if kind is not None and not any(isinstance(v, kind) for v in values):
        return [f"the ontology's {what} ({names}) should be {'an IRI' if kind is URIRef else 'a literal'}"]
    return []


def ontology_iri(onto: Ontology) -> list[str]:
    if onto.iri is None:
        return ["no owl:Ontology with an IRI"]
    iri = str(onto.iri)
    if not iri.startswith("https://w3id.org/") and not iri.startswith("http://purl.org/"):
        return [f"the ontology IRI {iri} is not a persistent one (w3id.org or purl.org)"]
    return []


def version(onto: Ontology) -> list[str]:
    out = _needs(onto, "version IRI", OWL.versionIRI, kind=URIRef) + _needs(onto, "version", OWL.versionInfo)
    if out:
        return out
    version_iri, info = str(onto.header(OWL.versionIRI)[0]), str(onto.header(OWL.versionInfo)[0])
    if version_iri == str(onto.iri):
        return ["owl:versionIRI is the ontology IRI itself: a version IRI names one version"]
    if not version_iri.endswith(info):
        return [f"owl:versionIRI {version_iri} does not end with owl:versionInfo {info!r}"]
    return []


def dates(onto: Ontology) -> list[str]:
    out = []
    for prop, what in ((DCTERMS.created, "creation date"), (DCTERMS.issued, "issue date"),
                       (DCTERMS.modified, "modification date")):
        values = onto.header(prop)
        if not values:
            out.append(f"the ontology has no {what} (dcterms:{prop.rsplit('/', 1)[-1]})")
        elif not all(isinstance(v, Literal) and v.datatype in (XSD.date, XSD.dateTime) for v in values):
            out.append(f"dcterms:{prop.rsplit('/', 1)[-1]} must be an xsd:date or xsd:dateTime")
    return out


def namespace(onto: Ontology) -> list[str]:
    out = _needs(onto, "preferred prefix", VANN.preferredNamespacePrefix) + \
        _needs(onto, "preferred namespace", VANN.preferredNamespaceUri)
    if out:
        return out
    ns = str(onto.header(VANN.preferredNamespaceUri)[0])
    if not ns.startswith(str(onto.iri)):
        out.append(f"the preferred namespace {ns} is not under the ontology IRI {onto.iri}")
    if not onto.terms():
        out.append(f"no term of the ontology is in its preferred namespace {ns}")
    return out


def term_labels(onto: Ontology) -> list[str]:
    out = []
    for t in onto.terms():
        labels = [v for v in onto.graph.objects(t, RDFS.label) if isinstance(v, Literal)]
        if not labels:
            out.append(f"{onto.name(t)} has no rdfs:label")
        elif not any(v.language == "en" for v in labels):
            out.append(f"{onto.name(t)} has no English rdfs:label (@en)")
    return out


def term_definitions(onto: Ontology) -> list[str]:
    return [f"{onto.name(t)} has no definition (skos:definition or rdfs:comment)" for t in onto.terms()
            if not any(isinstance(v, Literal) and str(v).strip()
                       for p in (SKOS.definition, RDFS.comment) for v in onto.graph.objects(t, p))]


def defined_by(onto: Ontology) -> list[str]:
    return [f"{onto.name(t)} has no rdfs:isDefinedBy <{onto.iri}>" for t in onto.terms()
            if (t, RDFS.isDefinedBy, onto.iri) not in onto.graph]


# --- OntPub SHACL profile -------------------------------------------------------------------------


def ontpub(onto: Ontology) -> list[str]:
    """Violations of the OntPub profile (its warnings, such as "SHOULD give an example", are not failures)."""
    import pyshacl

    profile = Graph().parse(PROFILE_FILE, format="turtle")
    _conforms, report, _text = pyshacl.validate(onto.graph, shacl_graph=profile, advanced=True)
    out = set()
    for result in report.subjects(RDF.type, SH.ValidationResult):
        if report.value(result, SH.resultSeverity) != SH.Violation:
            continue
        focus = report.value(result, SH.focusNode)
        shape = report.value(result, SH.sourceShape)
        rule = str(shape).rsplit("/", 1)[-1] if isinstance(shape, URIRef) else ""
        message = str(report.value(result, SH.resultMessage) or "")
        if isinstance(shape, URIRef) and profile.value(shape, SH.message):
            message = str(profile.value(shape, SH.message))
        elif rule in _UNWORDED or message.startswith("Node ") or not message:
            message = _UNWORDED.get(rule, f"does not meet OntPub requirement {rule or '(unnamed)'}")
        out.add(f"{onto.name(focus)}: {message} [OntPub {rule}]" if rule else f"{onto.name(focus)}: {message}")
    return sorted(out)


# Requirements whose shape carries no sh:message in the profile (pySHACL's own text names blank shapes).
_UNWORDED = {
    "2.2.2": "Requirement 2.2.2: each element MUST have a definition: skos:definition (language-tagged text) "
             "or schema:description",
    "2.1.7": "Requirement 2.1.7: the ontology MUST name a creator and a publisher (schema:creator, "
             "schema:publisher), each an agent IRI typed schema:Organization or schema:Person",
}


def ontpub_warnings(onto: Ontology) -> dict[str, int]:
    """How many results of each OntPub warning (shown in the docs, not failures)."""
    import pyshacl

    profile = Graph().parse(PROFILE_FILE, format="turtle")
    _c, report, _t = pyshacl.validate(onto.graph, shacl_graph=profile, advanced=True)
    counts: dict[str, int] = defaultdict(int)
    for result in report.subjects(RDF.type, SH.ValidationResult):
        if report.value(result, SH.resultSeverity) == SH.Warning:
            text = str(report.value(result, SH.resultMessage) or "")
            match = re.search(r"Requirement (2\.\d+\.\d+)", text) or re.search(r"req/(2\.\d+\.\d+)",
                                                                                str(report.value(result, SH.sourceShape)))
            counts[match.group(1) if match else "other"] += 1
    return dict(sorted(counts.items()))


# --- OOPS!-style pitfalls -------------------------------------------------------------------------


def _domain(onto: Ontology, p: URIRef) -> list:
    return [*onto.graph.objects(p, RDFS.domain), *onto.graph.objects(p, SCHEMA.domainIncludes)]


def _range(onto: Ontology, p: URIRef) -> list:
    return [*onto.graph.objects(p, RDFS.range), *onto.graph.objects(p, SCHEMA.rangeIncludes)]


def _with_supers(onto: Ontology, p: URIRef, get) -> list:
    """The property's own domain (or range), or else the nearest super-property's."""
    seen, todo = {p}, [p]
    while todo:
        q = todo.pop(0)
        found = get(onto, q)
        if found:
            return found
        for sup in onto.graph.objects(q, RDFS.subPropertyOf):
            if sup not in seen and onto.own(sup):
                seen.add(sup)
                todo.append(sup)
    return []


def missing_domain_or_range(onto: Ontology) -> list[str]:
    """P11: every object and datatype property says what it links (rdfs:domain/range, or, where an OWL RL
    domain would type too much, schema:domainIncludes/rangeIncludes), itself or through a super-property."""
    out = []
    for p in onto.terms(OWL.ObjectProperty, OWL.DatatypeProperty):
        missing = [what for what, get in (("domain", _domain), ("range", _range)) if not _with_supers(onto, p, get)]
        if missing:
            out.append(f"{onto.name(p)} has no {' and no '.join(missing)} (rdfs:{missing[0]} or "
                       f"schema:{missing[0]}Includes)")
    return out


def multiple_domains_or_ranges(onto: Ontology) -> list[str]:
    """P19: two rdfs:domain (or rdfs:range) axioms mean the intersection, rarely what was meant."""
    out = []
    for p in onto.properties():
        for prop in (RDFS.domain, RDFS.range):
            values = sorted(onto.graph.objects(p, prop), key=str)
            if len(values) > 1:
                out.append(f"{onto.name(p)} has {len(values)} rdfs:{prop.rsplit('#', 1)[-1]} axioms "
                           f"({', '.join(onto.name(v) for v in values)}): a thing would have to be all of them")
    return out


def inverses(onto: Ontology) -> list[str]:
    """P05/P25: a declared inverse exists, is not the property itself, and domains and ranges mirror."""
    out = []
    g = onto.graph
    for a, b in sorted(g.subject_objects(OWL.inverseOf), key=str):
        if a == b:
            out.append(f"{onto.name(a)} is declared the inverse of itself (use owl:SymmetricProperty)")
            continue
        for p in (a, b):
            if onto.own(p) and not any((p, RDF.type, k) in g for k in PROPERTY_KINDS):
                out.append(f"{onto.name(p)} is declared in owl:inverseOf but is not a declared property")
        for x, y, left, right in ((a, b, RDFS.domain, RDFS.range), (a, b, RDFS.range, RDFS.domain)):
            dx, ry = set(g.objects(x, left)), set(g.objects(y, right))
            if dx and ry and dx != ry:
                out.append(f"{onto.name(x)} owl:inverseOf {onto.name(y)}, but the {left.rsplit('#', 1)[-1]} of one "
                           f"({', '.join(sorted(onto.name(v) for v in dx))}) is not the {right.rsplit('#', 1)[-1]} of "
                           f"the other ({', '.join(sorted(onto.name(v) for v in ry))})")
    for p in sorted(g.subjects(RDF.type, OWL.SymmetricProperty), key=str):
        d, r = set(g.objects(p, RDFS.domain)), set(g.objects(p, RDFS.range))
        if d and r and d != r:
            out.append(f"{onto.name(p)} is symmetric but its domain and range differ (P28)")
    return out


def hierarchy_cycles(onto: Ontology) -> list[str]:
    """P06: no class is (through rdfs:subClassOf) a subclass of itself; the same for properties."""
    out = []
    for prop, what in ((RDFS.subClassOf, "class"), (RDFS.subPropertyOf, "property")):
        edges = defaultdict(set)
        for s, o in onto.graph.subject_objects(prop):
            if isinstance(s, URIRef) and isinstance(o, URIRef) and s != o:
                edges[s].add(o)
        reported = set()
        for start in sorted(edges, key=str):
            path = _cycle(start, edges)
            if path and frozenset(path) not in reported:
                reported.add(frozenset(path))
                out.append(f"{what} hierarchy cycle: " + " → ".join(onto.name(t) for t in [*path, path[0]]))
        out += [f"{onto.name(s)} is declared a sub-{what} of itself" for s, o in onto.graph.subject_objects(prop)
                if s == o and onto.own(s)]
    return out


def _cycle(start, edges) -> list | None:
    stack: list[tuple] = [(start, [start])]
    while stack:
        node, path = stack.pop()
        for nxt in edges.get(node, ()):
            if nxt == start:
                return path
            if nxt not in path:
                stack.append((nxt, [*path, nxt]))
    return None


def unconnected(onto: Ontology) -> list[str]:
    """P04: every class and property is connected to the rest (a super- or sub-term, a domain, a range, an
    inverse, a disjointness or an equivalence)."""
    g = onto.graph
    linked = set()
    for p in (RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, OWL.equivalentProperty, OWL.inverseOf,
              OWL.disjointWith):
        for s, o in g.subject_objects(p):
            linked |= {s, o}
    for p in (RDFS.domain, RDFS.range, SCHEMA.domainIncludes, SCHEMA.rangeIncludes):
        for s, o in g.subject_objects(p):
            linked |= {s, o}
    for group in g.subjects(RDF.type, OWL.AllDisjointClasses):
        linked |= set(g.items(g.value(group, OWL.members)))
    return [f"{onto.name(t)} is not connected to any other term" for t in onto.terms(OWL.Class, *PROPERTY_KINDS[:2])
            if t not in linked]


def synonyms_as_classes(onto: Ontology) -> list[str]:
    """P02: two classes with one name, or declared equivalent inside the ontology, are one class twice."""
    out, by_name = [], defaultdict(set)
    for c in onto.classes():
        for p in (RDFS.label, SKOS.prefLabel, SKOS.altLabel):
            for v in onto.graph.objects(c, p):
                by_name[" ".join(str(v).casefold().split())].add(c)
    for name, classes in sorted(by_name.items()):
        if len(classes) > 1:
            out.append(f"classes {', '.join(sorted(onto.name(c) for c in classes))} share the name {name!r}: "
                       "synonyms, not different classes?")
    for a, b in onto.graph.subject_objects(OWL.equivalentClass):
        if onto.own(a) and onto.own(b):
            out.append(f"{onto.name(a)} and {onto.name(b)} are declared equivalent: one class under two names")
    return out


def undeclared_terms(onto: Ontology) -> list[str]:
    """P34/P35: every term of our namespace that the ontology uses is declared (typed); every other
    vocabulary's term it builds on (super-class, super-property, domain, range) is declared with a label."""
    g, out = onto.graph, set()
    declared = {s for s in g.subjects(RDF.type, None)}
    for s, p, o in g:
        for t in (s, p, o):
            if onto.own(t) and t not in declared:
                out.add(f"{onto.name(t)} is used but not declared (give it an rdf:type)")
    for p in (RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range):
        for o in g.objects(None, p):
            if isinstance(o, URIRef) and not onto.own(o) and not str(o).startswith(_W3C) \
                    and (o, RDFS.label, None) not in g:
                out.add(f"<{o}> is built on (rdfs:{p.rsplit('#', 1)[-1]}) but not declared with an rdfs:label")
    return sorted(out)


def naming_conventions(onto: Ontology) -> list[str]:
    """P22: classes in UpperCamelCase, properties in lowerCamelCase, so a reader can tell them apart."""
    out = []
    for c in onto.classes():
        local = str(c)[len(onto.namespace):]
        if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", local):
            out.append(f"class {onto.name(c)} is not UpperCamelCase")
    for p in onto.terms(*PROPERTY_KINDS):
        local = str(p)[len(onto.namespace):]
        if not re.fullmatch(r"[a-z][A-Za-z0-9]*", local):
            out.append(f"property {onto.name(p)} is not lowerCamelCase")
    return out


def rl_safe(onto: Ontology) -> list[str]:
    """OWL 2 RL as this project uses it: no functional properties or cardinalities (owlrl would merge
    individuals with owl:sameAs) and no class expressions RL cannot reason with on the right-hand side."""
    g, out = onto.graph, []
    for construct in _NOT_RL_SAFE:
        users = sorted({s for s in g.subjects(RDF.type, construct)} | {s for s in g.subjects(construct, None)}, key=str)
        for s in users:
            owner = next(g.subjects(None, s), s) if isinstance(s, BNode) else s
            out.append(f"{onto.name(owner)} uses owl:{construct.rsplit('#', 1)[-1]}: put \"exactly one\" and "
                       "\"must have\" rules in shapes.ttl (SHACL)")
    return out


def label_is_not_a_definition(onto: Ontology) -> list[str]:
    """P20: a label names the term; a definition explains it (a label longer than its definition, or one
    that is a sentence, is in the wrong place)."""
    out = []
    for t in onto.terms():
        label = onto.graph.value(t, RDFS.label)
        definition = onto.graph.value(t, SKOS.definition)
        if label is None:
            continue
        if definition is not None and len(str(label)) > len(str(definition)):
            out.append(f"{onto.name(t)}: the label is longer than the definition")
        elif str(label).rstrip().endswith(".") or len(str(label)) > 60:
            out.append(f"{onto.name(t)}: the label {str(label)!r} reads like a definition")
    return out


CHECKS: tuple[Check, ...] = (
    Check("foops-persistent-iri", "FOOPS!", "The ontology IRI is persistent (w3id.org or purl.org)", ontology_iri),
    Check("foops-title", "FOOPS!", "A title (dcterms:title)", lambda o: _needs(o, "title", DCTERMS.title)),
    Check("foops-description", "FOOPS!", "A description (dcterms:description)",
          lambda o: _needs(o, "description", DCTERMS.description, RDFS.comment)),
    Check("foops-license", "FOOPS!", "A licence, as an IRI (dcterms:license)",
          lambda o: _needs(o, "licence", DCTERMS.license, kind=URIRef)),
    Check("foops-creator", "FOOPS!", "A creator (dcterms:creator)", lambda o: _needs(o, "creator", DCTERMS.creator)),
    Check("foops-publisher", "FOOPS!", "A publisher (dcterms:publisher)",
          lambda o: _needs(o, "publisher", DCTERMS.publisher)),
    Check("foops-version", "FOOPS!", "A version IRI that ends with the version info (owl:versionIRI, owl:versionInfo)",
          version),
    Check("foops-dates", "FOOPS!", "Created, issued and modified dates (dcterms:created, issued, modified)", dates),
    Check("foops-namespace", "FOOPS!", "A preferred prefix and namespace (vann:preferredNamespacePrefix/Uri)", namespace),
    Check("foops-citation", "FOOPS!", "A citation (dcterms:bibliographicCitation)",
          lambda o: _needs(o, "citation", DCTERMS.bibliographicCitation)),
    Check("foops-term-labels", "FOOPS!", "Every term has an English label (rdfs:label @en)", term_labels),
    Check("foops-term-definitions", "FOOPS!", "Every term has a definition (skos:definition)", term_definitions),
    Check("foops-defined-by", "FOOPS!", "Every term names its ontology (rdfs:isDefinedBy)", defined_by),
    Check("ontpub-profile", "OntPub", "The OntPub SHACL profile (pyLODE's ontpub), with pySHACL: no violation", ontpub),
    Check("oops-missing-domain-range", "OOPS!", "P11: every property has a domain and a range", missing_domain_or_range),
    Check("oops-multiple-domains-ranges", "OOPS!", "P19: no property has two domains or two ranges",
          multiple_domains_or_ranges),
    Check("oops-inverses", "OOPS!", "P05/P25/P28: declared inverses exist, are not reflexive, and mirror", inverses),
    Check("oops-hierarchy-cycles", "OOPS!", "P06: no cycle in the class or property hierarchy", hierarchy_cycles),
    Check("oops-unconnected", "OOPS!", "P04: no class or property is unconnected", unconnected),
    Check("oops-synonyms-as-classes", "OOPS!", "P02: no two classes are synonyms", synonyms_as_classes),
    Check("oops-undeclared-terms", "OOPS!", "P34/P35: every term used is declared", undeclared_terms),
    Check("oops-naming", "OOPS!", "P22: one naming convention (UpperCamel classes, lowerCamel properties)",
          naming_conventions),
    Check("oops-label-definition", "OOPS!", "P20: labels name, definitions explain", label_is_not_a_definition),
    Check("owl-rl-safe", "OOPS!", "OWL 2 RL as used here: no functional properties or cardinalities", rl_safe),
)


def run(onto: Ontology) -> Iterator[tuple[Check, list[str]]]:
    for check in CHECKS:
        yield check, check.run(onto)


def markdown(path: Path | str, results: list[tuple[Check, list[str]]], warnings: dict[str, int]) -> str:
    """docs/ontology-checks.md: each check and its result on the shipped ontology."""
    rows = "\n".join(f"| `{c.id}` | {c.family} | {c.title} | {'pass' if not problems else f'**fail** ({len(problems)})'} |"
                     for c, problems in results)
    failures = "".join(f"\n- `{c.id}`: " + "; ".join(problems[:5]) for c, problems in results if problems)
    warned = ", ".join(f"{req}: {n}" for req, n in warnings.items()) or "none"
    return f"""# Ontology checks

<!-- Generated by `python -m explore_kg.ontology_checks {Path(path).as_posix()} --markdown`; tests/test_ontology_checks.py
     checks that this file is current. Do not edit by hand. -->

The checks the field runs on a published ontology, run offline in the tests on `{Path(path).as_posix()}`
(the ontology file alone): FOOPS!-style metadata checks, the OntPub SHACL profile (the profile pyLODE's
`ontpub` mode documents, vendored as `src/explore_kg/shipped/ontpub-validator.shacl.ttl`, CC BY 4.0)
validated with pySHACL, and an OOPS!-style scan of the pitfalls that apply to an OWL 2 RL ontology.
`tests/fixtures/ontology/broken.ttl` fails every one of them.

| Check | Family | What it checks | Result |
|---|---|---|---|
{rows}
{failures}

OntPub warnings (SHOULD and MAY requirements, not failures), by requirement: {warned}.

Run them with:

```sh
python -m explore_kg.ontology_checks ontology/explore-kg.ttl
```
"""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    as_markdown = "--markdown" in args
    files = [a for a in args if a != "--markdown"]
    if len(files) != 1 or files[0].startswith("-"):
        print("usage: python -m explore_kg.ontology_checks ONTOLOGY.ttl [--markdown]", file=sys.stderr)
        return 2
    path = Path(files[0])
    try:
        onto = load(path)
    except FileNotFoundError:
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    except Exception as e:  # a parse error: one line, no traceback
        print(f"{path}: does not parse: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
        return 2
    results = list(run(onto))
    if as_markdown:
        sys.stdout.write(markdown(path, results, ontpub_warnings(onto)))
    else:
        for check, problems in results:
            print(f"{'pass' if not problems else 'FAIL'}  {check.id:32} {check.title}")
            for p in problems:
                print(f"      - {p}")
        failed = sum(1 for _c, p in results if p)
        print(f"{len(results) - failed} of {len(results)} checks pass" + (f"; {failed} fail" if failed else ""))
    return 1 if any(p for _c, p in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
