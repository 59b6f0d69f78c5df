"""SHACL with pyshacl over the asserted data, ontology and vocabularies; the rule id is the shape's local name.

SHACL-SPARQL targets (``sh:SPARQLTarget``) are evaluated on Oxigraph, not by pyshacl's rdflib SPARQL
engine (parsing and running three queries there took a second), and handed to pyshacl as the
``sh:targetNode`` s they select: the same shapes, the same focus nodes, core SHACL only.
"""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import RDF, Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node

from ..loading import to_rdflib
from ..namespaces import SHAPES
from .locate import Locator
from .report import INFO, VIOLATION, WARNING, Result, curie

_SEVERITIES = {SH.Violation: VIOLATION, SH.Warning: WARNING, SH.Info: INFO}


def expand_sparql_targets(shapes: Graph, store: ox.Store) -> Graph:
    """The shapes (changed in place: pass a fresh copy) with their SPARQL targets replaced by the target
    nodes they select."""
    out = shapes
    for target in list(shapes.subjects(RDF.type, SH.SPARQLTarget)):
        select = str(shapes.value(target, SH.select))
        prefixes = "".join(f"PREFIX {shapes.value(d, SH.prefix)}: <{shapes.value(d, SH.namespace)}>\n"
                           for decl in shapes.objects(target, SH.prefixes) for d in shapes.objects(decl, SH.declare))
        nodes = [to_rdflib(row[0]) for row in store.query(prefixes + select) if row[0] is not None]
        for shape in list(shapes.subjects(SH.target, target)):
            out.remove((shape, SH.target, target))
            for node in nodes:
                out.add((shape, SH.targetNode, node))
    return out


def shacl_results(data: Graph, shapes: Graph, locator: Locator) -> list[Result]:
    import pyshacl

    _conforms, results_graph, _text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=False, inplace=True, allow_warnings=True,
    )
    out = []
    top_level = [r for report in results_graph.subjects(RDF.type, SH.ValidationReport)
                 for r in results_graph.objects(report, SH.result)]  # not the nested sh:detail results
    for node in top_level:
        shape = results_graph.value(node, SH.sourceShape)
        component = results_graph.value(node, SH.sourceConstraintComponent)
        focus = results_graph.value(node, SH.focusNode)
        path = results_graph.value(node, SH.resultPath)
        value = results_graph.value(node, SH.value)
        message = results_graph.value(node, SH.resultMessage)
        severity = _SEVERITIES.get(results_graph.value(node, SH.resultSeverity), VIOLATION)
        if isinstance(shape, URIRef) and str(shape).startswith(str(SHAPES)):
            rule = str(shape)[len(str(SHAPES)):]
        else:
            rule = curie(component) or "shacl"
        value = value if value is not None and value != focus else None
        where = _where(results_graph, locator, focus, path, value)
        out.append(Result(
            rule, severity, str(message) if message else f"{curie(component)} failed",
            focus=str(focus) if isinstance(focus, URIRef) else focus.n3() if focus is not None else None,
            path=_path_text(results_graph, path), value=value.n3() if value is not None else None,
            constraint=curie(component), hint=_hint(shapes, shape, component, focus, path, value), **where,
        ))
    return out


def _where(g: Graph, locator: Locator, focus: Node, path: Node | None, value: Node | None) -> dict:
    """The offending triple of a result, for each kind of path (a property, alternatives, an inverse)."""
    if isinstance(path, URIRef) or path is None:
        return locator.locate(focus, path, value)
    alternatives = g.value(path, SH.alternativePath)
    if alternatives is not None:
        for p in Collection(g, alternatives):
            where = locator.locate(focus, p, value)
            if where and value is not None:
                return where
        return locator.locate(focus)
    inverse = g.value(path, SH.inversePath)
    if inverse is not None:
        return locator.locate(focus, inverse, value, inverse=True) if value is not None else locator.locate(focus)
    return locator.locate(focus)


def _path_text(g: Graph, path: Node | None) -> str | None:
    """A SHACL path: the property IRI, or a SPARQL-like path of <iri>s (alternatives, inverse)."""
    if path is None or isinstance(path, URIRef):
        return None if path is None else str(path)
    alternatives = g.value(path, SH.alternativePath)
    if alternatives is not None:
        return " | ".join(_path_text(g, p) if not isinstance(p, URIRef) else p.n3() for p in Collection(g, alternatives))
    inverse = g.value(path, SH.inversePath)
    if inverse is not None:
        return f"^{inverse.n3()}"
    return path.n3()


def _hint(shapes: Graph, shape: Node, component: Node, focus: Node, path: Node | None, value: Node | None) -> str | None:
    """What to change, from the shape's own ``shapes:hint`` or, failing that, from the kind of constraint."""
    own = shapes.value(shape, SHAPES.hint) if shape is not None else None
    if own is not None:
        return str(own)
    p = curie(path) if isinstance(path, URIRef) else "the property"
    name = str(component).rsplit("#", 1)[-1] if component is not None else ""
    if name == "MinCountConstraintComponent":
        return f"Add {p} to {curie(focus)}."
    if name == "MaxCountConstraintComponent":
        return f"Keep one {p} on {curie(focus)}; split the rest into nodes of their own."
    if name in ("ClassConstraintComponent", "OrConstraintComponent") and value is not None:
        return f"Point {p} at an entity of the class the message names, or correct the type of {curie(value)}."
    if name in ("PatternConstraintComponent", "NodeKindConstraintComponent"):
        return "Rename the IRI to the form the message gives (lowercase slug, single hyphens)."
    if name in ("DatatypeConstraintComponent", "NodeConstraintComponent", "MinInclusiveConstraintComponent"):
        return "Write the value with the datatype the message gives."
    if name == "QualifiedMinCountConstraintComponent":
        return f"Add an English (@en) {p}."
    return None
