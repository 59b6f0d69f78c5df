"""RDFS-level entailments, materialised once at load so that the obvious query is the right one.

``?m ekg:participant ?agency`` should find lead agencies (ekg:leadAgency rdfs:subPropertyOf
ekg:participant) and ``?x a ekg:Mission`` every kind of mission. :func:`materialise` computes, with
SPARQL updates inside the Oxigraph store (no triple passes through Python: the 100k-triple benchmark
graph with the shipped ontology took about 1.6 s on a 2-core machine), the closure
of the store's default graph (the merge of all graphs) under

* rdfs:subClassOf and rdfs:subPropertyOf (transitive; types and property values inherited upwards),
* owl:equivalentClass and owl:equivalentProperty (symmetric, and sub-class/-property both ways),
* owl:inverseOf (symmetric; ``x p y`` gives ``y q x``),

iterated to a fixpoint (a triple entailed through an inverse may have a super-property, and so on).
Deliberately not rdfs:domain / rdfs:range (they type every value, right or wrong, and hide errors),
nor the rest of OWL (``--inferred`` runs OWL 2 RL with owlrl for that). Tautologies are left out: a
class or property is not reported as its own sub-class/-property, nothing is typed owl:Thing or
rdfs:Resource, and only IRIs are super-classes or -properties.

The new triples go into graph ``https://w3id.org/explore-kg/graph/entailed`` and into the default
graph. The source graphs keep only what their document asserts, so ``GRAPH ?source { ... }`` still says
who stated what, and ``FROM <source>`` or ``explore-kg serve --asserted`` give the asserted triples only.
"""

from __future__ import annotations

import pyoxigraph as ox

from .namespaces import GRAPH

ENTAILED_GRAPH = GRAPH["entailed"]

_PREFIXES = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
"""
_DELTA = "urn:x-explore-kg:entailment:delta"  # the last round's new triples (scratch graphs, removed after)
_NEXT = "urn:x-explore-kg:entailment:next"  # this round's new triples

# Each rule is the WHERE clause of an INSERT of (?s ?p ?o) into graph/entailed and the default graph,
# evaluated on the default graph, run inside Oxigraph (no triple passes through Python). Every rule
# checks FILTER NOT EXISTS, so nothing asserted or already entailed is added again.

# The schema: equivalences are symmetric and each side a sub-class (sub-property) of the other; inverses
# are symmetric; then sub-class and sub-property transitivity.
_SCHEMA = [
    """VALUES (?eq ?p) { (owl:equivalentClass owl:equivalentClass) (owl:equivalentClass rdfs:subClassOf)
                         (owl:equivalentProperty owl:equivalentProperty) (owl:equivalentProperty rdfs:subPropertyOf) }
       { ?s ?eq ?o } UNION { ?o ?eq ?s }
       FILTER(isIRI(?s) && isIRI(?o) && ?s != ?o)
       FILTER NOT EXISTS { ?s ?p ?o }""",
    """?o owl:inverseOf ?s . BIND(owl:inverseOf AS ?p)
       FILTER(isIRI(?s) && isIRI(?o)) FILTER NOT EXISTS { ?s owl:inverseOf ?o }""",
    """?s rdfs:subClassOf/rdfs:subClassOf+ ?o . BIND(rdfs:subClassOf AS ?p)
       FILTER(isIRI(?o) && ?s != ?o && ?o != owl:Thing && ?o != rdfs:Resource)
       FILTER NOT EXISTS { ?s rdfs:subClassOf ?o }""",
    """?s rdfs:subPropertyOf/rdfs:subPropertyOf+ ?o . BIND(rdfs:subPropertyOf AS ?p)
       FILTER(isIRI(?o) && ?s != ?o)
       FILTER NOT EXISTS { ?s rdfs:subPropertyOf ?o }""",
]

# The data: {premise} is matched in the whole default graph (a full round) or, in a semi-naive round,
# in the last round's new triples only; the schema side is always the whole default graph.
_DATA = [
    """{premise} ?c rdfs:subClassOf ?o . BIND(rdf:type AS ?p)
       FILTER(isIRI(?o) && ?o != ?c && ?o != owl:Thing && ?o != rdfs:Resource)
       FILTER NOT EXISTS {{ ?s a ?o }}""",
    """{premise} ?q rdfs:subPropertyOf ?p .
       FILTER(isIRI(?p) && ?p != ?q)
       FILTER NOT EXISTS {{ ?s ?p ?o }}""",
    """{premise} ?q owl:inverseOf ?p .
       FILTER(isIRI(?p) && !isLiteral(?s))
       FILTER NOT EXISTS {{ ?s ?p ?o }}""",
]
_PREMISES = (  # per data rule: the premise's triple pattern, binding ?s/?o of the conclusion
    "?s a ?c .",
    "?s ?q ?o .",
    "?o ?q ?s .",
)
_SCHEMA_PREDICATES = "rdfs:subClassOf rdfs:subPropertyOf owl:equivalentClass owl:equivalentProperty owl:inverseOf"


def materialise(store: ox.Store, *, max_rounds: int = 100) -> int:
    """Add the entailments of ``store``'s default graph to it (graph/entailed and the default graph).

    Returns how many triples were added (0 when called again). The store's default graph must already
    hold the merge of its named graphs, as :meth:`explore_kg.loading.LoadedData.to_store` builds it.
    """
    before = _count(store, f"GRAPH <{ENTAILED_GRAPH}> {{ ?s ?p ?o }}")
    full = True  # the first round, and any round after the data rules added schema triples, sees every triple
    for _ in range(max_rounds):
        for where in _SCHEMA if full else ():
            _insert(store, where, into_next=False)  # the data rules of this same round see these
        for rule, premise in zip(_DATA, _PREMISES, strict=True):
            if not full:  # semi-naive: a conclusion not drawn yet needs a premise new in the last round
                premise = f"GRAPH <{_DELTA}> {{ {premise} }}"
            _insert(store, rule.format(premise=premise), into_next=True)
        new = _count(store, f"GRAPH <{_NEXT}> {{ ?s ?p ?o }}")
        full = new > 0 and bool(store.query(
            f"{_PREFIXES} ASK {{ GRAPH <{_NEXT}> {{ ?s ?p ?o }} VALUES ?p {{ {_SCHEMA_PREDICATES} }} }}"))
        store.update(f"DROP SILENT GRAPH <{_DELTA}> ; MOVE SILENT GRAPH <{_NEXT}> TO GRAPH <{_DELTA}>")
        if not new:
            break
    else:
        raise RuntimeError(f"entailment did not reach a fixpoint in {max_rounds} rounds")  # pragma: no cover
    store.update(f"DROP SILENT GRAPH <{_DELTA}> ; DROP SILENT GRAPH <{_NEXT}>")
    return _count(store, f"GRAPH <{ENTAILED_GRAPH}> {{ ?s ?p ?o }}") - before


def _insert(store: ox.Store, where: str, *, into_next: bool) -> None:
    """Insert the (?s ?p ?o) solutions of ``where`` into graph/entailed and the default graph (and the
    round's scratch graph)."""
    target = f"GRAPH <{ENTAILED_GRAPH}> {{ ?s ?p ?o }} ?s ?p ?o ." + (f" GRAPH <{_NEXT}> {{ ?s ?p ?o }}" if into_next else "")
    store.update(f"{_PREFIXES} INSERT {{ {target} }} WHERE {{ {where} }}")


def _count(store: ox.Store, pattern: str) -> int:
    return int(next(iter(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}")))["n"].value)
