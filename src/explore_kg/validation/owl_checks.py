"""OWL RL consistency, quickly: members of disjoint classes and ill-typed literals, derived here rather
than by owlrl (which the run falls back to when the graph uses OWL beyond what this covers)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import OWL, XSD
from rdflib.term import Node

from ..namespaces import EKG
from .context import Context
from .report import Result, curie

# OWL vocabulary whose consequences the quick consistency check covers (see disjoint_classes).
_OWL_COVERED = frozenset(OWL[t] for t in (
    "Class", "ObjectProperty", "DatatypeProperty", "AnnotationProperty", "Ontology", "TransitiveProperty",
    "SymmetricProperty", "inverseOf", "disjointWith", "AllDisjointClasses", "members", "equivalentClass",
    "equivalentProperty", "versionIRI", "versionInfo", "imports", "Thing", "differentFrom", "deprecated",
    "priorVersion", "backwardCompatibleWith", "incompatibleWith", "NamedIndividual", "topObjectProperty",
    "topDataProperty",
))


def covered_by_quick_check(graph: Graph) -> bool:
    """Whether the graph uses only OWL vocabulary whose consequences :func:`disjoint_classes` derives;
    otherwise the run falls back to owlrl."""
    owl = str(OWL)
    for _s, p, o in graph:
        for term in (p, o):
            if isinstance(term, URIRef) and str(term).startswith(owl) and term not in _OWL_COVERED:
                return False
    return True


def disjoint_classes(ctx: Context) -> Iterable[Result]:
    """A node that is a member of two disjoint classes, through its asserted types, sub-classes,
    equivalent classes and the domains and ranges of the properties it is used with (as OWL RL infers)."""
    g = ctx.graph
    disjoint: dict[Node, set[Node]] = defaultdict(set)
    for a, b in g.subject_objects(OWL.disjointWith):
        disjoint[a].add(b)
        disjoint[b].add(a)
    from rdflib.collection import Collection

    for group in g.subjects(RDF.type, OWL.AllDisjointClasses):
        members = list(Collection(g, g.value(group, OWL.members))) if g.value(group, OWL.members) else []
        for a in members:
            disjoint[a] |= {b for b in members if b != a}
    if not disjoint:
        return
    inverse: dict[Node, set[Node]] = defaultdict(set)

    memo: dict[Node, set[Node]] = {}

    def up(p: Node, seen: set[Node]) -> set[Node]:
        if p in memo:
            return memo[p]
        todo = [p]
        while todo:
            for q in (*g.objects(todo[-1], RDFS.subPropertyOf), *g.objects(todo[-1], OWL.equivalentProperty),
                      *g.subjects(OWL.equivalentProperty, todo.pop())):
                if q not in seen:
                    seen.add(q)
                    todo.append(q)
        memo[p] = seen
        return seen

    for a, b in g.subject_objects(OWL.inverseOf):
        inverse[a].add(b)
        inverse[b].add(a)
    for p in g.subjects(RDF.type, OWL.SymmetricProperty):
        inverse[p].add(p)
    domains: dict[Node, set[Node]] = defaultdict(set)
    ranges: dict[Node, set[Node]] = defaultdict(set)
    for p, c in g.subject_objects(RDFS.domain):
        domains[p].add(c)
    for p, c in g.subject_objects(RDFS.range):
        ranges[p].add(c)
    why: dict[Node, dict[Node, tuple]] = defaultdict(dict)  # node -> class -> the triple that makes it one
    reviewed_triples = {q[:3] for q in ctx.reviewed}

    def typed(node: Node, cls: Node, triple: tuple) -> None:
        for c in ctx.superclasses(cls):
            known = why[node].get(c)
            if known is None or (known not in reviewed_triples and triple in reviewed_triples):
                why[node][c] = triple  # the reason a reviewed file gives, where there is one

    reviewed_subjects = {q[0] for q in ctx.reviewed} | {q[2] for q in ctx.reviewed}
    if ctx.scope is None:
        triples = g
    else:  # the write gate: only the triples of the nodes under review decide their classes
        triples = Graph()
        for n in reviewed_subjects:
            for t in (*g.triples((n, None, None)), *g.triples((None, None, n))):
                triples.add(t)
    for s, o in triples.subject_objects(RDF.type):
        typed(s, o, (s, RDF.type, o))
    for s, p, o in triples:
        if p == RDF.type:
            continue
        props = up(p, {p})
        for q in list(props):
            for inv in inverse.get(q, ()):
                for c in domains.get(inv, ()):
                    if not isinstance(o, Literal):
                        typed(o, c, (s, p, o))
                for c in ranges.get(inv, ()):
                    typed(s, c, (s, p, o))
            for c in domains.get(q, ()):
                typed(s, c, (s, p, o))
            if not isinstance(o, Literal):
                for c in ranges.get(q, ()):
                    typed(o, c, (s, p, o))
    for node in sorted(why, key=str):
        if node not in reviewed_subjects:
            continue
        classes = why[node]
        for a in sorted(classes, key=str):
            clash = sorted((b for b in disjoint.get(a, ()) if b in classes), key=str)
            if clash and str(a) < str(clash[0]):
                b = clash[0]
                reasons = [classes[b], classes[a]]
                ts, tp, to = next((t for t in reasons if t in reviewed_triples), reasons[0])
                via = "" if tp == RDF.type else f" (through the domain or range of {curie(tp)})"
                yield ctx.result("owl-inconsistency",
                                 f"{curie(node)} is a member of both {curie(a)} and {curie(b)}, which are disjoint "
                                 f"classes{via}.",
                                 "Give it one type; if two things are meant, give each its own IRI; if a property "
                                 "implies the type, use the property meant.",
                                 ts, tp, to, at="predicate" if tp != RDF.type else "object", constraint="owlrl:cax-dw")


def ill_typed_literals(ctx: Context) -> Iterable[Result]:
    """A typed literal whose text is not a value of its datatype (dates are checked by ``date_values``)."""
    props = ctx.date_properties
    for s, p, o, _g in ctx.reviewed:
        if isinstance(o, Literal) and o.datatype is not None and p not in props and p != EKG.claimValue \
                and o.datatype in _XSD_CHECKED and o.ill_typed:
            yield ctx.result("literal-ill-typed", f"{o.n3()} is not a valid {curie(o.datatype)} value.",
                             f"Write a valid {curie(o.datatype)} value, or use another datatype.", s, p, o,
                             constraint="owlrl:dt-not-type")


_XSD_CHECKED = frozenset(XSD[t] for t in (
    "date", "dateTime", "gYear", "gYearMonth", "integer", "decimal", "double", "float", "boolean",
    "nonNegativeInteger", "positiveInteger", "int", "long", "anyURI", "time"))
