"""OWL 2 RL reasoning with owlrl, kept apart from the asserted graph.

owlrl expands a graph in place and adds many tautologies (``x owl:sameAs x``, ``C rdfs:subClassOf C``,
axiomatic triples about RDF/OWL itself). This module runs it on a copy and returns only the *new*,
*informative* triples, plus the inconsistency markers owlrl raises (for example a member of two
disjoint classes), so validation can report them and export can ship inferred triples separately.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import owlrl
from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import OWL

_META_NAMESPACES = (str(RDF), str(RDFS), str(OWL), "http://www.w3.org/2001/XMLSchema#")


@dataclass
class Inconsistency:
    """One contradiction owlrl found: which rule, and the message it gave."""

    rule: str
    message: str
    focus: str | None = None


@dataclass
class Reasoned:
    inferred: Graph
    inconsistencies: list[Inconsistency]


_AGENT = "http://www.daml.org/2002/03/agents/agent-ont#"
ERROR_MESSAGE = URIRef(_AGENT + "ErrorMessage")
ERROR_TEXT = URIRef(_AGENT + "error")
_FOCUS = re.compile(r"(https?://[^\s,]+)\s*$")


def _is_tautology(s, p, o) -> bool:
    """True for triples that hold in every OWL RL closure and tell a reader nothing."""
    if s == o and p in (OWL.sameAs, RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, OWL.equivalentProperty):
        return True
    if o in (OWL.Thing, RDFS.Resource) and p in (RDF.type, RDFS.subClassOf, RDFS.domain, RDFS.range):
        return True
    if p == RDFS.subClassOf and s == OWL.Nothing:
        return True
    if isinstance(s, URIRef) and str(s).startswith(_META_NAMESPACES):
        return True  # axioms about RDF/OWL's own vocabulary
    return isinstance(s, Literal)


def reason(asserted: Graph) -> Reasoned:
    """Run OWL 2 RL over ``asserted`` (not modified) and return the informative new triples; the result of
    the same triples is read from the cache instead when a run before kept it (explore_kg.reasoning_cache)."""
    from . import reasoning_cache

    found, kept = reasoning_cache.read(asserted)
    if found is not None:
        return found
    result = _reason(asserted)
    reasoning_cache.write(kept, result)
    return result


def _reason(asserted: Graph) -> Reasoned:
    work = Graph()
    for t in asserted.triples((None, None, None)):
        work.add(t)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False).expand(work)
    problems: list[Inconsistency] = []
    error_nodes = set(work.subjects(RDF.type, ERROR_MESSAGE))
    for node in sorted(error_nodes):
        for msg in work.objects(node, ERROR_TEXT):
            m = _FOCUS.search(str(msg))
            problems.append(Inconsistency(rule="owl-rl", message=str(msg), focus=m.group(1) if m else None))
    inferred = Graph()
    for prefix, ns in asserted.namespaces():
        inferred.bind(prefix, ns)
    for s, p, o in work:
        if s in error_nodes or (s, p, o) in asserted or _is_tautology(s, p, o):
            continue
        inferred.add((s, p, o))
    return Reasoned(inferred=inferred, inconsistencies=problems)
