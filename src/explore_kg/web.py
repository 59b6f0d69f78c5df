"""Pages for people: the SPARQL editor, the saved-query gallery and a page for every IRI we mint.

Each IRI of https://w3id.org/explore-kg/ dereferences here (``/id/...``, ``/vocab/...``, ``/source/...``,
``/ontology`` is :mod:`explore_kg.ontology_http`'s; also under ``/explore-kg/...``, the path w3id redirects keep). A browser gets HTML; an RDF
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
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from rdflib import URIRef
from starlette.routing import request_response

from .labels import NAME_PROPERTIES, NameIndex
from .namespaces import (
    BASE,
    DATE_PRECISION,
    EKG,
    INFERRED_GRAPH,
    PREFIXES,
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
            from .web_entity import inverse_index

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

SOURCES = """
SELECT ?source ?title ?kind ?published (COUNT(*) AS ?facts) WHERE {
  ?source a ekg:SourceDocument .
  OPTIONAL { ?source dcterms:title ?title }
  OPTIONAL { ?source ekg:sourceKind ?kind }
  OPTIONAL { ?source ekg:published ?published }
  GRAPH ?source { ?s ?p ?o }
} GROUP BY ?source ?title ?kind ?published ORDER BY ?title"""


def json_for_script(data: Any) -> str:
    """JSON safe inside <script type="application/json">: no "</script>" or "<!--" can close it."""
    return (json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


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
    from .web_entity import CLAIMS, claims_of, describe

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
    from .web_entity import history_of

    history = await run_in_threadpool(history_of, request.app, iri, labels) if getattr(  # (serve --writable)
        request.app.state, "writer", None) is not None else []
    return page(request, "entity.html", iri=iri, title=info["label"], downloads=downloads, history=history,
                deprecated=any(r["dir"]["value"] == "out" and r["p"]["value"] == OWL_DEPRECATED
                               and r["v"]["value"] in ("true", "1") for r in rows), **info)


IS_REPLACED_BY = "http://purl.org/dc/terms/isReplacedBy"
OWL_DEPRECATED = "http://www.w3.org/2002/07/owl#deprecated"


def replacement_of(rows: Sequence[Mapping[str, Any]]) -> str | None:
    """The IRI a deprecated entity is replaced by (its ``dcterms:isReplacedBy``), if it names one."""
    return min((r["v"]["value"] for r in rows if r["dir"]["value"] == "out" and r["p"]["value"] == IS_REPLACED_BY
                and r["v"]["type"] == "uri"), default=None)


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
    from .web_gallery import (
        SparqlResultsPage,
        editor_context,
        gallery_query_page,
        saved_queries_module,
        sparql_results_page,
    )

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.state.web_indexes = {}  # see web_index(): built on first use
    app.state.rdf_descriptions = {}
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

