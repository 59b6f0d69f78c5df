"""SHACL with pyshacl over the asserted data, ontology and vocabularies; the rule id is the shape's local name.

SHACL-SPARQL targets (``sh:SPARQLTarget``) are evaluated on Oxigraph, not by pyshacl's rdflib SPARQL
engine (parsing and running three queries there took a second), and handed to pyshacl as the
``sh:targetNode`` s they select: the same shapes, the same focus nodes, core SHACL only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
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


@dataclass(frozen=True)
class ClassUnion:
    """A property shape ``sh:targetSubjectsOf P ; sh:path P ; sh:or ( [ sh:class C1 ] [ sh:class C2 ] ... )``.

    pyshacl evaluates every branch of an ``sh:or`` and builds a full report for each branch that fails,
    so these shapes (one per property whose values may be of several classes) cost most of its run; they
    are evaluated here instead, with the same meaning: every value is a SHACL instance (``rdf:type``
    then ``rdfs:subClassOf*``) of one of the classes, or a literal where a ``[ sh:nodeKind sh:Literal ]``
    branch allows it. The shapes file stays their one definition.
    """

    shape: URIRef
    targets: tuple[URIRef, ...]
    paths: tuple[URIRef, ...]
    classes: tuple[URIRef, ...]
    literal_ok: bool
    message: str
    severity: str
    hint: str | None


_UNION_KEYS = {RDF.type, SH.targetSubjectsOf, SH.path, SH["or"], SH.message, SH.severity, SHAPES.hint, RDFS.comment,
               RDFS.label}


def take_class_unions(shapes: Graph) -> list[ClassUnion]:
    """The class-union shapes, removed from ``shapes`` (changed in place) so that pyshacl skips them."""
    found = []
    for shape in sorted(set(shapes.subjects(SH["or"], None)), key=str):
        if not isinstance(shape, URIRef) or (shape, RDF.type, SH.PropertyShape) not in shapes:
            continue
        if {p for p, _o in shapes.predicate_objects(shape)} - _UNION_KEYS:
            continue
        path = shapes.value(shape, SH.path)
        if isinstance(path, URIRef):
            paths = (path,)
        elif shapes.value(path, SH.alternativePath) is not None and len(set(shapes.predicate_objects(path))) == 1:
            paths = tuple(Collection(shapes, shapes.value(path, SH.alternativePath)))
        else:
            continue
        classes, literal_ok, plain = [], False, True
        for branch in Collection(shapes, shapes.value(shape, SH["or"])):
            pairs = set(shapes.predicate_objects(branch))
            if len(pairs) == 1 and next(iter(pairs))[0] == SH["class"]:
                classes.append(next(iter(pairs))[1])
            elif pairs == {(SH.nodeKind, SH.Literal)}:
                literal_ok = True
            else:
                plain = False
        targets = tuple(shapes.objects(shape, SH.targetSubjectsOf))
        if not plain or not classes or not targets or not all(isinstance(p, URIRef) for p in paths):
            continue
        found.append(ClassUnion(shape, targets, paths, tuple(classes), literal_ok,
                                str(shapes.value(shape, SH.message)),
                                _SEVERITIES.get(shapes.value(shape, SH.severity), VIOLATION),
                                str(shapes.value(shape, SHAPES.hint)) if shapes.value(shape, SHAPES.hint) else None))
    for union in found:
        _remove_shape(shapes, union.shape)
    return found


def _remove_shape(shapes: Graph, node: Node) -> None:
    """A shape and the blank nodes (lists, branches, paths) only it holds."""
    for _p, o in list(shapes.predicate_objects(node)):
        if isinstance(o, BNode):
            _remove_shape(shapes, o)
    shapes.remove((node, None, None))


def class_union_results(data: Graph, unions: list[ClassUnion], locator: Locator) -> list[Result]:
    memo: dict[Node, set[Node]] = {}

    def up(cls: Node) -> set[Node]:
        if cls not in memo:
            memo[cls] = {cls}
            for parent in data.objects(cls, RDFS.subClassOf):
                if parent not in memo[cls]:
                    memo[cls] |= up(parent)
        return memo[cls]

    out = []
    for union in unions:
        wanted = set(union.classes)
        focus_nodes = sorted({s for t in union.targets for s in data.subjects(t, None)}, key=str)
        for focus in focus_nodes:
            for path in union.paths:
                for value in data.objects(focus, path):
                    if isinstance(value, Literal):
                        if union.literal_ok:
                            continue
                    elif any(wanted & up(t) for t in data.objects(value, RDF.type)):
                        continue
                    rule = str(union.shape)[len(str(SHAPES)):]
                    out.append(Result(
                        rule, union.severity, union.message,
                        focus=str(focus) if isinstance(focus, URIRef) else focus.n3(), path=str(path),
                        value=value.n3(), constraint="sh:OrConstraintComponent",
                        hint=union.hint or f"Point {curie(path)} at an entity of the class the message names, or "
                        f"correct the type of {curie(value)}.", **locator.locate(focus, path, value)))
    return out


def shacl_results(data: Graph, shapes: Graph, locator: Locator, focus_nodes: list | None = None) -> list[Result]:
    """``focus_nodes``: validate only these nodes (the write gate's incremental check), else every target."""
    import pyshacl

    extra = {"focus_nodes": focus_nodes} if focus_nodes is not None else {}
    _conforms, results_graph, _text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=False, inplace=True, allow_warnings=True, **extra,
    )
    return shacl_report_results(results_graph, shapes, locator)


def shacl_report_results(results_graph: Graph, shapes: Graph, locator: Locator) -> list[Result]:
    """The results of a pyshacl report graph (the write gate runs its own :class:`pyshacl.Validator`)."""
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
