"""The date claims of a streamed file, written as N-Quads lines without a term object per quad.

:func:`explore_kg.claims.complete_date_claims` mints eight quads of ``ekg:Claim`` for every date triple;
at a million triples that is ~0.7M quads, and making each an ``ox.Quad`` (then serialising it) cost a
third of the bulk load and gigabytes at 10M. Most date triples are plain: an IRI subject in a named
graph, a literal such as ``"2024"^^xsd:gYear``, and no claim written by an author for that subject. For
those the claim is formatted here, straight from the line's own bytes, with the same IRI
(:func:`explore_kg.claims.minted_claim_iri`) and bounds (:func:`explore_kg.claims.date_bounds`) as the
term path; every other line (authored claims and their subjects, blank nodes, unusual literals) still
goes through ``complete_date_claims``. tests/test_store.py compares both paths' stores.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ..claims import PRECISION_OF, XSD_DATE, date_bounds, minted_claim_iri
from ..namespaces import EKG

# subject, predicate, the literal (its lexical form, its datatype), graph: a date triple in a named graph
_DATE_LINE = re.compile(rb'[ \t]*<([^>]*)>[ \t]+<([^>]*)>[ \t]+("([0-9][0-9:+Z-]*)"\^\^<([^>]*)>)[ \t]+<([^>]*)>'
                        rb'[ \t]*\.[ \t]*\r?\n?')
_DATATYPES = frozenset(PRECISION_OF)
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
CHUNK = 20_000  # date triples per block of lines handed to the bulk loader


def split_plain_dates(lines: Iterable[bytes], date_properties: frozenset[str] | None = None,
                      authored: frozenset[tuple[str, str]] = frozenset()) -> tuple[list[bytes], list[bytes]]:
    """(the lines of plain date triples, every other line). Plain: the predicate is one of
    ``date_properties`` (None: any, for a first split before the ontology's axioms are read), the
    literal a date of a known datatype, and no authored claim is about (graph, subject) in
    ``authored``; those are left to complete_date_claims, which matches them to their claims."""
    plain, others = [], []
    match = _DATE_LINE.fullmatch
    for line in lines:
        m = None if b"\\" in line else match(line)
        if m is None or m.group(5).decode() not in _DATATYPES or (
                date_properties is not None and m.group(2).decode() not in date_properties) or (
                m.group(6).decode(), m.group(1).decode()) in authored:
            others.append(line)
        else:
            plain.append(line)
    return plain, others


def claim_lines(plain: list[bytes], sources: frozenset[str], minted: list[str] | None = None) -> Iterator[bytes]:
    """N-Quads lines of the claim of each plain date triple (:func:`split_plain_dates`), in blocks;
    ``ekg:statedIn`` for a claim in a source document's graph (``sources``: their IRIs), as
    :func:`explore_kg.loading.quad_file_additions` adds it. ``minted`` (if given) receives each claim IRI."""
    claim, kind = str(EKG.claim), str(EKG.Claim)
    c_subject, c_property, c_value = str(EKG.claimSubject), str(EKG.claimProperty), str(EKG.claimValue)
    c_precision, c_earliest, c_latest = str(EKG.datePrecision), str(EKG.earliestDate), str(EKG.latestDate)
    stated_in = str(EKG.statedIn)
    match = _DATE_LINE.fullmatch
    out: list[str] = []
    for line in plain:
        s, p, literal, lexical, datatype, g = (part.decode() for part in match(line).groups())
        bounds = date_bounds(lexical, datatype)
        if bounds is None:
            continue  # ill-typed: the validator reports it
        precision, earliest, latest = bounds
        node = minted_claim_iri(s, p, literal, g)
        if minted is not None:
            minted.append(node)
        out.append(
            f"<{s}> <{claim}> <{node}> <{g}> .\n<{node}> <{_RDF_TYPE}> <{kind}> <{g}> .\n"
            f"<{node}> <{c_subject}> <{s}> <{g}> .\n<{node}> <{c_property}> <{p}> <{g}> .\n"
            f"<{node}> <{c_value}> {literal} <{g}> .\n<{node}> <{c_precision}> <{precision}> <{g}> .\n"
            f'<{node}> <{c_earliest}> "{earliest.isoformat()}"^^<{XSD_DATE}> <{g}> .\n'
            f'<{node}> <{c_latest}> "{latest.isoformat()}"^^<{XSD_DATE}> <{g}> .\n')
        if g in sources:
            out.append(f"<{node}> <{stated_in}> <{g}> <{g}> .\n")
        if len(out) >= CHUNK:
            yield "".join(out).encode()
            out = []
    if out:
        yield "".join(out).encode()


def claimed_subjects(quads: Iterable) -> frozenset[tuple[str, str]]:
    """(graph, subject) IRIs that some authored claim is about (``ekg:claimSubject`` or ``ekg:claim``)."""
    subject_of, link = str(EKG.claimSubject), str(EKG.claim)
    found = set()
    for q in quads:
        p = q.predicate.value
        if p == subject_of:
            found.add((getattr(q.graph_name, "value", ""), getattr(q.object, "value", "")))
        elif p == link:
            found.add((getattr(q.graph_name, "value", ""), getattr(q.subject, "value", "")))
    return frozenset(found)
