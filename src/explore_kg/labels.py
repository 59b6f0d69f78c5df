"""The names we show for IRIs: which properties name a thing, in what order, in which language.

One :class:`NameIndex` answers two questions for every IRI it has read names of:

* :meth:`NameIndex.full`: the name a page title shows: rdfs:label before skos:prefLabel before
  dcterms:title, schema:name, foaf:name and last ekg:acronym, English (or untagged) before other
  languages within each property;
* :meth:`NameIndex.short`: the name a table cell shows: the acronym (JAXA, MMX) unless it is too short
  to mean anything alone (an agreement's "IA"), else the full name.

It reads names from quads (:meth:`NameIndex.add_quads`, the web pages' index of the loaded data) or
from the rows of :func:`names_query` (:meth:`NameIndex.add_rows`, the Python API and the saved-query
routes, which ask the engine).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pyoxigraph as ox

from .namespaces import DCTERMS, EKG, FOAF, RDFS, SDO, SKOS

ACRONYM = str(EKG.acronym)
# Properties whose value names a thing, best first.
NAME_PROPERTIES = [str(p) for p in (RDFS.label, SKOS.prefLabel, DCTERMS.title, SDO.name, FOAF.name, EKG.acronym)]
# An acronym shorter than this is no name on its own (an agreement's "IA"): a table shows the full name.
SHORT_NAME_MIN = 3

_NAMES_QUERY = """\
SELECT DISTINCT ?iri ?property ?name WHERE {
  VALUES ?iri { @IRIS@ }
  VALUES ?property { @PROPERTIES@ }
  ?iri ?property ?name .
  FILTER(isLiteral(?name))
}
"""


def names_query(iris: Iterable[str]) -> str | None:
    """SPARQL for the names of these IRIs, answering (?iri ?property ?name) rows for
    :meth:`NameIndex.add_rows`; the IRIs are written as terms into VALUES (text that is no IRI is
    left out). None when no IRI is left."""
    terms = []
    for iri in iris:
        try:
            terms.append(str(ox.NamedNode(iri)))
        except ValueError:
            continue
    if not terms:
        return None
    properties = " ".join(f"<{p}>" for p in NAME_PROPERTIES)
    return _NAMES_QUERY.replace("@IRIS@", " ".join(terms)).replace("@PROPERTIES@", properties)


def is_english(lang: str | None) -> bool:
    """Untagged names count as English: the data writes its names in English."""
    lang = (lang or "en").lower()
    return lang == "en" or lang.startswith("en-")


class NameIndex:
    """The names read for each IRI, ranked by property then language; the first read wins a tie.

    A ``base`` index answers for the IRIs this one has no name for (a page's own names over the
    names of the whole graph).
    """

    def __init__(self, base: NameIndex | None = None):
        self._names: dict[str, list[tuple[int, int, str]]] = {}  # iri -> (property rank, language rank, name)
        self.base = base

    def add(self, iri: str, prop: str, text: str, lang: str | None = None) -> None:
        """One name of ``iri``; values of properties that are not name properties are ignored."""
        if prop in NAME_PROPERTIES:
            rank = NAME_PROPERTIES.index(prop), 0 if is_english(lang) else 1
            self._names.setdefault(iri, []).append((*rank, text))

    def add_quads(self, quads: Iterable[ox.Quad]) -> NameIndex:
        """The names in these quads (pyoxigraph), in their order: the first an author wrote wins a tie."""
        for q in quads:
            if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.Literal):
                self.add(q.subject.value, q.predicate.value, q.object.value, q.object.language)
        return self

    def add_rows(self, rows: Iterable[tuple[Any, Any, Any]]) -> NameIndex:
        """The (iri, property, name) rows of :func:`names_query`, as rdflib terms. Rows come in no
        defined order, so they are read in the order of the names: a tie goes to the same name every time."""
        for iri, prop, name in sorted(rows, key=lambda row: str(row[2])):
            self.add(str(iri), str(prop), str(name), getattr(name, "language", None))
        return self

    def __contains__(self, iri: object) -> bool:
        return iri in self._names

    def __iter__(self) -> Iterator[str]:
        """The IRIs this index (not its base) has names for, in the order first read."""
        return iter(self._names)

    def full(self, iri: str) -> str | None:
        """The best name of ``iri`` (what a page title shows), or None when it has none."""
        names = self._names.get(iri)
        if names:
            return min(names, key=lambda n: n[:2])[2]
        return self.base.full(iri) if self.base else None

    def short(self, iri: str, min_length: int = SHORT_NAME_MIN) -> str | None:
        """The acronym of ``iri`` if it has ``min_length`` characters or more, else its full name."""
        names = self._names.get(iri)
        if not names:
            return self.base.short(iri, min_length) if self.base else None
        acronyms = [n for n in names if NAME_PROPERTIES[n[0]] == ACRONYM and len(n[2]) >= min_length]
        return min(acronyms, key=lambda n: n[1])[2] if acronyms else self.full(iri)
