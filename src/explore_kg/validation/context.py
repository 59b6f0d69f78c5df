"""What every check of :mod:`.checks` is given: the run's :class:`Context` (the whole asserted graph, the
quads under review, the locator, and what is derived from the graph once per run), and how a result
writes a literal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import OWL
from rdflib.term import Node

from ..namespaces import EKG, VOCAB
from . import dates
from .locate import Locator
from .report import VIOLATION, Result

Quad = tuple[Node, URIRef, Node, str]  # subject, predicate, object, graph IRI

# Date properties whatever the ontology says (it adds ekg:date's sub-properties).
_BASE_DATE_PROPERTIES = (EKG.date, EKG.temporalValue, EKG.plannedLaunchDate, EKG.plannedDate, EKG.published,
                         EKG.startDate, EKG.endDate, EKG.signingDate, EKG.launchDate)
_CURATION_KIND = VOCAB["source-kind/editorial-curation"]


@dataclass
class Context:
    """What every check needs: the whole asserted graph, the quads under review and the locator."""

    graph: Graph
    reviewed: list[Quad]
    locator: Locator
    scope: set[Node] | None = None  # the write gate's focus nodes: checks of the whole graph look at these only

    def result(self, rule: str, message: str, hint: str | None, focus: Node, path: URIRef | None = None,
               value: Node | None = None, *, at: str = "object", severity: str = VIOLATION,
               constraint: str | None = None, inverse: bool = False) -> Result:
        where = self.locator.locate(focus, path, value, at=at, inverse=inverse)
        return Result(rule, severity, message, focus=_focus_text(focus),
                      path=str(path) if path is not None else None,
                      value=value.n3() if value is not None else None, constraint=constraint, hint=hint, **where)

    @cached_property
    def described(self) -> set[Node]:
        return set(self.graph.subjects())

    @cached_property
    def classes(self) -> set[URIRef]:
        g = self.graph
        found = {c for kind in (OWL.Class, RDFS.Class, RDFS.Datatype) for c in g.subjects(RDF.type, kind)}
        found |= {c for c in g.objects(None, RDFS.subClassOf)} | {c for c in g.subjects(RDFS.subClassOf, None)}
        return {c for c in found if isinstance(c, URIRef)}

    @cached_property
    def properties(self) -> set[URIRef]:
        g = self.graph
        kinds = (RDF.Property, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
        found = {p for kind in kinds for p in g.subjects(RDF.type, kind)}
        return {p for p in found if isinstance(p, URIRef)}

    @cached_property
    def superclasses(self) -> Callable[[Node], set[Node]]:
        g, memo = self.graph, {}

        def up(cls: Node) -> set[Node]:
            if cls not in memo:
                memo[cls] = {cls}
                for parent in (*g.objects(cls, RDFS.subClassOf), *g.objects(cls, OWL.equivalentClass),
                               *g.subjects(OWL.equivalentClass, cls)):
                    if parent not in memo[cls]:
                        memo[cls] |= up(parent)
            return memo[cls]
        return up

    def types(self, node: Node) -> set[Node]:
        return {c for t in self.graph.objects(node, RDF.type) for c in self.superclasses(t)}

    @cached_property
    def date_properties(self) -> set[URIRef]:
        """ekg:date, the plans, ekg:published and every sub-property of them in the ontology."""
        g, found = self.graph, set(_BASE_DATE_PROPERTIES)
        todo = list(found)
        while todo:
            for sub in g.subjects(RDFS.subPropertyOf, todo.pop()):
                if isinstance(sub, URIRef) and sub not in found:
                    found.add(sub)
                    todo.append(sub)
        return found

    @cached_property
    def source_graphs(self) -> dict[str, bool]:
        """Each source document's IRI -> whether it is an editorial curation graph."""
        g = self.graph
        return {str(d): (d, EKG.sourceKind, _CURATION_KIND) in g for d in g.subjects(RDF.type, EKG.SourceDocument)}


def turtle(value: Literal) -> str:
    """A literal as a hint writes it in Turtle (a date in its written form)."""
    if value.datatype is not None:
        return dates.written(str(value), value.datatype) if value.datatype in dates.DATE_TYPES else value.n3()
    return value.n3()


def _focus_text(focus: Node | None) -> str | None:
    if focus is None:
        return None
    return str(focus) if isinstance(focus, URIRef) else focus.n3()
