"""What the loader adds to a file, done for a live write, so that a written fact and the same fact in
``data/`` look alike (issue 12).

The loader (:func:`explore_kg.loading.assign_graphs`) completes the claim of every date triple in its
graph (:func:`explore_kg.claims.complete_date_claims`) and, in a source document's graph, states
``?entity ekg:statedIn <document>`` for every entity described there. For a write, the same is done to
the graphs the write changed: claims for the date triples it added (an authored claim is completed, any
other date gets the claim the loader mints, :func:`explore_kg.claims.claim_iri`), the minted claim of a
date triple it removed goes with it, ``ekg:statedIn`` for each entity it added to a source document's
graph, and the ``ekg:statedIn`` of an entity that no longer has a fact there goes. The writer validates
and logs the additions with the write itself; ``changes export`` leaves them out again (loading adds them).
"""

from __future__ import annotations

import pyoxigraph as ox

from .claims import claim_iri, complete_date_claims, literal_bounds
from .namespaces import EKG, ID

_STATED_IN = ox.NamedNode(str(EKG.statedIn))
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_SOURCE_DOCUMENT = ox.NamedNode(str(EKG.SourceDocument))
_ID = str(ID)
_CLAIM = ox.NamedNode(str(EKG.claim))
_CLAIM_SUBJECT = ox.NamedNode(str(EKG.claimSubject))


def _is_entity(term) -> bool:
    return isinstance(term, ox.NamedNode) and term.value.startswith(_ID)


def _has(store: ox.Store, s, p, o, g) -> bool:
    return any(True for _ in store.quads_for_pattern(s, p, o, g))


def _claim_context(store: ox.Store, subject, graph) -> list[ox.Quad]:
    """The claims about ``subject`` in ``graph`` as the store holds them (linked or by claimSubject)."""
    claims = {q.object for q in store.quads_for_pattern(subject, _CLAIM, None, graph)}
    claims |= {q.subject for q in store.quads_for_pattern(None, _CLAIM_SUBJECT, subject, graph)}
    out = list(store.quads_for_pattern(subject, _CLAIM, None, graph))
    for c in claims:
        out.extend(store.quads_for_pattern(c, None, None, graph))
    return out


def derived_changes(store: ox.Store, added: set, removed: set, dates: frozenset) -> tuple[set, set]:
    """(quads to add, quads to remove) that the loader's rules call for after this change; the change is
    already applied to ``store``, and so are the returned quads when this returns."""
    extra_added: set = set()
    extra_removed: set = set()
    graphs = {q.graph_name for q in added | removed if isinstance(q.graph_name, ox.NamedNode)}
    for graph in graphs:
        added_here = [q for q in added if q.graph_name == graph]
        removed_here = [q for q in removed if q.graph_name == graph]
        new_dates = [q for q in added_here if q.predicate in dates and literal_bounds(q.object) is not None]
        if new_dates:
            context = list(dict.fromkeys(added_here + [c for s in {q.subject for q in new_dates}
                                                       for c in _claim_context(store, s, graph)]))
            extra_added.update(q for q in complete_date_claims(context, dates) if not _has(store, q.subject, q.predicate,
                                                                                            q.object, graph))
        for q in removed_here:
            if q.predicate in dates and isinstance(q.object, ox.Literal) and not _has(store, q.subject, q.predicate,
                                                                                       q.object, graph):
                minted = claim_iri(q.subject, q.predicate, q.object, graph)
                extra_removed.update(store.quads_for_pattern(minted, None, None, graph))
                extra_removed.update(store.quads_for_pattern(q.subject, _CLAIM, minted, graph))
        if _has(store, graph, _RDF_TYPE, _SOURCE_DOCUMENT, graph):
            for e in {q.subject for q in added_here} | {q.subject for q in extra_added}:
                if _is_entity(e) and not _has(store, e, _STATED_IN, graph, graph):
                    extra_added.add(ox.Quad(e, _STATED_IN, graph, graph))
            for e in {q.subject for q in removed_here} | {q.subject for q in extra_removed}:
                if _is_entity(e) and not any(
                        x.predicate != _STATED_IN and x not in extra_removed
                        for x in store.quads_for_pattern(e, None, None, graph)):
                    extra_removed.update(store.quads_for_pattern(e, _STATED_IN, graph, graph))
    extra_added -= extra_removed
    for q in extra_removed:
        store.remove(q)
    if extra_added:
        store.extend(extra_added)
    return extra_added, extra_removed
