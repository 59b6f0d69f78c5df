"""The duplicate check: two entities of one named kind with one name are probably one thing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from rdflib import RDFS, Literal, URIRef
from rdflib.namespace import OWL, SKOS
from rdflib.term import Node

from ..namespaces import EKG, ID
from .context import Context
from .released import is_deprecated
from .report import Result, curie

# Classes whose members are known by name: two of them with one name are probably one thing.
_NAMED_KINDS = tuple(
    EKG[c]
    for c in (
        "Organisation", "Person", "Mission", "Programme", "Spacecraft", "Instrument", "LaunchVehicle",
        "CelestialBody", "Place", "SurfaceRegion", "Orbit", "Technology",
    )
)
_NAME_PROPERTIES = (RDFS.label, EKG.acronym, SKOS.prefLabel, SKOS.altLabel)


def duplicates(ctx: Context) -> Iterable[Result]:
    """A reviewed entity whose name or acronym is another entity's, both of one named kind, and no
    ``owl:differentFrom`` between them."""
    g = ctx.graph
    kinds: dict[Node, set[URIRef]] = {}

    def kinds_of(node: Node) -> set[URIRef]:
        if node not in kinds:
            kinds[node] = {k for k in _NAMED_KINDS if k in ctx.types(node)}
        return kinds[node]

    names: dict[str, set[URIRef]] = defaultdict(set)
    entities = None if ctx.scope is None else [  # the write gate: the entities of its small graph, not every label
        n for n in ctx.described if isinstance(n, URIRef) and str(n).startswith(str(ID))]
    for prop in _NAME_PROPERTIES:
        pairs = g.subject_objects(prop) if entities is None else ((n, o) for n in entities for o in g.objects(n, prop))
        for s, o in pairs:
            if isinstance(s, URIRef) and str(s).startswith(str(ID)) and isinstance(o, Literal):
                names[_normal(o)].add(s)
    reviewed = sorted({q[0] for q in ctx.reviewed if isinstance(q[0], URIRef) and str(q[0]).startswith(str(ID))}, key=str)
    reported: set[frozenset] = set()
    for entity in reviewed:
        for prop in _NAME_PROPERTIES:
            for name in g.objects(entity, prop):
                if not isinstance(name, Literal):
                    continue
                for other in sorted(names.get(_normal(name), ()), key=str):
                    pair = frozenset((entity, other))
                    if other == entity or pair in reported or not (kinds_of(entity) & kinds_of(other)):
                        continue
                    if is_deprecated(g, entity) or is_deprecated(g, other):
                        continue  # a deprecated entity keeps the name of the one that replaces it
                    reported.add(pair)
                    if (entity, OWL.differentFrom, other) in g or (other, OWL.differentFrom, entity) in g:
                        continue
                    yield ctx.result(
                        "duplicate-entity",
                        f"Likely duplicate: {curie(other)} has the same name \"{name}\".",
                        f"Reuse {curie(other)} if both are the same thing; if they are different things, say so with "
                        f"{curie(entity)} owl:differentFrom {curie(other)} .", entity, prop, name)


def _normal(name: Literal) -> str:
    return " ".join(str(name).casefold().split())
