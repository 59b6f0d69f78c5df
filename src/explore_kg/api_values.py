"""RDF terms as Python values and as table cells, and SPARQL JSON results back as rdflib terms.

Split from :mod:`explore_kg.api`, which re-exports every name here (``explore_kg.api.python_value``...).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from .namespaces import DATE_PRECISION, EKG
from .saved_queries import compact

JFY = str(EKG.japaneseFiscalYear)
_INTEGERS = {str(XSD[t]) for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger",
                                   "positiveInteger", "negativeInteger", "nonPositiveInteger",
                                   "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte")}
_FLOATS = {str(XSD.decimal), str(XSD.double), str(XSD.float)}

# --- turning RDF terms into Python values ----------------------------------------------------------

def date_precision(term: Node | None) -> str | None:
    """"day", "month", "year" or "Japanese fiscal year" for a date literal, else None."""
    if isinstance(term, Literal) and term.datatype is not None:
        return DATE_PRECISION.get(str(term.datatype))
    return None


def python_value(term: Node | None) -> Any:
    """A plain Python value for one term: int, float, bool, datetime.date, str (IRIs as their text).

    Years (xsd:gYear and Japanese fiscal years) become int; a month (xsd:gYearMonth) becomes the
    text ``YYYY-MM``; the precision is for :func:`date_precision` to say.
    """
    if term is None:
        return None
    if not isinstance(term, Literal):
        return str(term)
    datatype = str(term.datatype) if term.datatype else None
    text = str(term)
    try:
        if datatype in _INTEGERS:
            return int(text)
        if datatype in _FLOATS:
            return float(text)
        if datatype == str(XSD.boolean):
            return text in ("true", "1")
        if datatype == str(XSD.date):
            return datetime.date.fromisoformat(text[:10])
        if datatype == str(XSD.dateTime):
            return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if datatype in (str(XSD.gYear), JFY):
            return int(text[:4] if not text.startswith("-") else text[:5])
    except ValueError:
        return text  # an ill-typed literal stays as written
    return text


def display(term: Node | None, labels: Mapping[str, str] | None = None, iris: bool = False) -> str:
    """How a term reads in a table: a label (or prefixed name) for an IRI, "JFY 2025" for a fiscal year."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        if not iris and labels and str(term) in labels:
            return labels[str(term)]
        return compact(str(term))
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal) and term.datatype is not None and str(term.datatype) == JFY:
        return f"JFY {term}"
    return str(term)


def period_start(term: Literal) -> datetime.date | None:
    """The first day a date literal of any precision covers: JFY N starts 1 April N, a year on
    1 January, a month on its 1st. (Not a pandas ``Y-MAR`` Period: pandas names those by the year
    they *end*, so JFY 2025 would read "2026".)"""
    precision = date_precision(term)
    text = str(term)
    try:
        if precision == "day":
            return datetime.date.fromisoformat(text[:10])
        if precision == "month":
            return datetime.date(int(text[:4]), int(text[5:7]), 1)
        if precision == "year":
            return datetime.date(int(text[:4]), 1, 1)
        if precision == "Japanese fiscal year":  # JFY N runs 1 April N to 31 March N+1
            return datetime.date(int(text[:4]), 4, 1)
    except ValueError:
        return None
    return None


def _parse_sparql_json(body: bytes) -> tuple[list[str], list[tuple], bool | None]:
    data = json.loads(body)
    if "boolean" in data:
        return [], [], bool(data["boolean"])
    columns = list(data.get("head", {}).get("vars", []))
    rows = []
    for binding in data.get("results", {}).get("bindings", []):
        rows.append(tuple(_json_term(binding.get(c)) for c in columns))
    return columns, rows, None


def _json_term(value: Mapping | None) -> Node | None:
    if value is None:
        return None
    kind = value["type"]
    if kind == "uri":
        return URIRef(value["value"])
    if kind == "bnode":
        return BNode(value["value"])
    if "xml:lang" in value:
        return Literal(value["value"], lang=value["xml:lang"])
    datatype = value.get("datatype")
    if datatype and datatype != str(XSD.string):
        return Literal(value["value"], datatype=URIRef(datatype))
    return Literal(value["value"])
