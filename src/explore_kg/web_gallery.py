"""The saved-query gallery and the SPARQL editor's server-answered results page.

The catalogue and the parameter binding are :mod:`explore_kg.saved_queries`'s; this module shows them: a
form per query (its parameters' choices come from the data), the answer as a table with labels, and the
downloads in every format. :mod:`explore_kg.web` routes to it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import Response
from markupsafe import Markup
from rdflib import Literal, URIRef

from .labels import NAME_PROPERTIES
from .namespaces import (
    compact,
)
from .protocol import may_want_html
from .web import (  # the pages' shared parts
    BINDINGS_FORMATS,
    GRAPH_FORMATS,
    SPARQL_JSON,
    XSD,
    Labels,
    Shown,
    WebQueryError,
    default_query,
    json_for_script,
    labels_for,
    not_found,
    page,
    prefers_html_results,
    run,
    select,
    show,
)


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


def json_term(t: Any) -> dict[str, Any]:
    """A pyoxigraph term as a SPARQL JSON results value (what the pages' cells are made from)."""
    import pyoxigraph as ox

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


def ntriples_to_bindings(body: bytes) -> dict[str, Any]:
    """A CONSTRUCT answer (N-Triples) as SPARQL JSON bindings over ?subject ?predicate ?object."""
    import pyoxigraph as ox

    term = json_term
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
        if not may_want_html(scope):
            return False  # the common case, decided without parsing anything
        qs = scope.get("query_string", b"")
        accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
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
