"""The claim model (issue 9): every date a source gives is also a statement node with its bounds.

A value is stated twice in its document's graph, Wikidata style: the direct ("truthy") triple for easy
queries, and an ``ekg:Claim`` carrying the value, its qualifier, precision, earliest and latest day and
source. Authors write claims only for contested or qualified values; for every date triple the loader
(:func:`complete_date_claims`) fills in what is missing, or mints the whole claim, in the same graph:

    mission:lupex ekg:claim claim:lupex-planned-launch-lupex-overview .
    claim:lupex-planned-launch-lupex-overview a ekg:Claim ;
        ekg:claimSubject mission:lupex ; ekg:claimProperty ekg:plannedLaunchDate ;
        ekg:claimValue "2024"^^xsd:gYear ; ekg:qualifier datequal:by ;
        ekg:datePrecision precision:year ;                                    # derived if absent
        ekg:earliestDate "2024-01-01"^^xsd:date ; ekg:latestDate "2024-12-31"^^xsd:date .   # derived

The bounds are always the value's own interval, whatever the qualifier ("by 2024" still spans 2024):
the qualifier says how to read it. So ``FILTER(?earliest < "2026-01-01"^^xsd:date)``, ``ORDER BY`` and
``YEAR(?earliest)`` work across days, months, years and Japanese fiscal years with plain SPARQL.

This module works on pyoxigraph terms (the loader's) and knows nothing of files or engines.
"""

from __future__ import annotations

import calendar
import datetime
import hashlib
import re
from collections.abc import Iterable, Sequence

import pyoxigraph as ox
from rdflib import Namespace

from .namespaces import EKG, ID, VOCAB

CLAIM = Namespace(ID["claim/"])  # prefix claim:
PRECISION = Namespace(VOCAB["date-precision/"])  # prefix precision: day, month, year, fiscal-year

_XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_DATE = _XSD + "date"
XSD_GYEARMONTH = _XSD + "gYearMonth"
XSD_GYEAR = _XSD + "gYear"
JAPANESE_FISCAL_YEAR = str(EKG.japaneseFiscalYear)

# The precision concept of each date datatype the graph uses.
PRECISION_OF = {
    XSD_DATE: PRECISION["day"],
    XSD_GYEARMONTH: PRECISION["month"],
    XSD_GYEAR: PRECISION["year"],
    JAPANESE_FISCAL_YEAR: PRECISION["fiscal-year"],
}

# Date properties whatever the ontology says: ekg:date (whose sub-properties the loader adds from the
# ontology) and the dates that are deliberately not ekg:date (plans are not facts; publication).
BASE_DATE_PROPERTIES = (EKG.date, EKG.plannedLaunchDate, EKG.plannedDate, EKG.published)

_TZ = r"(?:Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00))?"
_YEAR = r"(\d{4})"  # years 0001-9999: what an xsd:date bound can be written as in Python
_LEXICAL = {
    XSD_DATE: re.compile(_YEAR + r"-(\d\d)-(\d\d)" + _TZ),
    XSD_GYEARMONTH: re.compile(_YEAR + r"-(\d\d)" + _TZ),
    XSD_GYEAR: re.compile(_YEAR + _TZ),
    JAPANESE_FISCAL_YEAR: re.compile(_YEAR),
}


def date_bounds(lexical: str, datatype: str) -> tuple[str, datetime.date, datetime.date] | None:
    """(precision concept IRI, earliest day, latest day) a date literal can mean, or None.

    xsd:date d -> [d, d]; xsd:gYearMonth Y-M -> [first, last day of the month]; xsd:gYear Y ->
    [Y-01-01, Y-12-31]; ekg:japaneseFiscalYear Y -> [Y-04-01, (Y+1)-03-31]. None for any other datatype
    and for an ill-typed literal (``"2024-13"^^xsd:gYearMonth``): the validator reports those.
    """
    pattern = _LEXICAL.get(datatype)
    m = pattern.fullmatch(lexical.strip()) if pattern is not None else None
    if m is None:
        return None
    try:
        year = int(m.group(1))
        if datatype == XSD_DATE:
            day = datetime.date(year, int(m.group(2)), int(m.group(3)))
            earliest = latest = day
        elif datatype == XSD_GYEARMONTH:
            month = int(m.group(2))
            earliest = datetime.date(year, month, 1)
            latest = datetime.date(year, month, calendar.monthrange(year, month)[1])
        elif datatype == XSD_GYEAR:
            earliest, latest = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        else:  # a Japanese fiscal year runs from 1 April to 31 March of the next calendar year
            earliest, latest = datetime.date(year, 4, 1), datetime.date(year + 1, 3, 31)
    except ValueError:  # month 13, 30 February, year 0 or 9999 + 1
        return None
    return str(PRECISION_OF[datatype]), earliest, latest


