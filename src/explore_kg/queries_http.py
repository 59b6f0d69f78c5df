"""Saved queries over HTTP: ``GET /queries`` (the catalogue) and one route per query.

Every saved query gets its own route, ``GET /queries/{name}``, whose query-string parameters are the
query's parameters, so each appears in the OpenAPI document (``/openapi.json``) with its type,
default and example, and a generated client can call it. The answer is negotiated like ``/sparql``
(Accept, or ``_format`` / ``format`` / ``output`` as on ``/sparql``: SPARQL JSON/XML, CSV, TSV ...), plus

* a Datasette-like JSON shape for ``Accept: application/json`` or ``?_shape=objects|arrays``:
  ``{"query": ..., "columns": [...], "rows": [...], "query_ms": ...}``, rows as arrays or objects,
  IRIs as strings and numbers/booleans as JSON numbers/booleans;
* an HTML table for a browser (``Accept: text/html``).

Parameter problems answer 400 with the message and an ``X-Parameter`` header naming the parameter.
Names come only from the catalogue: an unknown name is 404 and never becomes a file path.
"""

from __future__ import annotations

import time
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from rdflib import URIRef

from .api import _parse_sparql_json, display, python_value
from .engine import QueryError, format_to_accept
from .labels import NameIndex, names_query
from .saved_queries import ParameterError, SavedQuery, UnknownQuery, load_saved_queries

_SPARQL_JSON = "application/sparql-results+json"
_SHAPES = ("objects", "arrays")


