"""The "did you mean" of a misspelt term: the nearest local name by edit distance, else the most similar
one (a dropped syllable, ``signDate`` for ``signingDate``, is three edits in eight letters)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from rdflib import URIRef
from rdflib.term import Node


def closest(term: URIRef, candidates: Iterable[URIRef]) -> URIRef | None:
    """The candidate whose local name is nearest to the term's (case-insensitive edit distance, at most a
    quarter of its letters); failing that, the one most like it (similarity ratio of at least 0.8)."""
    local = _local(term).lower()
    if not local:
        return None
    candidates = [c for c in candidates if c != term]
    best, best_d = None, None
    for c in candidates:
        d = _distance(local, _local(c).lower(), limit=max(2, len(local) // 4))
        if d is not None and (best_d is None or d < best_d or (d == best_d and str(c) < str(best))):
            best, best_d = c, d
    if best is not None:
        return best
    alike = [(-difflib.SequenceMatcher(None, local, _local(c).lower()).ratio(), str(c), c) for c in candidates]
    alike = [a for a in alike if a[0] <= -SIMILAR]
    return min(alike)[2] if alike else None


SIMILAR = 0.8  # difflib's ratio: 2 x matching letters / letters of both names


def _local(iri: Node) -> str:
    s = str(iri)
    return s[max(s.rfind("/"), s.rfind("#")) + 1:]


def _distance(a: str, b: str, limit: int) -> int | None:
    """Levenshtein distance of a and b if it is at most ``limit``, else None."""
    if abs(len(a) - len(b)) > limit:
        return None
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return None
        previous = current
    return previous[-1] if previous[-1] <= limit else None