def literal_bounds(term) -> tuple[str, datetime.date, datetime.date] | None:
    """:func:`date_bounds` of a pyoxigraph or rdflib literal (None for anything else)."""
    datatype = getattr(term, "datatype", None)
    if datatype is None or getattr(term, "language", None):
        return None
    return date_bounds(str(term.value) if isinstance(term, ox.Literal) else str(term), str(getattr(datatype, "value", datatype)))


def claim_iri(subject, prop, value: ox.Literal, graph) -> ox.NamedNode:
    """The claim the loader mints for one date triple in one graph: the same on every load.

    ``claim:`` + the first 16 hex digits of sha256("{s}|{p}|{value as N-Triples}|{graph}"), where IRIs
    are written bare and the default graph as "".
    """
    return ox.NamedNode(minted_claim_iri(_bare(subject), _bare(prop), str(value), _bare(graph)))


def minted_claim_iri(subject: str, prop: str, value: str, graph: str) -> str:
    """:func:`claim_iri` from the bare IRIs (blank-node labels) and the value written as N-Triples."""
    return str(CLAIM) + hashlib.sha256(f"{subject}|{prop}|{value}|{graph}".encode()).hexdigest()[:16]


def _bare(term) -> str:
    if isinstance(term, ox.DefaultGraph):
        return ""
    return term.value if isinstance(term, ox.NamedNode | ox.BlankNode) else str(term)


_SUBPROPERTY = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subPropertyOf")
_EQUIVALENT_PROPERTY = ox.NamedNode("http://www.w3.org/2002/07/owl#equivalentProperty")
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_DATE_TYPE = ox.NamedNode(XSD_DATE)

_N = {name: ox.NamedNode(str(EKG[name])) for name in (
    "Claim", "claim", "claimSubject", "claimProperty", "claimValue", "datePrecision", "earliestDate",
    "latestDate", "date")}
_CLAIM_PREDICATES = frozenset(_N[n] for n in ("claimSubject", "claimProperty", "claimValue", "datePrecision",
                                              "earliestDate", "latestDate"))
_DATE_DATATYPES = frozenset(ox.NamedNode(d) for d in PRECISION_OF)

# What complete_date_claims reads, for a loader that picks those quads out of a stream: besides the
# date literals (DATE_DATATYPES), the claim properties, ekg:claim links and things typed CLAIM_CLASS.
DATE_DATATYPES = _DATE_DATATYPES
CLAIM_PREDICATES = _CLAIM_PREDICATES | {_N["claim"]}
CLAIM_CLASS = _N["Claim"]


def subproperty_edges(quads: Iterable[ox.Quad]) -> list[tuple[ox.NamedNode, ox.NamedNode]]:
    """(sub, super) for every rdfs:subPropertyOf (and owl:equivalentProperty, both ways) between IRIs."""
    edges = []
    for q in quads:
        if q.predicate == _SUBPROPERTY or q.predicate == _EQUIVALENT_PROPERTY:
            if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.NamedNode):
                edges.append((q.subject, q.object))
                if q.predicate == _EQUIVALENT_PROPERTY:
                    edges.append((q.object, q.subject))
    return edges


def date_properties(edges: Iterable[tuple[ox.NamedNode, ox.NamedNode]]) -> frozenset[ox.NamedNode]:
    """The properties whose date values get claims: the base ones and every sub-property of ekg:date
    (and of ekg:temporalValue, the super-property of every date the graph holds)."""
    subs: dict[ox.NamedNode, list[ox.NamedNode]] = {}
    for sub, sup in edges:
        subs.setdefault(sup, []).append(sub)
    found = {ox.NamedNode(str(p)) for p in BASE_DATE_PROPERTIES}
    todo = [_N["date"], ox.NamedNode(str(EKG.temporalValue))]
    while todo:
        for sub in subs.get(todo.pop(), ()):
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return frozenset(found)


