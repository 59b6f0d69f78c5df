"""Checks of where facts come from: every entity stated in a source document's graph, every claim with
a source, ``ekg:basis`` only in the curation graph, and qualifiers on claims rather than on subjects."""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import RDF, Literal, URIRef

from ..claims import minted_claim_iri
from ..namespaces import EKG, ID
from .context import Context
from .report import Result, curie

_QUALIFIERS = (EKG.qualifier, EKG.dateQualifier)


def made_by_loader(ctx: Context, claim, graph) -> bool:
    """Whether ``claim`` is the one the loader made of a dated fact of an entity in ``graph``: its source is the
    fact's, so a missing one is reported once, on the entity (not again on a claim no file writes)."""
    subject, prop, value = (ctx.graph.value(claim, p) for p in (EKG.claimSubject, EKG.claimProperty, EKG.claimValue))
    if not (isinstance(subject, URIRef) and str(subject).startswith(str(ID)) and isinstance(prop, URIRef)
            and isinstance(value, Literal)):
        return False
    return minted_claim_iri(str(subject), str(prop), value.n3(), str(graph or "")) == str(claim)


def missing_sources(ctx: Context) -> Iterable[Result]:
    """Every reviewed entity is stated in a graph that is a source document's (the loader's ekg:statedIn)."""
    reported = set()
    for s, _p, _o, g in ctx.reviewed:
        if isinstance(s, URIRef) and str(s).startswith(str(ID)) and g not in ctx.source_graphs and s not in reported:
            reported.add(s)
            if made_by_loader(ctx, s, g):
                continue
            yield ctx.result(
                "source-missing",
                "Fact without a source: the file that describes this entity declares no ekg:SourceDocument (or several), "
                "so nothing says which document states it.",
                "Describe the one document the facts come from in the file: src:<slug> a ekg:SourceDocument ; "
                "dcterms:title \"...\" ; ekg:sourceKind sourcekind:... .", s, at="subject")


def basis_outside_curation(ctx: Context) -> Iterable[Result]:
    """``ekg:basis`` (general knowledge, inference...) belongs in the curation graph, never a document's."""
    for s, p, o, g in ctx.reviewed:
        if p == EKG.basis and not ctx.source_graphs.get(g, False):
            yield ctx.result("basis-outside-curation",
                             "ekg:basis marks a claim that no document states, but this graph is a document's: a "
                             "document's graph holds only what the document says.",
                             "Move the claim (and its direct triple) to data/explore-kg-curation.ttl, or, if the document "
                             "does say it, drop ekg:basis.", s, p, o, at="predicate")


def qualifiers_on_subjects(ctx: Context) -> Iterable[Result]:
    """A qualifier belongs to a value (a claim), not to the subject of the value."""
    for s, p, o, _g in ctx.reviewed:
        if p in _QUALIFIERS and EKG.Claim not in ctx.types(s):
            yield ctx.result(
                "qualifier-on-subject",
                f"{curie(p)} qualifies a value, but {curie(s)} is not an ekg:Claim: it is unclear which of its values it "
                "qualifies.",
                f"State the qualified value as a claim: {curie(s)} ekg:claim claim:<slug> . claim:<slug> a ekg:Claim ; "
                f"ekg:claimSubject {curie(s)} ; ekg:claimProperty ekg:<property> ; ekg:claimValue <value> ; "
                f"ekg:qualifier {curie(o)} .", s, p, o, at="predicate")


def claims_without_source(ctx: Context) -> Iterable[Result]:
    """A claim needs a source: ekg:statedIn (the loader adds it), the source document whose graph holds it
    (TriG keeps its graphs), or, in the curation graph, an ekg:basis."""
    sourced, claims = set(), {}
    sourcing, rdf_type, claim_class, source_graphs = (EKG.statedIn, EKG.basis), RDF.type, EKG.Claim, ctx.source_graphs
    for s, p, o, g in ctx.reviewed:
        if p in sourcing or g in source_graphs:
            sourced.add(s)
        if p == rdf_type and o == claim_class:
            claims.setdefault(s, g)
    for claim in sorted(set(claims) - sourced, key=str):
        if (claim, EKG.statedIn, None) in ctx.graph or (claim, EKG.basis, None) in ctx.graph \
                or made_by_loader(ctx, claim, claims[claim]):
            continue
        yield ctx.result("claim-source-missing",
                         "A claim needs a source: the document that states it (ekg:statedIn) or, in the curation graph, "
                         "an ekg:basis.",
                         "Put the claim in the file of the document that states it (the loader adds ekg:statedIn), or, "
                         "if no document states it, in data/explore-kg-curation.ttl with an ekg:basis.",
                         claim, RDF.type, EKG.Claim, at="subject")
