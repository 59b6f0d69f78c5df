"""RDFS-level entailments, materialised once at load so that the obvious query is the right one.

``?m ekg:participant ?agency`` should find lead agencies (ekg:leadAgency rdfs:subPropertyOf
ekg:participant) and ``?x a ekg:Mission`` every kind of mission. :func:`materialise` computes, with
SPARQL on the Oxigraph store itself (fast: 1M quads in seconds, where owlrl takes minutes), the closure
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
_DELTA = ox.NamedNode("urn:x-explore-kg:entailment:delta")  # the last round's new triples (removed after)

# The schema: each query gives (?s ?p ?o) triples, over the default graph, not already there.
_SCHEMA = [
    # equivalences are symmetric, and each side is a sub-class (sub-property) of the other
    """SELECT DISTINCT ?s ?p ?o WHERE {
         VALUES (?eq ?p) { (owl:equivalentClass owl:equivalentClass) (owl:equivalentClass rdfs:subClassOf)
                           (owl:equivalentProperty owl:equivalentProperty) (owl:equivalentProperty rdfs:subPropertyOf) }
         { ?s ?eq ?o } UNION { ?o ?eq ?s }
         FILTER(isIRI(?s) && isIRI(?o) && ?s != ?o)
         FILTER NOT EXISTS { ?s ?p ?o } }""",
    """SELECT DISTINCT ?s (owl:inverseOf AS ?p) ?o WHERE {
         ?o owl:inverseOf ?s . FILTER(isIRI(?s) && isIRI(?o)) FILTER NOT EXISTS { ?s owl:inverseOf ?o } }""",
    # transitivity (equivalences are sub-class/-property pairs by now)
    """SELECT DISTINCT ?s (rdfs:subClassOf AS ?p) ?o WHERE {
         ?s rdfs:subClassOf/rdfs:subClassOf+ ?o .
         FILTER(isIRI(?o) && ?s != ?o && ?o != owl:Thing && ?o != rdfs:Resource)
         FILTER NOT EXISTS { ?s rdfs:subClassOf ?o } }""",
    """SELECT DISTINCT ?s (rdfs:subPropertyOf AS ?p) ?o WHERE {
         ?s rdfs:subPropertyOf/rdfs:subPropertyOf+ ?o . FILTER(isIRI(?o) && ?s != ?o)
         FILTER NOT EXISTS { ?s rdfs:subPropertyOf ?o } }""",
]

# The data: {premise} is a triple pattern matched in the whole default graph (a full round) or in the
# last round's new triples only (semi-naive rounds); the schema side is always the whole graph.
_DATA = [
    """SELECT DISTINCT ?s (rdf:type AS ?p) ?o WHERE {{
         {premise} ?c rdfs:subClassOf ?o .
         FILTER(isIRI(?o) && ?o != ?c && ?o != owl:Thing && ?o != rdfs:Resource)
         FILTER NOT EXISTS {{ ?s a ?o }} }}""",
    """SELECT DISTINCT ?s ?p ?o WHERE {{
         {premise} ?q rdfs:subPropertyOf ?p .
         FILTER(isIRI(?p) && ?p != ?q)
         FILTER NOT EXISTS {{ ?s ?p ?o }} }}""",
    """SELECT DISTINCT ?s ?p ?o WHERE {{
         {premise} ?q owl:inverseOf ?p .
         FILTER(isIRI(?p) && !isLiteral(?s))
         FILTER NOT EXISTS {{ ?s ?p ?o }} }}""",
]
_PREMISES = (  # per data rule: the premise's triple pattern, binding ?s/?o of the conclusion
    "?s a ?c .",
    "?s ?q ?o .",
    "?o ?q ?s .",
)
_SCHEMA_PREDICATES = frozenset(ox.NamedNode(iri) for iri in (
    "http://www.w3.org/2000/01/rdf-schema#subClassOf", "http://www.w3.org/2000/01/rdf-schema#subPropertyOf",
    "http://www.w3.org/2002/07/owl#equivalentClass", "http://www.w3.org/2002/07/owl#equivalentProperty",
    "http://www.w3.org/2002/07/owl#inverseOf"))


def materialise(store: ox.Store, *, max_rounds: int = 100) -> int:
    """Add the entailments of ``store``'s default graph to it (graph/entailed and the default graph).

    Returns how many triples were added. The store's default graph must already hold the merge of its
    named graphs, as :meth:`explore_kg.loading.LoadedData.to_store` builds it. Each query adds only
    triples the default graph lacks, so nothing is entailed twice and asserted triples are never copied.
    """
    entailed = ox.NamedNode(str(ENTAILED_GRAPH))
    total = 0
    full = True  # the first round, and any round after the schema grew, looks at every triple
    for _ in range(max_rounds):
        new: list[ox.Triple] = []
        for query in _SCHEMA if full else ():
            new += _add(store, entailed, _select(store, query))
        for rule, premise in zip(_DATA, _PREMISES, strict=True):
            if not full:  # semi-naive: a conclusion not drawn yet needs a premise new in the last round
                premise = f"GRAPH <{_DELTA.value}> {{ {premise} }}"
            new += _add(store, entailed, _select(store, rule.format(premise=premise)))
        if store.contains_named_graph(_DELTA):
            store.remove_graph(_DELTA)
        if not new:
            break
        store.extend(ox.Quad(t.subject, t.predicate, t.object, _DELTA) for t in new)
        full = any(t.predicate in _SCHEMA_PREDICATES for t in new)
        total += len(new)
    else:
        raise RuntimeError(f"entailment did not reach a fixpoint in {max_rounds} rounds")  # pragma: no cover
    return total


def _select(store: ox.Store, query: str) -> list[ox.Triple]:
    return [ox.Triple(row["s"], row["p"], row["o"]) for row in store.query(_PREFIXES + query)]


def _add(store: ox.Store, entailed: ox.NamedNode, triples: list[ox.Triple]) -> list[ox.Triple]:
    """Add triples (new ones: every query checks ``FILTER NOT EXISTS``) to graph/entailed and the default graph."""
    default = ox.DefaultGraph()
    store.extend([ox.Quad(t.subject, t.predicate, t.object, g) for t in triples for g in (entailed, default)])
    return triples
