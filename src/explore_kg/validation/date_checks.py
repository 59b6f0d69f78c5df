"""Checks of dates: well-formed values of the four date datatypes, an end not before its start, no launch
date stated as a fact for a mission that has not flown, and every date's earliest and latest day (the
claims the loader derives) present and consistent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from rdflib import RDF, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from ..namespaces import EKG, VOCAB
from . import dates
from .context import Context, turtle
from .report import Result, curie

# Mission statuses that say the thing has not flown yet: its launch date can only be a plan.
_NOT_YET_FLOWN = frozenset(VOCAB[f"mission-status/{s}"] for s in (
    "concept", "under-study", "candidate", "planning", "pending-approval", "approved", "under-development"))


def date_values(ctx: Context) -> Iterable[Result]:
    """Every value of a date property is a well-formed date of one of the four datatypes."""
    props = ctx.date_properties
    claims_about_dates = {c for c, prop in ctx.graph.subject_objects(EKG.claimProperty) if prop in props}
    claim_value, bounds, xsd_date = EKG.claimValue, (EKG.earliestDate, EKG.latestDate), XSD.date  # (once, not per triple)
    for s, p, o, _g in ctx.reviewed:
        checked = p in props or (p == claim_value and s in claims_about_dates and isinstance(o, Literal))
        if p in bounds and isinstance(o, Literal) and o.datatype != xsd_date:
            yield ctx.result("date-wrong-datatype", f"{curie(p)} is a day: an xsd:date, not {o.n3()}.",
                             "Write the bound as \"YYYY-MM-DD\"^^xsd:date (or leave it out: the loader derives it).", s, p, o)
            continue
        if not checked:
            continue
        if not isinstance(o, Literal):
            yield ctx.result("date-wrong-datatype", f"{curie(p)} takes a date literal, not {curie(o)}.",
                             'Write the date itself, e.g. "2024-05-01"^^xsd:date.', s, p, o)
            continue
        found = dates.problem(o)
        if found:
            rule, message, hint = found
            yield ctx.result(rule, f"{curie(p)}: {message}", hint, s, p, o)


def end_before_start(ctx: Context) -> Iterable[Result]:
    """An end date whose whole interval lies before the start date's (any precision, fiscal years too)."""
    for s, p, end, _g in ctx.reviewed:
        if p != EKG.endDate or not isinstance(end, Literal):
            continue
        end_span = dates.interval(end)
        for start in ctx.graph.objects(s, EKG.startDate):
            start_span = dates.interval(start) if isinstance(start, Literal) else None
            if end_span and start_span and end_span[1] < start_span[0]:
                yield ctx.result("end-before-start",
                                 f"The end date {end} is before the start date {start}.",
                                 "Swap ekg:startDate and ekg:endDate, or check both dates against the source.", s, p, end)


def plans_as_facts(ctx: Context) -> Iterable[Result]:
    """``ekg:launchDate`` on a mission that has not flown yet (a planning status): a plan is not a fact."""
    for s, p, o, _g in ctx.reviewed:
        if p != EKG.launchDate:
            continue
        statuses = set(ctx.graph.objects(s, EKG.missionStatus))
        statuses |= {ctx.graph.value(c, EKG.claimValue) for c in ctx.graph.objects(s, EKG.claim)
                     if ctx.graph.value(c, EKG.claimProperty) == EKG.missionStatus}
        planned = sorted((st for st in statuses if st in _NOT_YET_FLOWN), key=str)
        if planned:
            yield ctx.result("plan-as-fact",
                             f"{curie(s)} has status {curie(planned[0])}, so it has not launched: ekg:launchDate states a "
                             "launch as a fact.",
                             f"Write ekg:plannedLaunchDate {o.n3() if not isinstance(o, Literal) else turtle(o)} "
                             "instead (a plan is not a fact).", s, p, o, at="predicate")