def complete_date_claims(quads: Sequence[ox.Quad], properties: frozenset[ox.NamedNode]) -> list[ox.Quad]:
    """The quads to add so that every date triple of ``properties`` has a complete claim in its graph.

    One pass over ``quads``. A claim the authors wrote (claimSubject s, or ``s ekg:claim c``;
    claimProperty p; claimValue d, in graph G) for a date triple (s, p, d) in G is filled in: its
    missing precision, bounds, type and links to s. Any other date triple gets a claim minted with
    :func:`claim_iri`. Every authored claim whose value is a date gets its missing precision and bounds.
    Ill-typed dates get nothing (the validator reports them). Deterministic: the output follows the input's order.
    """
    dates: list[ox.Quad] = []
    claims: dict[tuple, dict[ox.NamedNode, list]] = {}  # (graph, claim node) -> predicate -> objects
    links: list[ox.Quad] = []  # s ekg:claim c
    claim_link, claim_type = _N["claim"], _N["Claim"]
    for q in quads:
        p, o = q.predicate, q.object
        if p in _CLAIM_PREDICATES or (p == _RDF_TYPE and o == claim_type):
            claims.setdefault((q.graph_name, q.subject), {}).setdefault(p, []).append(o)
        elif p == claim_link:
            links.append(q)
        elif p in properties and isinstance(o, ox.Literal) and o.datatype in _DATE_DATATYPES:
            dates.append(q)
    for q in links:  # an authored claim linked from its subject only
        props = claims.get((q.graph_name, q.object))
        if props is not None:
            props.setdefault(claim_link, []).append(q.subject)

    added: dict[ox.Quad, None] = {}  # a set that keeps the input's order: deterministic output
    # (graph, subject, property, value) -> the authored claims that state it
    authored: dict[tuple, list] = {}
    for (graph, node), props in claims.items():
        subjects = set(props.get(_N["claimSubject"], ())) | set(props.get(claim_link, ()))
        for value in props.get(_N["claimValue"], ()):
            bounds = literal_bounds(value) if isinstance(value, ox.Literal) else None
            if bounds is not None:
                added.update(dict.fromkeys(_bounds_quads(node, props, bounds, graph)))
            for subject in subjects:
                for prop in props.get(_N["claimProperty"], ()):
                    authored.setdefault((graph, subject, prop, value), []).append((node, props))

    for q in dates:
        bounds = literal_bounds(q.object)
        if bounds is None:
            continue
        graph, s = q.graph_name, q.subject
        found = authored.get((graph, s, q.predicate, q.object))
        if found:
            for node, props in found:
                if claim_type not in props.get(_RDF_TYPE, ()):
                    added[ox.Quad(node, _RDF_TYPE, claim_type, graph)] = None
                if s not in props.get(_N["claimSubject"], ()):
                    added[ox.Quad(node, _N["claimSubject"], s, graph)] = None
                if s not in props.get(claim_link, ()):
                    added[ox.Quad(s, claim_link, node, graph)] = None
            continue
        node = claim_iri(s, q.predicate, q.object, graph)
        added.update(dict.fromkeys((
            ox.Quad(s, claim_link, node, graph),
            ox.Quad(node, _RDF_TYPE, claim_type, graph),
            ox.Quad(node, _N["claimSubject"], s, graph),
            ox.Quad(node, _N["claimProperty"], q.predicate, graph),
            ox.Quad(node, _N["claimValue"], q.object, graph),
        )))
        added.update(dict.fromkeys(_bounds_quads(node, {}, bounds, graph)))
    return list(added)


def _bounds_quads(node, props: dict, bounds: tuple[str, datetime.date, datetime.date], graph) -> list[ox.Quad]:
    precision, earliest, latest = bounds
    out = []
    if _N["datePrecision"] not in props:
        out.append(ox.Quad(node, _N["datePrecision"], ox.NamedNode(precision), graph))
    if _N["earliestDate"] not in props:
        out.append(ox.Quad(node, _N["earliestDate"], ox.Literal(earliest.isoformat(), datatype=_DATE_TYPE), graph))
    if _N["latestDate"] not in props:
        out.append(ox.Quad(node, _N["latestDate"], ox.Literal(latest.isoformat(), datatype=_DATE_TYPE), graph))
    return out


# --- reading claims back: one row per claim, for the notebook API ----------------------------------

CLAIM_COLUMNS = ("claim", "subject", "property", "value", "precision", "qualifier", "earliest", "latest", "source")

