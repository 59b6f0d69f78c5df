"""Pages for people: the SPARQL editor, the saved-query gallery and a page for every IRI we mint.

Each IRI of https://w3id.org/explore-kg/ dereferences here (``/id/...``, ``/vocab/...``, ``/source/...``,
``/ontology``; also under ``/explore-kg/...``, the path w3id redirects keep). A browser gets HTML; an RDF
client asking the same URL for Turtle, JSON-LD, N-Triples or RDF/XML gets the entity's description.
Every page is built from SPARQL run by the server's engine (``app.state.engine``), so the pages show
exactly what the endpoint answers. Templates escape everything (labels come from data) and pages load
only the package's own scripts and styles: no inline script, no request leaves the machine.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from rdflib import Literal, URIRef
from starlette.routing import request_response

from .labels import NAME_PROPERTIES, NameIndex
from .namespaces import (
    BASE,
    DATE_PRECISION,
    EKG,
    INFERRED_GRAPH,
    ONTOLOGY_GRAPH,
    ONTOLOGY_IRI,
    PREFIXES,
    WD,
    compact,
)

STATIC_DIR = Path(__file__).with_name("static")

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
SPARQL_JSON = "application/sparql-results+json"

# Result formats offered as downloads: name -> (media type, file extension, label).
BINDINGS_FORMATS = {
    "json": (SPARQL_JSON, "srj", "JSON"),
    "xml": ("application/sparql-results+xml", "srx", "XML"),
    "csv": ("text/csv", "csv", "CSV"),
    "tsv": ("text/tab-separated-values", "tsv", "TSV"),
}
GRAPH_FORMATS = {
    "turtle": ("text/turtle", "ttl", "Turtle"),
    "jsonld": ("application/ld+json", "jsonld", "JSON-LD"),
    "ntriples": ("application/n-triples", "nt", "N-Triples"),
    "rdfxml": ("application/rdf+xml", "rdf", "RDF/XML"),
}
RESULT_FORMATS = {**BINDINGS_FORMATS, **GRAPH_FORMATS}
RDF_MEDIA_TYPES = {media: name for name, (media, _, _) in GRAPH_FORMATS.items()}

DEFINITION_PROPERTIES = ["http://www.w3.org/2004/02/skos/core#definition", str(EKG.description),
                         "http://purl.org/dc/terms/description", "http://www.w3.org/2000/01/rdf-schema#comment"]
EXACT_MATCH = "http://www.w3.org/2004/02/skos/core#exactMatch"

# Pages and the timeline write a Japanese fiscal year as "JFY".
SHOWN_DATE_PRECISION = {**DATE_PRECISION, str(EKG.japaneseFiscalYear): "JFY"}

# Graphs of triples that no source states but the ontology entails (or OWL RL reasoning infers): pages
# show them apart from the facts, folded, and never instead of a source.
ENTAILED_GRAPH = BASE + "graph/entailed"
DERIVED_GRAPHS = frozenset({ENTAILED_GRAPH, str(INFERRED_GRAPH)})

# Path prefixes under which our IRIs are served; "/explore-kg/..." is the path a w3id redirect keeps.
DEREFERENCED = ("id", "vocab", "source", "graph")
ALIAS = "/explore-kg"

TEMPLATES = Environment(
    loader=PackageLoader("explore_kg", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

# Content-Security-Policy of every page: own scripts and styles only, nothing inline, nothing remote.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


def prefix_block() -> str:
    """PREFIX declarations for every namespace the project binds."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


# ---------------------------------------------------------------------------------------------
# Content negotiation


def _accept_ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        fields = part.strip().split(";")
        media = fields[0].strip().lower()
        if not media:
            continue
        q = 1.0
        for f in fields[1:]:
            key, _, value = f.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranges.append((media, q))
    return ranges