def claim_bounds(ctx: Context) -> Iterable[Result]:
    """A date claim's earliest/latest day and precision are the value's own interval (the loader derives them)."""
    g = ctx.graph
    reviewed_claims = {q[0] for q in ctx.reviewed if q[1] == RDF.type and q[2] == EKG.Claim}
    for claim in sorted(reviewed_claims, key=str):
        values = list(g.objects(claim, EKG.claimValue))
        if len(values) != 1 or len(set(g.objects(claim, EKG.claimProperty))) != 1:
            continue  # the claim shapes report it; its bounds mean nothing yet
        value = values[0]
        if not isinstance(value, Literal) or value.datatype not in dates.DATE_TYPES:
            continue
        span = dates.interval(value)
        if span is None:
            continue  # date_values reports the value itself
        for prop, expected in ((EKG.earliestDate, span[0]), (EKG.latestDate, span[1])):
            given = list(g.objects(claim, prop))
            if not given:
                yield ctx.result("claim-bounds-missing", f"The claim's date {value} has no {curie(prop)}.",
                                 f"Add {curie(prop)} \"{expected.isoformat()}\"^^xsd:date (the loader derives it for "
                                 "files it loads).", claim, EKG.claimValue, value)
            for bound in given:
                if str(bound) != expected.isoformat():
                    yield ctx.result("claim-bounds-inconsistent",
                                     f"{curie(prop)} {bound} does not match the value {value}, whose interval is "
                                     f"{span[0].isoformat()} to {span[1].isoformat()}.",
                                     f"Write {curie(prop)} \"{expected.isoformat()}\"^^xsd:date, or leave the bounds out "
                                     "and let the loader derive them (the qualifier says how to read the value).",
                                     claim, prop, bound)
        if span[0] > span[1]:
            continue
        earliest, latest = g.value(claim, EKG.earliestDate), g.value(claim, EKG.latestDate)
        if isinstance(earliest, Literal) and isinstance(latest, Literal) and str(latest) < str(earliest):
            yield ctx.result("claim-bounds-inconsistent", f"ekg:latestDate {latest} is before ekg:earliestDate {earliest}.",
                             "Swap them, or leave both out and let the loader derive them.", claim, EKG.latestDate, latest)


def dates_without_bounds(ctx: Context) -> Iterable[Result]:
    """Every date triple has, in its own graph, a claim carrying its earliest and latest day (issue 9).

    The loader derives these claims for every file it reads, so this fails only for data that bypassed
    it. Checked once the ontology has the claim model (it declares ekg:earliestDate).
    """
    if EKG.earliestDate not in ctx.properties:
        return
    claims: dict[tuple[str, Node], dict[URIRef, set[Node]]] = defaultdict(lambda: defaultdict(set))
    subject_of: dict[tuple[str, Node], Node] = {}
    claim_parts, claim_subject, claim = (EKG.claimProperty, EKG.claimValue, EKG.earliestDate, EKG.latestDate), \
        EKG.claimSubject, EKG.claim  # (once, not per triple)
    for s, p, o, g in ctx.reviewed:
        if p in claim_parts:
            claims[(g, s)][p].add(o)
        elif p == claim_subject:
            subject_of[(g, s)] = o
        elif p == claim:
            subject_of.setdefault((g, o), s)
    bounded = {(g, subject_of.get((g, c)), prop, value)
               for (g, c), about in claims.items() if about[EKG.earliestDate] and about[EKG.latestDate]
               for prop in about[EKG.claimProperty] for value in about[EKG.claimValue]}
    skip, date_properties = (EKG.earliestDate, EKG.latestDate, EKG.claimValue), ctx.date_properties
    for s, p, o, g in ctx.reviewed:
        if p in date_properties and p not in skip and isinstance(o, Literal) and dates.interval(o) is not None \
                and (g, s, p, o) not in bounded:
            yield ctx.result("date-bounds-missing",
                             f"The date {turtle(o)} has no claim with its earliest and latest day in this graph, so "
                             "it does not sort or filter with the other dates.",
                             "Load the file with explore-kg (the loader adds the claim), or add ekg:claim with "
                             "ekg:claimProperty, ekg:claimValue, ekg:earliestDate and ekg:latestDate.", s, p, o)