_CLAIMS_QUERY = """\
PREFIX ekg: <https://w3id.org/explore-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?claim ?subject ?property ?value ?precision ?qualifier ?earliest ?latest ?source WHERE {
  @FILTERS@
  ?claim a ekg:Claim ; ekg:claimSubject ?subject ; ekg:claimProperty ?property ; ekg:claimValue ?value .
  OPTIONAL { ?claim ekg:datePrecision ?precision }
  OPTIONAL { ?claim ?qualifies ?qualifier .
             FILTER(?qualifies = ekg:qualifier || EXISTS { ?qualifies rdfs:subPropertyOf+ ekg:qualifier }) }
  OPTIONAL { ?claim ekg:earliestDate ?earliest }
  OPTIONAL { ?claim ekg:latestDate ?latest }
  OPTIONAL { ?claim ekg:statedIn ?source }
}
ORDER BY ?subject ?property ?earliest STR(?value) ?source ?claim ?qualifier
"""


def claims_query(subject: str | None = None, prop: str | None = None) -> str:
    """SPARQL for the claims (columns :data:`CLAIM_COLUMNS`), of one subject and/or property if given.

    Each may be an IRI (``<...>``, absolute or a prefixed name such as ``mission:lupex``) or a name
    (label, acronym...: any of :data:`explore_kg.labels.NAME_PROPERTIES`, case-insensitive). Values are
    written into the query as escaped RDF terms, never as raw text. The qualifier is any sub-property of
    ekg:qualifier (such as ekg:dateQualifier), so the query answers with or without entailments.
    """
    from .labels import NAME_PROPERTIES
    from .saved_queries import expand_iri

    filters = []
    names = " ".join(f"<{p}>" for p in NAME_PROPERTIES)
    for var, given in (("subject", subject), ("property", prop)):
        if given is None:
            continue
        iri = given.value if isinstance(given, ox.NamedNode) else expand_iri(str(given))
        if iri is not None:
            filters.append(f"VALUES ?{var} {{ {ox.NamedNode(iri)} }}")
        else:
            needle = ox.Literal(str(given).strip().lower())
            filters.append(f"?{var} ?{var}_name_property ?{var}_name . VALUES ?{var}_name_property {{ {names} }} "
                           f"FILTER(LCASE(STR(?{var}_name)) = {needle})")
    return _CLAIMS_QUERY.replace("@FILTERS@", "\n  ".join(filters))


def claims_frame(result, *, labels: bool = True):
    """A pandas DataFrame, one row per claim, from the answer to :func:`claims_query`.

    subject, property, qualifier and source are names (``labels``) or IRIs; value is the value as the
    source gives it (a date as its text: "2024", or "2025" for JFY 2025 with precision fiscal-year; an
    IRI as a name or IRI; other literals as Python values); precision is the concept's local name (day,
    month, year, fiscal-year); earliest and latest are ``datetime64``. A claim with several qualifiers
    or sources (rare) has them joined by "; ".
    """
    import pandas as pd
    from rdflib import URIRef

    from .api import python_value
    from .namespaces import compact

    names = result.labels() if labels else {}

    def shown(term) -> str | None:
        if term is None:
            return None
        if isinstance(term, URIRef):
            return names.get(str(term), compact(str(term))) if labels else str(term)
        return str(term)

    rows: dict[str, dict] = {}
    for record in result.records():
        row = rows.get(str(record["claim"]))
        if row is None:
            value = record.get("value")
            is_date = value is not None and literal_bounds(value) is not None
            precision = record.get("precision")
            row = rows[str(record["claim"])] = {
                "claim": str(record["claim"]) if not labels else compact(str(record["claim"])),
                "subject": shown(record.get("subject")),
                "property": shown(record.get("property")),
                "value": str(value) if is_date else shown(value) if isinstance(value, URIRef) else python_value(value),
                "precision": str(precision).rsplit("/", 1)[-1] if precision is not None else None,
                "qualifier": [],
                "earliest": python_value(record.get("earliest")),
                "latest": python_value(record.get("latest")),
                "source": [],
            }
        for col in ("qualifier", "source"):
            text = shown(record.get(col))
            if text is not None and text not in row[col]:
                row[col].append(text)
    data = [{**row, "qualifier": "; ".join(row["qualifier"]) or None, "source": "; ".join(row["source"]) or None}
            for row in rows.values()]
    df = pd.DataFrame(data, columns=list(CLAIM_COLUMNS))
    for col in ("earliest", "latest"):
        df[col] = pd.to_datetime(df[col])
    return df