def _wants(accept: str | None, media: str) -> float:
    """The q-value the Accept header gives ``media`` exactly (0 when it does not name it)."""
    for part in (accept or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        if fields[0].lower() == media:
            for f in fields[1:]:
                if f.startswith("q="):
                    try:
                        return float(f[2:])
                    except ValueError:
                        return 0.0
            return 1.0
    return 0.0


def choose_view(accept: str | None, shape: str | None, fmt: str | None) -> tuple[str, str | None]:
    """("html" | "datasette" | "sparql", the Accept value for the engine when "sparql")."""
    if fmt:
        key = fmt.strip().lower()
        if key == "html":
            return "html", None
        if key in ("datasette", "objects", "arrays"):
            return "datasette", None
        return "sparql", format_to_accept(key)
    if shape:
        return "datasette", None
    html_q, json_q = _wants(accept, "text/html"), _wants(accept, "application/json")
    if html_q and html_q >= json_q and html_q >= _wants(accept, _SPARQL_JSON):
        return "html", None
    if json_q and json_q >= _wants(accept, _SPARQL_JSON):
        return "datasette", None
    return "sparql", accept


def _json_value(term):
    """JSON numbers and booleans for numeric and boolean literals; every other term as its text."""
    if term is None:
        return None
    value = python_value(term)
    return value if isinstance(value, bool | int | float) else str(term)


async def _select(engine, sparql: str, substitutions) -> list[dict]:
    answer = await engine.query(sparql, media_type=_SPARQL_JSON, substitutions=substitutions)
    columns, rows, _ = _parse_sparql_json(answer.body)
    return [dict(zip(columns, row, strict=True)) for row in rows]


async def bind(engine, saved: SavedQuery, given: dict[str, str]) -> dict:
    """The query's parameters as RDF terms, labels resolved through the engine (time-limited)."""
    binding = saved.prepare(given)
    for lookup in binding.lookups:
        rows = await _select(engine, lookup.sparql, lookup.substitutions)
        binding.values[lookup.parameter.name] = lookup.resolve(rows)
    return binding.values


async def _labels(engine, iris: list[str]) -> dict[str, str]:
    """The short names of (at most 500 of) these IRIs, as the Python API's tables show them."""
    sparql = names_query(iris[:500])
    if sparql is None:
        return {}
    rows = await _select(engine, sparql, None)
    names = NameIndex().add_rows((row["iri"], row["property"], row["name"]) for row in rows)
    return {iri: names.short(iri) for iri in names}


def _error(err: Exception, status: int | None = None) -> Response:
    message = getattr(err, "message", str(err))
    # percent-encoded (RFC 3986 unreserved kept): a client's parameter name may hold CR, LF or non-Latin-1
    headers = {"X-Parameter": quote(err.parameter, safe="-._~")} if isinstance(err, ParameterError) else {}
    code = status or getattr(err, "status", 400)
    return Response(message + "\n", status_code=code, media_type="text/plain; charset=utf-8", headers=headers)


def _catalogue_html(request: Request, queries: list[SavedQuery]) -> HTMLResponse:
    """The catalogue as a page of the site (its template, stylesheet and Content-Security-Policy)."""
    from .web import page

    entries = []
    for q in queries:
        example = {p.name: p.example for p in q.parameters if p.example and p.required}
        entries.append({"query": q, "href": f"/queries/{q.name}" + ("?" + urlencode(example) if example else "")})
    return page(request, "queries.html", title="Saved queries", entries=entries)


def _result_html(request: Request, saved: SavedQuery, values: dict, columns, rows, names,
                 elapsed: float) -> HTMLResponse:
    """A saved query's answer as a table; a cell links only where :func:`explore_kg.web.href` allows
    (our pages, other http(s) IRIs), never to a ``javascript:`` or other IRI from the data."""
    from .web import href, page

    def cell(term) -> dict:
        if term is None:
            return {"text": ""}
        text = display(term, names)
        if isinstance(term, URIRef):
            return {"text": text, "href": href(str(term)), "title": str(term)}
        return {"text": text}

    bound = [(k, display(v, names)) for k, v in values.items()]
    return page(request, "queries_result.html", title=saved.title, saved=saved, bound=bound, columns=columns,
                rows=[[cell(v) for v in row] for row in rows], elapsed_ms=f"{elapsed:.1f}")


def _endpoint(saved: SavedQuery):
    """The route function of one saved query (its parameters are described by :func:`openapi_parameters`)."""

    async def run_saved(request: Request) -> Response:
        engine = request.app.state.engine
        params = dict(request.query_params)
        shape = params.pop("_shape", None)
        formats = [params.pop(key, None) for key in ("_format", "format", "output")]
        fmt = next((f for f in formats if f), None)
        given = {k: v for k, v in params.items() if not k.startswith("_")}
        try:
            if shape is not None and shape not in _SHAPES:
                raise QueryError(f"unknown _shape {shape!r}; use objects or arrays")
            view, accept = choose_view(request.headers.get("accept"), shape, fmt)
            values = await bind(engine, saved, given)
            started = time.perf_counter()
            media = _SPARQL_JSON if view != "sparql" else accept
            answer = await engine.query(saved.sparql, media_type=media, substitutions=values)
            elapsed = answer.elapsed_ms or (time.perf_counter() - started) * 1000
            headers = {"Server-Timing": f"query;dur={elapsed:.2f}", "Vary": "Accept"}
            if view == "sparql":
                return Response(answer.body, media_type=answer.media_type, headers=headers)
            columns, rows, _ = _parse_sparql_json(answer.body)
            if view == "html":
                iris = sorted({str(v) for row in rows for v in row if isinstance(v, URIRef)}
                              | {str(v) for v in values.values() if isinstance(v, URIRef)})
                names = await _labels(engine, iris)
                return _result_html(request, saved, values, columns, rows, names, elapsed)
            out_rows = [[_json_value(v) for v in row] for row in rows]
            if shape == "objects":
                out_rows = [dict(zip(columns, row, strict=True)) for row in out_rows]
            return JSONResponse({
                "query": saved.name,
                "title": saved.title,
                "parameters": {k: str(v) for k, v in values.items()},
                "columns": columns,
                "rows": out_rows,
                "truncated": False,
                "query_ms": round(elapsed, 3),
            }, headers=headers)
        except (ParameterError, QueryError) as err:
            return _error(err)

    run_saved.__name__ = "query_" + saved.name.replace("-", "_")
    run_saved.__doc__ = saved.description
    return run_saved


_JSON_TYPES = {"integer": "integer", "int": "integer", "decimal": "number", "double": "number",
               "boolean": "boolean", "date": "string"}


def openapi_parameters(saved: SavedQuery) -> list[dict]:
    """The query-string parameters of a saved query's route, as OpenAPI describes them.

    Declared here rather than as FastAPI parameters so that a bad value reaches our own checks and
    gets a 400 naming the parameter (not a generic 422).
    """
    out = []
    for p in saved.parameters:
        local = (p.datatype or "").rsplit("#", 1)[-1]
        schema: dict = {"type": _JSON_TYPES.get(local, "string") if p.kind == "literal" else "string"}
        if local == "date":
            schema["format"] = "date"
        if p.default is not None:
            schema["default"] = p.default
        out.append({
            "name": p.name, "in": "query", "required": p.required, "schema": schema,
            "description": f"{p.doc} Type: {p.type_label}.",
            **({"example": p.example} if p.example else {}),
        })
    out.append({"name": "_shape", "in": "query", "required": False, "schema": {"type": "string",
                "enum": list(_SHAPES)}, "description": "The Datasette-like JSON shape: rows as objects or arrays."})
    out.append({"name": "_format", "in": "query", "required": False, "schema": {"type": "string"},
                "description": "Overrides Accept: json, xml, csv, tsv, html, datasette (also 'format' or 'output')."})
    return out


_RESPONSES = {
    200: {"description": "The answer", "content": {m: {} for m in [
        "application/json", _SPARQL_JSON, "application/sparql-results+xml", "text/csv",
        "text/tab-separated-values", "text/html"]}},
    400: {"description": "A missing, mistyped, unknown or ambiguous parameter (named in X-Parameter)"},
    406: {"description": "No result format matches Accept"},
    503: {"description": "The query exceeded the time limit"},
}


def build_router(app: FastAPI) -> APIRouter:
    """The catalogue and one GET route per saved query (included by ``server.create_app``)."""
    router = APIRouter(tags=["saved queries"])
    queries = load_saved_queries()

    @router.get("/queries", summary="The catalogue of saved queries", response_model=None)
    async def catalogue(request: Request) -> Response:
        accept = request.headers.get("accept")
        if request.query_params.get("_format") == "html" or (
            _wants(accept, "text/html") > _wants(accept, "application/json")
            and request.query_params.get("_format") != "json"
        ):
            return _catalogue_html(request, queries)
        return JSONResponse({"queries": [{**q.to_json(), "url": f"/queries/{q.name}"} for q in queries]},
                            headers={"Vary": "Accept"})

    for saved in queries:
        router.add_api_route(
            f"/queries/{saved.name}", _endpoint(saved), methods=["GET"], summary=saved.title,
            description=saved.description, response_class=Response, responses=_RESPONSES,
            operation_id="query_" + saved.name.replace("-", "_"),
            openapi_extra={"parameters": openapi_parameters(saved)},
        )

    @router.get("/queries/{name}", include_in_schema=False)
    async def unknown(name: str) -> Response:
        err = UnknownQuery(name, [q.name for q in queries])
        return Response(err.message + "\n", status_code=404, media_type="text/plain; charset=utf-8")

    return router


__all__ = ["build_router", "bind", "choose_view"]