def negotiate(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer the Accept header prefers (q-values, most specific range wins; ties go to the first
    offer); None when the client accepts none of them."""
    if not accept or not accept.strip():
        return offers[0]
    ranges = _accept_ranges(accept)
    best, best_q = None, 0.0
    for offer in offers:
        kind = offer.split("/")[0] + "/*"
        q, specificity = 0.0, -1
        for media, rq in ranges:
            s = 2 if media == offer else 1 if media == kind else 0 if media == "*/*" else -1
            if s > specificity:
                q, specificity = rq, s
        if q > best_q:
            best, best_q = offer, q
    return best


def wants_html(request: Request) -> bool:
    return negotiate(request.headers.get("accept"), ["text/html", SPARQL_JSON]) == "text/html"


@functools.lru_cache(maxsize=1)
def _engine_media_types() -> tuple[str, ...]:
    from .engine import GRAPH_FORMATS as ENGINE_GRAPH
    from .engine import RESULT_FORMATS as ENGINE_RESULTS

    return tuple(dict.fromkeys([*ENGINE_RESULTS, *ENGINE_GRAPH]))


def prefers_html_results(accept: str | None) -> bool:
    """True when an Accept header names text/html itself and ranks it above every result format /sparql
    offers (each judged by its most specific matching range, as the endpoint negotiates).

    A browser (``text/html,...,application/xml;q=0.9,*/*;q=0.8``) gets the HTML results page; ``*/*``
    (curl), ``text/*``, a tie, or no text/html at all (SPARQLWrapper, rdflib) keep the result formats.
    """
    if not accept or "text/html" not in accept.lower():
        return False
    ranges = _accept_ranges(accept)
    html_q = max((q for media, q in ranges if media == "text/html"), default=0.0)
    if html_q <= 0:
        return False
    for offer in _engine_media_types():
        kind = offer.split("/")[0] + "/*"
        q, specificity = 0.0, -1
        for media, rq in ranges:
            s = 2 if media == offer else 1 if media == kind else 0 if media in ("*/*", "*") else -1
            if s > specificity:
                q, specificity = rq, s
        if q >= html_q:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Terms for display


def local_path(iri: str) -> str | None:
    """Where this server shows an IRI of our namespace, or None for anyone else's."""
    if not iri.startswith(BASE):
        return None
    rest = iri[len(BASE):]
    if rest == "ontology" or rest.startswith("ontology#"):
        return "/ontology" + (("#" + quote(rest.split("#", 1)[1], safe="-._~")) if "#" in rest else "")
    if rest.split("/", 1)[0] in DEREFERENCED:
        return "/" + quote(rest, safe="/-._~:@!$&'()*+,;=")
    return None


def href(iri: str) -> str | None:
    """A safe link for an IRI: our own pages locally, other http(s) IRIs as they are, nothing else."""
    local = local_path(iri)
    if local:
        return local
    return iri if re.match(r"https?://", iri, re.I) else None


def date_note(datatype: str | None, value: str) -> tuple[str | None, str | None]:
    """The precision of a date literal and, for a Japanese fiscal year, the span it covers."""
    precision = SHOWN_DATE_PRECISION.get(datatype or "")
    if precision == "JFY" and re.fullmatch(r"\d{4}", value.strip()):
        year = int(value)
        return precision, f"Japanese fiscal year {year}: 1 April {year} to 31 March {year + 1}"
    return precision, None


@dataclass
class Shown:
    """An RDF term ready for a template: what to print, where it links, what kind of value it is."""

    kind: str  # "uri", "literal" or "bnode"
    value: str
    label: str
    href: str | None = None
    datatype: str | None = None
    lang: str | None = None
    precision: str | None = None
    title: str | None = None
    sources: list[int] = field(default_factory=list)
    claims: list[Any] = field(default_factory=list)  # ClaimShown about this value

    @property
    def is_own(self) -> bool:
        return self.kind == "uri" and local_path(self.value) is not None


class Labels(NameIndex):
    """The names pages show (see :mod:`explore_kg.labels`); an IRI without one shows as prefix:local."""

    def __call__(self, iri: str) -> str:
        return self.full(iri) or compact(iri)

    def to_json(self) -> dict[str, list[str]]:
        """{IRI: [full name, acronym however short]}: a graph node has room for "IA", a table cell shows more."""
        return {iri: [self.full(iri), self.short(iri, min_length=1)] for iri in self}


# Names for the standard terms pages show most, where the data gives them none.
STANDARD_LABELS = {
    RDF_TYPE: "type",
    "http://www.w3.org/2000/01/rdf-schema#label": "label",
    "http://www.w3.org/2000/01/rdf-schema#comment": "comment",
    "http://www.w3.org/2000/01/rdf-schema#subClassOf": "subclass of",
    "http://www.w3.org/2000/01/rdf-schema#subPropertyOf": "subproperty of",
    "http://www.w3.org/2000/01/rdf-schema#domain": "domain",
    "http://www.w3.org/2000/01/rdf-schema#range": "range",
    "http://www.w3.org/2000/01/rdf-schema#seeAlso": "see also",
    "http://www.w3.org/2002/07/owl#inverseOf": "inverse of",
    "http://www.w3.org/2002/07/owl#disjointWith": "disjoint with",
    "http://www.w3.org/2004/02/skos/core#prefLabel": "preferred label",
    "http://www.w3.org/2004/02/skos/core#definition": "definition",
    "http://www.w3.org/2004/02/skos/core#inScheme": "in scheme",
    "http://www.w3.org/2004/02/skos/core#broader": "broader",
    "http://www.w3.org/2004/02/skos/core#narrower": "narrower",
    "http://www.w3.org/2004/02/skos/core#topConceptOf": "top concept of",
    "http://www.w3.org/2004/02/skos/core#hasTopConcept": "has top concept",
    "http://www.w3.org/2004/02/skos/core#example": "example",
}


def label_index(loaded: Any) -> Labels:
    """Labels of every IRI in the loaded data, read once: the pages and result views name things by them."""
    labels = Labels()
    quads = loaded.quads  # (of a large on-disk store: only the quads of the name properties, by index)
    labels.add_quads(quads.with_predicates(NAME_PROPERTIES) if hasattr(quads, "with_predicates") else quads)
    for iri, label in STANDARD_LABELS.items():
        if labels.full(iri) is None:
            labels.add(iri, NAME_PROPERTIES[0], label)
    return labels


def web_index(app: Any, name: str) -> Any:
    """The app's label index (``"labels"``), inverse-property index (``"inverses"``) or labels.json
    (``"labels_json"``), built on first use, not at start-up: reading every name triple of a large
    store at start would delay a restart's first answer (issue 10). Built once; the data does not change."""
    cache = app.state.web_indexes
    if name not in cache:
        if name == "labels":
            cache[name] = label_index(app.state.loaded)
        elif name == "inverses":
            cache[name] = inverse_index(app.state.loaded.quads)
        else:
            cache[name] = json.dumps(web_index(app, "labels").to_json(), ensure_ascii=False, separators=(",", ":"))
    return cache[name]


def labels_for(request: Request) -> Labels:
    """A label collection for one page, backed by the app's index."""
    return Labels(base=web_index(request.app, "labels") if hasattr(request.app.state, "web_indexes") else None)


def show(term: Mapping[str, Any], labels: Labels) -> Shown:
    kind, value = term["type"], term["value"]
    if kind == "uri":
        return Shown("uri", value, labels(value), href=href(value), title=value)
    if kind == "bnode":
        return Shown("bnode", value, "_:" + value)
    datatype = term.get("datatype")
    precision, title = date_note(datatype, value)
    label = f"JFY {value}" if precision == "JFY" else value
    return Shown("literal", value, label, datatype=datatype, lang=term.get("xml:lang"), precision=precision,
                 title=title or (compact(datatype) if datatype else None))


# ---------------------------------------------------------------------------------------------
# Running queries through the server's engine


class WebQueryError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


async def run(request: Request, sparql: str, media_type: str, substitutions: Mapping[str, Any] | None = None):
    """Run a query on the server's engine; its errors become WebQueryError with the engine's message."""
    engine = request.app.state.engine
    try:
        return await engine.query(sparql, media_type=media_type, substitutions=dict(substitutions or {}))
    except Exception as e:  # the engine's QueryError family carries .message and .status
        message = getattr(e, "message", None)
        if message is None:
            raise
        raise WebQueryError(message, getattr(e, "status", 400)) from e


async def select(request: Request, sparql: str, **substitutions: Any) -> list[dict[str, Any]]:
    """Rows of a SELECT as SPARQL JSON bindings (dicts of term dicts)."""
    result = await run(request, prefix_block() + sparql, SPARQL_JSON, substitutions)
    return json.loads(result.body)["results"]["bindings"]


FACTS = """
SELECT ?entity ?dir ?p ?v ?g WHERE {
  { GRAPH ?g { ?entity ?p ?v } BIND("out" AS ?dir) }
  UNION
  { GRAPH ?g { ?v ?p ?entity } BIND("in" AS ?dir) }
}"""


DESCRIPTION = """
CONSTRUCT { ?entity ?p ?v . ?s ?q ?entity . } WHERE {
  { GRAPH ?g { ?entity ?p ?v } } UNION { GRAPH ?g { ?s ?q ?entity } }
}"""

GRAPH_TRIPLES = """
CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?graph { ?s ?p ?o } }"""

ONTOLOGY_TERMS = """
SELECT ?kind ?s ?p ?o WHERE {
  GRAPH <""" + str(ONTOLOGY_GRAPH) + """> { ?s a ?kind ; ?p ?o }
  FILTER(STRSTARTS(STR(?s), STR(ekg:)))
}"""  # the graph name is our own constant, never input


SOURCES = """
SELECT ?source ?title ?kind ?published (COUNT(*) AS ?facts) WHERE {
  ?source a ekg:SourceDocument .
  OPTIONAL { ?source dcterms:title ?title }
  OPTIONAL { ?source ekg:sourceKind ?kind }
  OPTIONAL { ?source ekg:published ?published }
  GRAPH ?source { ?s ?p ?o }
} GROUP BY ?source ?title ?kind ?published ORDER BY ?title"""


# ---------------------------------------------------------------------------------------------
# Entity pages


@dataclass
class PropertyGroup:
    prop: Shown
    values: list[Shown]
    inverse: bool = False  # read from the entity's side: "unit: ISAS" on JAXA's page for "ISAS parent organisation JAXA"


# How a fact whose value is the page's entity reads from the entity's side, where the ontology declares no
# owl:inverseOf: "ISAS parent organisation JAXA" is "unit: ISAS" on JAXA's page, never "parent organisation".
INVERSE_LABELS = {
    **{str(EKG[local]): label for local, label in {
        "parentOrganisation": "unit", "partOf": "has part", "inOrganisation": "position", "holder": "holds",
        "member": "member of", "party": "party to", "signatory": "signed", "participant": "takes part in",
        "leadAgency": "leads", "operator": "operates", "developer": "developed", "host": "hosted",
        "contributor": "contribution", "contributesTo": "contribution", "speaker": "spoke at",
        "concerns": "discussed in", "isAbout": "subject of", "mentions": "mentioned in",
        "statedIn": "describes", "locatedIn": "contains", "location": "location of", "onBody": "site on it",
        "satelliteOf": "satellite", "hostsInstrument": "hosted on", "instrument": "instrument of",
        "spacecraft": "spacecraft of", "launchVehicle": "launch vehicle of", "target": "target of",
        "objective": "objective of", "outcome": "outcome of", "usesTechnology": "technology used by",
        "usesTechnologyFrom": "technology used by", "usesDataFrom": "data used by",
        "collaboratesWith": "collaborates with", "wroteFor": "writer", "motivatedBy": "motivates",
        "demonstrates": "demonstrated by", "providedItem": "provided in", "headquarters": "headquarters of",
        "basedIn": "base of", "country": "country of", "declaredAt": "place of declaring",
        "signingPlace": "place of signing", "approvalExpectedAt": "approval expected for",
        "participantsFrom": "sent participants to", "precursorOf": "builds on", "claim": "claim subject",
        "claimSubject": "claim",
    }.items()},
    RDF_TYPE: "instance",
    "http://www.w3.org/2000/01/rdf-schema#subClassOf": "superclass of",
    "http://www.w3.org/2000/01/rdf-schema#subPropertyOf": "superproperty of",
    "http://www.w3.org/2000/01/rdf-schema#isDefinedBy": "defines",
    "http://www.w3.org/2004/02/skos/core#broader": "narrower",
    "http://www.w3.org/2004/02/skos/core#narrower": "broader",
    "http://www.w3.org/2004/02/skos/core#inScheme": "concept",
    "http://www.w3.org/2004/02/skos/core#topConceptOf": "top concept",
    "http://www.w3.org/2004/02/skos/core#hasTopConcept": "top concept of",
    "http://purl.org/dc/terms/publisher": "publisher of",
    "http://purl.org/dc/terms/creator": "creator of",
}
_TRAILING_PREPOSITION = re.compile(r"\b(of|to|at|in|from|by|with|for|on|into)$", re.I)


def inverse_label(p: str, labels: Labels, inverses: Mapping[str, str]) -> str:
    """What "(thing) p (this)" is called from this side: the owl:inverseOf's label, our table, or "p of"."""
    if p in inverses:
        return labels(inverses[p])
    if p in INVERSE_LABELS:
        return INVERSE_LABELS[p]
    label = labels(p)
    if ":" in label or _TRAILING_PREPOSITION.search(label):
        return f"← {label}"  # no readable inverse: say the direction
    return f"{label} of"


def inverse_index(quads: Any) -> dict[str, str]:
    """{property: its inverse} from every owl:inverseOf in the loaded data, both ways."""
    inverse_of = "http://www.w3.org/2002/07/owl#inverseOf"
    found: dict[str, str] = {}
    for q in quads.with_predicates([inverse_of]) if hasattr(quads, "with_predicates") else quads:
        if q.predicate.value == inverse_of and hasattr(q.object, "value") and hasattr(q.subject, "value"):
            found.setdefault(q.subject.value, q.object.value)
            found.setdefault(q.object.value, q.subject.value)
    return found


@dataclass
class ClaimShown:
    """One ekg:Claim about a value: its qualifier, precision, bounds and the source that states it."""

    iri: str
    href: str | None
    qualifiers: list[Shown] = field(default_factory=list)
    precision: Shown | None = None
    earliest: str | None = None
    latest: str | None = None
    sources: list[Shown] = field(default_factory=list)
    basis: list[Shown] = field(default_factory=list)
    derived_from: list[Shown] = field(default_factory=list)
    comment: str | None = None
    prop: str | None = None
    value: dict | None = None

    @property
    def bounds(self) -> str | None:
        if self.earliest and self.latest:
            return self.earliest if self.earliest == self.latest else f"{self.earliest} to {self.latest}"
        return self.earliest or self.latest


CLAIMS = """
SELECT DISTINCT ?claim ?p ?v WHERE {
  { ?entity ekg:claim ?claim } UNION { ?claim ekg:claimSubject ?entity }
  ?claim ?p ?v .
}"""


def claims_of(rows: Sequence[Mapping[str, Any]], labels: Labels) -> list[ClaimShown]:
    """The claims about an entity from CLAIMS rows, in IRI order."""
    found: dict[str, ClaimShown] = {}
    for row in rows:
        iri, p, v = row["claim"]["value"], row["p"]["value"], row["v"]
        c = found.setdefault(iri, ClaimShown(iri, href(iri)))
        local = p[len(str(EKG)):] if p.startswith(str(EKG)) else p
        if local == "claimProperty":
            c.prop = v["value"]
        elif local == "claimValue":
            c.value = v
        elif local in ("qualifier", "dateQualifier"):
            _add_once(c.qualifiers, show(v, labels))
        elif local == "datePrecision":
            c.precision = show(v, labels)
        elif local == "earliestDate":
            c.earliest = v["value"]
        elif local == "latestDate":
            c.latest = v["value"]
        elif local == "statedIn":
            _add_once(c.sources, show(v, labels))
        elif local == "basis":
            _add_once(c.basis, show(v, labels))
        elif p == "http://www.w3.org/ns/prov#wasDerivedFrom":
            _add_once(c.derived_from, show(v, labels))
        elif p == "http://www.w3.org/2000/01/rdf-schema#comment":
            c.comment = v["value"]
    return [found[k] for k in sorted(found)]


def _add_once(terms: list[Shown], term: Shown) -> None:
    if all(t.value != term.value for t in terms):
        terms.append(term)


def _term_key(v: Mapping[str, Any]) -> tuple:
    return (v["type"], v["value"], v.get("datatype"), v.get("xml:lang"))


def graph_label(iri: str, labels: Labels) -> str:
    if iri == str(ONTOLOGY_GRAPH):
        return "explore-kg ontology"
    if iri == str(INFERRED_GRAPH):
        return "inferred by OWL RL reasoning"
    if iri == ENTAILED_GRAPH:
        return "entailed by the ontology (sub-classes, sub-properties, inverses)"
    return labels(iri)


def describe(entity: str, rows: Sequence[Mapping[str, Any]], labels: Labels, *,
             inverses: Mapping[str, str] | None = None, claims: Sequence[ClaimShown] = ()) -> dict[str, Any]:
    """Arrange fact rows (?dir ?p ?v ?g) into what the entity page shows.

    A fact that names the entity as its value is read from the entity's side (see :func:`inverse_label`);
    where the ontology declares an inverse it joins the entity's own facts (and an entailed copy of it is
    not shown twice). Each claim is shown with the value it is about."""
    inverses = inverses or {}
    sources: list[str] = []  # graph IRIs, in order of first use; a fact cites them by number

    def cite(g: str) -> int:
        if g not in sources:
            sources.append(g)
        return sources.index(g) + 1

    out: dict[str, dict[tuple, Shown]] = {}
    inbound: dict[str, dict[tuple, Shown]] = {}
    derived: dict[str, dict[tuple, Shown]] = {}  # entailed or inferred only: shown apart, folded away

    def place(row: Mapping[str, Any]) -> tuple[dict, str, tuple]:
        p = row["p"]["value"]
        groups = out if row["dir"]["value"] == "out" else inbound
        if groups is inbound and p in inverses:
            groups, p = out, inverses[p]
        return groups, p, _term_key(row["v"])

    asserted = {(id(groups), p, key) for groups, p, key in
                (place(row) for row in rows if row["g"]["value"] not in DERIVED_GRAPHS)}
    for row in sorted(rows, key=lambda r: r["g"]["value"] in DERIVED_GRAPHS):  # sources first, then the rest
        v, g = row["v"], row["g"]["value"]
        groups, p, key = place(row)
        if g in DERIVED_GRAPHS:
            if (id(groups), p, key) in asserted:
                continue  # a source states it: the ontology's copy adds nothing to the page
            if groups is inbound:
                continue  # "(thing) super-property (this)": the asserted fact is already shown
            groups = derived
        shown = groups.setdefault(p, {}).get(key)
        if shown is None:
            shown = groups[p][key] = show(v, labels)
        number = cite(g)
        if number not in shown.sources:
            shown.sources.append(number)

    claimed = {str(EKG.claim)}
    out.pop(str(EKG.claim), None)  # shown with the values they are about
    inbound.pop(str(EKG.claimSubject), None)
    unmatched = []
    for c in claims:
        shown = out.get(c.prop or "", {}).get(_term_key(c.value)) if c.value else None
        if shown is None:
            unmatched.append(c)
        else:
            shown.claims.append(c)
    types = list(out.pop(RDF_TYPE, {}).values())
    stated_in = out.pop(str(EKG.statedIn), {})  # the loader's provenance: shown as the sources list
    wikidata = [s for s in out.get(EXACT_MATCH, {}).values() if s.value.startswith(str(WD))]
    label = labels.full(entity)
    definition = next((next(iter(out[p].values())).label for p in DEFINITION_PROPERTIES if p in out), None)

    def arrange(groups: dict[str, dict[tuple, Shown]], inverse: bool = False) -> list[PropertyGroup]:
        def prop(p: str) -> Shown:
            if not inverse:
                return Shown("uri", p, labels(p), href=href(p), title=p)
            return Shown("uri", p, inverse_label(p, labels, inverses), href=href(p),
                         title=f"(thing) {labels(p)} {label or compact(entity)}: {p}")

        arranged = [PropertyGroup(prop(p), sorted(vals.values(), key=lambda s: (s.kind != "uri", s.label.lower())),
                                  inverse)
                    for p, vals in groups.items() if p not in claimed]
        return sorted(arranged, key=lambda g: (g.prop.value not in NAME_PROPERTIES,
                                                NAME_PROPERTIES.index(g.prop.value)
                                                if g.prop.value in NAME_PROPERTIES else 0,
                                                g.prop.label.lower()))

    source_list = [Shown("uri", g, graph_label(g, labels), href=None if g in DERIVED_GRAPHS else href(g), title=g)
                   for g in sources]
    documents = [s for s in stated_in.values()]
    return {
        "label": label or compact(entity),
        "has_label": label is not None,
        "types": sorted(types, key=lambda s: s.label.lower()),
        "definition": definition,
        "facts": arrange(out),
        "inbound": arrange(inbound, inverse=True),
        "derived": arrange({p: v for p, v in derived.items() if p != RDF_TYPE}),
        "derived_types": sorted(derived.get(RDF_TYPE, {}).values(), key=lambda s: s.label.lower()),
        "claims": unmatched,
        "sources": source_list,
        "documents": documents,
        "wikidata": wikidata,
    }


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(
        request_path=request.url.path,
        prefixes_json=Markup(json_for_script({p: str(ns) for p, ns in PREFIXES.items()})),
        base_iri=BASE, writable=getattr(request.app.state, "writer", None) is not None, **context)
    return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": CSP, "Vary": "Accept"})


def not_found(request: Request, what: str) -> Response:
    if wants_html(request):
        return page(request, "not_found.html", status=404, what=what, title="Not found")
    return Response(f"Not found: {what}\n", status_code=404, media_type="text/plain", headers={"Vary": "Accept"})


def error_page(request: Request, err: WebQueryError) -> Response:
    if wants_html(request):
        return page(request, "error.html", status=err.status, message=err.message, title="Error")
    return Response(err.message + "\n", status_code=err.status, media_type="text/plain", headers={"Vary": "Accept"})


def rdf_format(request: Request) -> str | None:
    """The RDF media type asked for (``?format=`` or Accept), or None when HTML is wanted."""
    fmt = request.query_params.get("format")
    if fmt in GRAPH_FORMATS:
        return GRAPH_FORMATS[fmt][0]
    chosen = negotiate(request.headers.get("accept"), ["text/html", *RDF_MEDIA_TYPES, "application/xhtml+xml"])
    return chosen if chosen in RDF_MEDIA_TYPES else None


RDF_DOCUMENTS_KEPT = 512  # descriptions kept ready per server: the data never changes while it is served


async def rdf_description(request: Request, sparql: str, substitutions: Mapping[str, Any], media: str,
                          about: str) -> Response:
    """A CONSTRUCT's answer written as export writes (same prefixes, same inline JSON-LD context), so a
    dereferenced IRI reads like the dumps; built off the event loop and kept for the server's life."""
    from .engine import GRAPH_FORMATS as ENGINE_GRAPH
    from .export import describe_document

    fmt = RDF_MEDIA_TYPES[media]
    kept: dict = request.app.state.rdf_descriptions
    key = (sparql, tuple(sorted((k, str(v)) for k, v in substitutions.items())), fmt)
    body = kept.get(key)
    if body is None:
        import pyoxigraph as ox

        result = await run(request, sparql, "application/n-triples", substitutions)

        def write() -> bytes:
            return describe_document(ox.parse(result.body, format=ox.RdfFormat.N_TRIPLES), fmt, about=about)

        body = await run_in_threadpool(write)
        if len(kept) >= RDF_DOCUMENTS_KEPT:
            kept.pop(next(iter(kept)))
        kept[key] = body
    return Response(body, media_type=ENGINE_GRAPH[media][1], headers={"Vary": "Accept"})


async def entity_response(request: Request, iri: str) -> Response:
    subject = URIRef(iri)
    try:
        rows = await select(request, FACTS, entity=subject)
        if not rows:
            return not_found(request, iri)
        replaced = replacement_of(rows)
        if replaced:  # a deprecated entity answers 301 to its replacement (see validation/released.py)
            target = (local_path(replaced) or replaced) + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(target, status_code=301, headers={"Vary": "Accept"})
        media = rdf_format(request)
        if media:
            return await rdf_description(request, prefix_block() + DESCRIPTION, {"entity": subject}, media, iri)
        labels = labels_for(request)
        for row in rows:
            if row["dir"]["value"] == "out" and row["v"]["type"] == "literal":
                labels.add(iri, row["p"]["value"], row["v"]["value"], row["v"].get("xml:lang"))
        claims = claims_of(await select(request, CLAIMS, entity=subject), labels) if any(
            row["p"]["value"] in (str(EKG.claim), str(EKG.claimSubject)) for row in rows) else []
    except WebQueryError as err:
        return error_page(request, err)
    info = describe(iri, rows, labels, inverses=web_index(request.app, "inverses"), claims=claims)
    downloads = [(label, f"{request.url.path}?format={name}") for name, (_, _, label) in GRAPH_FORMATS.items()]
    return page(request, "entity.html", iri=iri, title=info["label"], downloads=downloads,
                deprecated=any(r["dir"]["value"] == "out" and r["p"]["value"] == OWL_DEPRECATED
                               and r["v"]["value"] in ("true", "1") for r in rows), **info)


IS_REPLACED_BY = "http://purl.org/dc/terms/isReplacedBy"
OWL_DEPRECATED = "http://www.w3.org/2002/07/owl#deprecated"


def replacement_of(rows: Sequence[Mapping[str, Any]]) -> str | None:
    """The IRI a deprecated entity is replaced by (its ``dcterms:isReplacedBy``), if it names one."""
    return min((r["v"]["value"] for r in rows if r["dir"]["value"] == "out" and r["p"]["value"] == IS_REPLACED_BY
                and r["v"]["type"] == "uri"), default=None)


# ---------------------------------------------------------------------------------------------
# Ontology page


ONTOLOGY_SECTIONS = [
    ("Classes", "http://www.w3.org/2002/07/owl#Class"),
    ("Object properties", "http://www.w3.org/2002/07/owl#ObjectProperty"),
    ("Datatype properties", "http://www.w3.org/2002/07/owl#DatatypeProperty"),
    ("Annotation properties", "http://www.w3.org/2002/07/owl#AnnotationProperty"),
    ("Datatypes", "http://www.w3.org/2000/01/rdf-schema#Datatype"),
]
# Shown as the term's heading and definition rather than in its table of facts.
ONTOLOGY_HIDDEN = {RDF_TYPE, "http://www.w3.org/2000/01/rdf-schema#isDefinedBy", *NAME_PROPERTIES,
                   *DEFINITION_PROPERTIES}


async def ontology_response(request: Request) -> Response:
    """The ontology as one page, a section per kind of term and an anchor per term (``/ontology#Mission``).

    Built once (seven queries and a large template) and then served as it is: the data does not change."""
    graph = URIRef(str(ONTOLOGY_GRAPH))
    media = rdf_format(request)
    if media:
        try:
            return await rdf_description(request, GRAPH_TRIPLES, {"graph": graph}, media, ONTOLOGY_IRI)
        except WebQueryError as err:
            return error_page(request, err)
    built: dict[str, bytes] = request.app.state.ontology_pages  # by path: /ontology, /explore-kg/ontology
    if request.url.path in built:
        return HTMLResponse(built[request.url.path], headers={"Content-Security-Policy": CSP, "Vary": "Accept"})
    response = await ontology_page(request, graph)
    if response.status_code == 200 and len(built) < 4:
        built[request.url.path] = response.body
    return response


async def ontology_page(request: Request, graph: URIRef) -> Response:
    try:
        labels = labels_for(request)
        header = await select(request, FACTS, entity=URIRef(ONTOLOGY_IRI))
        sections = []
        for title, kind in ONTOLOGY_SECTIONS:  # one query per kind of term keeps each answer small
            rows = await select(request, ONTOLOGY_TERMS, kind=URIRef(kind))
            terms: dict[str, list[dict[str, Any]]] = {}
            definitions: dict[str, str] = {}
            for row in rows:
                facts = terms.setdefault(row["s"]["value"], [])
                if row["p"]["value"] in DEFINITION_PROPERTIES:
                    definitions.setdefault(row["s"]["value"], row["o"]["value"])
                if row["p"]["value"] not in ONTOLOGY_HIDDEN:
                    facts.append({"dir": {"value": "out"}, "p": row["p"], "v": row["o"], "g": {"value": str(graph)}})
            entries = [{"iri": iri, "anchor": iri.split("#", 1)[1], "compact": compact(iri),
                        **describe(iri, facts, labels), "definition": definitions.get(iri)}
                       for iri, facts in terms.items()]
            if entries:
                sections.append({"title": title, "entries": sorted(entries, key=lambda e: e["anchor"].lower())})
    except WebQueryError as err:
        return error_page(request, err)
    about = describe(ONTOLOGY_IRI, [r for r in header if r["dir"]["value"] == "out"], labels)
    downloads = [(label, f"/ontology?format={name}") for name, (_, _, label) in GRAPH_FORMATS.items()]
    return page(request, "ontology.html", title="Ontology", about=about, sections=sections, downloads=downloads,
                iri=ONTOLOGY_IRI)


# ---------------------------------------------------------------------------------------------
# Saved-query gallery: the catalogue and the parameter binding are saved_queries.py's; this shows them.


def saved_queries_module():
    """explore_kg.saved_queries, or None while it does not exist (the gallery is then empty)."""
    try:
        from . import saved_queries
    except ImportError:
        return None
    return saved_queries


CHOICES = """
SELECT ?class ?x ?label ?acronym WHERE {
  ?x a ?t . ?t rdfs:subClassOf* ?class .
  FILTER(isIRI(?x))
  OPTIONAL { ?x rdfs:label|skos:prefLabel ?label }
  OPTIONAL { ?x ekg:acronym ?acronym }
}"""


@dataclass
class Choice:
    value: str  # what the form sends: the prefixed name (or IRI) of the entity
    label: str
    names: set[str]


@dataclass
class FormField:
    name: str
    type_label: str
    doc: str
    required: bool
    value: str
    example: str | None
    choices: list[Choice]
    selected: str | None = None


async def parameter_choices(request: Request, param: Any) -> list[Choice]:
    """Every entity of the parameter's classes (with subclasses), for a dropdown; [] for other types."""
    if getattr(param, "kind", None) not in ("iri", "label") or not getattr(param, "classes", ()):
        return []
    found: dict[str, Choice] = {}
    for cls in param.classes:
        for row in await select(request, CHOICES, **{"class": URIRef(cls)}):
            iri = row["x"]["value"]
            choice = found.setdefault(iri, Choice(compact(iri), "", {iri, compact(iri)}))
            label, acronym = row.get("label", {}).get("value"), row.get("acronym", {}).get("value")
            choice.names |= {n for n in (label, acronym) if n}
            if label and acronym and label != acronym:
                choice.label = f"{label} ({acronym})"
            elif not choice.label or (label and "(" not in choice.label):
                choice.label = label or acronym or ""
    for choice in found.values():
        choice.label = choice.label or choice.value
    return sorted(found.values(), key=lambda c: c.label.lower())


async def form_fields(request: Request, query: Any, given: Mapping[str, str]) -> list[FormField]:
    fields = []
    for p in query.parameters:
        value = given.get(p.name, p.default or "")
        choices = await parameter_choices(request, p)
        wanted = value.strip().lower()
        selected = next((c.value for c in choices if wanted and wanted in {n.lower() for n in c.names}), None)
        fields.append(FormField(p.name, p.type_label, p.doc, p.required, value, p.example, choices, selected))
    return fields


async def run_saved_query(request: Request, query: Any, given: Mapping[str, str]) -> tuple[dict[str, Any], Any]:
    """Bind the given values as RDF terms (labels resolved against the graph, by the saved-query API's
    own ``bind``) and run the query; any failure becomes WebQueryError with a message for a person."""
    from .queries_http import bind

    try:
        values = await bind(request.app.state.engine, query, {k: v for k, v in given.items() if v.strip()})
    except Exception as e:  # ParameterError and the engine's QueryError both carry .message
        if getattr(e, "message", None) is None:
            raise
        raise WebQueryError(e.message, getattr(e, "status", 400)) from e
    media = "application/n-triples" if query.form in ("CONSTRUCT", "DESCRIBE") else SPARQL_JSON
    return values, await run(request, query.sparql, media, values)


def ntriples_to_bindings(body: bytes) -> dict[str, Any]:
    """A CONSTRUCT answer (N-Triples) as SPARQL JSON bindings over ?subject ?predicate ?object."""
    import pyoxigraph as ox

    def term(t: Any) -> dict[str, Any]:
        if isinstance(t, ox.NamedNode):
            return {"type": "uri", "value": t.value}
        if isinstance(t, ox.BlankNode):
            return {"type": "bnode", "value": t.value}
        out = {"type": "literal", "value": t.value}
        if t.language:
            out["xml:lang"] = t.language
        elif t.datatype.value != XSD + "string":
            out["datatype"] = t.datatype.value
        return out

    rows = [{"s": term(t.subject), "p": term(t.predicate), "o": term(t.object)}
            for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]
    return {"head": {"vars": ["s", "p", "o"]}, "results": {"bindings": rows}}


def table_rows(data: Mapping[str, Any], base: Labels) -> tuple[list[str], list[list[Shown | None]]]:
    """Columns and shown cells of a SPARQL JSON result; a column ``xLabel`` labels column ``x``."""
    variables = data["head"]["vars"]
    bindings = data["results"]["bindings"]
    labels = Labels(base=base)
    for v in variables:
        for lv in (v + "Label", v + "_label"):
            if lv in variables:
                for b in bindings:
                    if v in b and lv in b and b[v]["type"] == "uri":
                        labels.add(b[v]["value"], NAME_PROPERTIES[0], b[lv]["value"])
    rows = [[show(b[v], labels) if v in b else None for v in variables] for b in bindings]
    return variables, rows


def json_for_script(data: Any) -> str:
    """JSON safe inside <script type="application/json">: no "</script>" or "<!--" can close it."""
    return (json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


async def gallery_query_page(request: Request, name: str) -> Response:
    module = saved_queries_module()
    catalogue = module.catalogue() if module else {}
    query = catalogue.get(name)  # looked up in the catalogue, never a path built from the name
    if query is None:
        return not_found(request, f"saved query {name!r}")
    given = {k: v for k, v in request.query_params.items() if k != "run"}
    submitted = "run" in request.query_params or bool(given)
    context: dict[str, Any] = {"query": query, "title": query.title, "submitted": submitted}
    status = 200
    try:
        context["fields"] = await form_fields(request, query, given)
        if submitted:
            values, result = await run_saved_query(request, query, given)
            data = ntriples_to_bindings(result.body) if result.kind == "graph" else json.loads(result.body)
            context["bound"] = [(k, show(_binding_json(v), labels_for(request))) for k, v in values.items()]
            if "boolean" in data:
                context["boolean"] = data["boolean"]
            else:
                context["columns"], context["rows"] = table_rows(data, labels_for(request))
            context["result_json"] = Markup(json_for_script(data))
            context["elapsed_ms"] = round(result.elapsed_ms, 1)
            context["downloads"] = saved_query_downloads(request, query, given, result.kind)
    except WebQueryError as err:
        context["error"], status = err.message, err.status
    return page(request, "gallery_query.html", status=status, **context)


def _binding_json(term: Any) -> dict[str, Any]:
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, Literal):
        out = {"type": "literal", "value": str(term)}
        if term.datatype:
            out["datatype"] = str(term.datatype)
        return out
    return {"type": "literal", "value": str(term)}


def saved_query_downloads(request: Request, query: Any, given: Mapping[str, str], kind: str) -> list[tuple[str, str]]:
    """Links to the same answer in each format, served by the saved-query API (``/queries/{name}``)."""
    formats = GRAPH_FORMATS if kind == "graph" else BINDINGS_FORMATS
    params = {k: v for k, v in given.items() if v.strip()}
    return [(label, f"/queries/{quote(query.name)}?" + urlencode({**params, "_format": name}))
            for name, (_, _, label) in formats.items()]


# ---------------------------------------------------------------------------------------------
# /sparql for a browser: the editor with the query and its answer

SHOWN_ROWS = 1000  # rows rendered into the page's table; the result views get them all


class SparqlResultsPage:
    """ASGI app answering a browser's ``GET /sparql?query=...`` (see :func:`prefers_html_results`).

    :class:`explore_kg.server.EndpointApp` asks :meth:`wanted` before handing the request to the
    endpoint: only a GET whose Accept explicitly prefers text/html (or that says ``format=html``) comes
    here; every SPARQL client keeps getting exactly what the endpoint answers. Without a query, such a
    browser gets the editor (a client gets the service description, as before)."""

    def __init__(self, page_app):
        self.page_app = page_app

    @staticmethod
    def wanted(scope) -> bool:
        if scope["method"] not in ("GET", "HEAD"):
            return False
        qs = scope.get("query_string", b"")
        accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
        if b"text/html" not in accept and b"=html" not in qs.lower():
            return False  # the common case, decided without parsing anything
        if b"format=" in qs or b"output=" in qs:
            from urllib.parse import parse_qs

            params = parse_qs(qs.decode("latin-1"))
            chosen = [v for k in ("format", "output", "_format") for v in params.get(k, ())]
            if chosen:
                return chosen[-1].strip().lower() == "html"
        return prefers_html_results(accept.decode("latin-1"))

    async def __call__(self, scope, receive, send):
        await self.page_app(scope, receive, send)


async def sparql_results_page(request: Request) -> Response:
    params = request.query_params
    queries = params.getlist("query")
    if not queries:  # a browser opening the endpoint itself: the editor (clients get the service description)
        return page(request, "editor.html", **editor_context(default_query()))
    query = queries[0]
    context: dict[str, Any] = editor_context(query)
    status = 200
    try:
        if len(queries) != 1:
            raise WebQueryError(f"the request carries {len(queries)} queries; send exactly one 'query' parameter")
        try:
            result = await request.app.state.engine.query(
                query, media_type=f"{SPARQL_JSON}, application/n-triples",
                default_graph_uris=params.getlist("default-graph-uri"),
                named_graph_uris=params.getlist("named-graph-uri"),
                base_iri=str(request.url.replace(query="")))
        except Exception as e:  # the engine's QueryError family carries .message and .status
            if getattr(e, "message", None) is None:
                raise
            raise WebQueryError(e.message, getattr(e, "status", 400)) from e
        data = ntriples_to_bindings(result.body) if result.kind == "graph" else json.loads(result.body)
        if "boolean" in data:
            context["boolean"] = data["boolean"]
        else:
            columns, rows = table_rows(data, labels_for(request))
            context.update(columns=columns, rows=rows[:SHOWN_ROWS], total_rows=len(rows))
        context.update(result_json=Markup(json_for_script(data)), result_kind=result.kind,
                       elapsed_ms=round(result.elapsed_ms, 1))
    except WebQueryError as err:
        context["error"], status = err.message, err.status
    return page(request, "editor.html", status=status, **context)


def editor_context(query: str) -> dict[str, Any]:
    return {"title": "SPARQL editor", "query": query, "endpoint": "/sparql", "bindings_formats": BINDINGS_FORMATS,
            "graph_formats": GRAPH_FORMATS}


# ---------------------------------------------------------------------------------------------
# Router


class HomeOrEndpoint:
    """ASGI app for "/": a browser gets the editor; a SPARQL client that uses "/" as the endpoint (a
    ``query`` parameter, a POST, or an Accept that prefers results over HTML) gets exactly what /sparql
    answers, because the request is handed to the app again as a request for /sparql."""

    def __init__(self, app: FastAPI, editor):
        self.app, self.editor = app, editor

    async def __call__(self, scope, receive, send):
        request = Request(scope)
        if scope["method"] in ("GET", "HEAD") and "query" not in request.query_params and wants_html(request):
            return await self.editor(scope, receive, send)
        await self.app(dict(scope, path="/sparql", raw_path=b"/sparql"), receive, send)


def build_router(app: FastAPI) -> APIRouter:
    """The web pages, the static files they load, and IRI dereferencing."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.state.web_indexes = {}  # see web_index(): built on first use
    app.state.rdf_descriptions = {}
    app.state.ontology_pages = {}
    router = APIRouter(include_in_schema=False)

    @router.get("/labels.json")
    async def labels() -> Response:
        """{IRI: [label, short label]} for every labelled IRI: the result views name things with it."""
        return Response(web_index(app, "labels_json"), media_type="application/json", headers={"Cache-Control": "public, max-age=300"})

    async def editor(request: Request):
        return page(request, "editor.html", **editor_context(request.query_params.get("q") or default_query()))

    app.sparql_html = SparqlResultsPage(request_response(sparql_results_page))

    @router.get("/docs")
    async def docs(request: Request):
        """The OpenAPI document in Swagger UI, served from the package: it works offline, under the CSP."""
        return page(request, "docs.html", title="HTTP API")

    app.add_route("/", HomeOrEndpoint(app, request_response(editor)), methods=["GET", "HEAD", "POST"],
                  include_in_schema=False)

    ontology_pages: dict[tuple, Response] = {}  # the data does not change: each variant is built once

    @router.get("/ontology")
    @router.get(ALIAS + "/ontology")
    async def ontology(request: Request):
        key = (request.url.path, rdf_format(request))
        answer = ontology_pages.get(key)
        if answer is None:
            answer = await ontology_response(request)  # ~25 ms of the event loop: once, not per request
            if answer.status_code == 200:
                ontology_pages[key] = answer
        return answer

    @router.get("/sources")
    async def sources(request: Request):
        try:
            rows = await select(request, SOURCES)
        except WebQueryError as err:
            return error_page(request, err)
        labels = labels_for(request)
        docs = [{"source": show(r["source"], labels), "title": r.get("title", {}).get("value"),
                 "kind": show(r["kind"], labels) if "kind" in r else None,
                 "published": show(r["published"], labels) if "published" in r else None,
                 "facts": int(r["facts"]["value"])} for r in rows]
        return page(request, "sources.html", title="Source documents", documents=docs)

    @router.get("/gallery")
    async def gallery(request: Request):
        module = saved_queries_module()
        queries = list(module.catalogue().values()) if module else []
        return page(request, "gallery.html", title="Saved queries", queries=queries)

    @router.get("/gallery/{name}")
    async def gallery_query(request: Request, name: str):
        return await gallery_query_page(request, name)

    for kind in DEREFERENCED:
        async def dereference(request: Request, rest: str, kind: str = kind):
            return await entity_response(request, f"{BASE}{kind}/{rest}")

        router.add_api_route(f"/{kind}/{{rest:path}}", dereference, methods=["GET"])
        router.add_api_route(f"{ALIAS}/{kind}/{{rest:path}}", dereference, methods=["GET"])

    @router.get(ALIAS)
    @router.get(ALIAS + "/")
    async def alias_root():
        return RedirectResponse("/")

    return router

def default_query() -> str:
    return prefix_block() + """
# Agreements, their parties and when they were signed. Ctrl+Enter runs the query; the answer can be
# seen as a table, a network of agreements and parties, or a timeline of signing dates.
SELECT DISTINCT ?agreement ?party ?date WHERE {
  ?agreement a ekg:Agreement ; ekg:party ?party .
  OPTIONAL { ?agreement ekg:signingDate ?date }
}
ORDER BY ?date ?agreement
LIMIT 200
"""

