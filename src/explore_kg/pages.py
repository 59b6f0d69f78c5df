"""The FastAPI app of everything the endpoint serves besides /sparql and /health: pages and APIs.

The optional modules' routers (:data:`OPTIONAL_ROUTERS`: each that exists exposes ``build_router(app)
-> APIRouter`` and is included, so the endpoint does not depend on them), FastAPI's ``/openapi.json``
(which documents /sparql and /health too), CORS and the access log. :class:`explore_kg.server.EndpointApp`
answers /sparql and /health itself and hands every other request to this app; the ``serve`` command builds
it in a thread while SPARQL clients are already answered, because importing FastAPI and building these
routes is most of a restart's time to first answer (issue 10).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from starlette.middleware.cors import CORSMiddleware

from . import __version__
from .access_log import AccessLogMiddleware
from .protocol import SPARQL_PATHS

log = logging.getLogger("explore_kg.server")

OPTIONAL_ROUTERS = ("queries_http", "ontology_http", "web", "dumps", "validate_http", "update_http")  # ontology_http before web: its /ontology wins

SPARQL_OPENAPI = {
    "parameters": [
        {"name": "query", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "A SPARQL 1.1 query (SELECT, ASK, CONSTRUCT, DESCRIBE). Without it, GET returns the "
                        "SPARQL Service Description."},
        {"name": "default-graph-uri", "in": "query", "required": False,
         "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": True,
         "description": "Graphs whose merge is the default graph (instead of the union of all graphs)."},
        {"name": "named-graph-uri", "in": "query", "required": False,
         "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": True,
         "description": "Graphs available to GRAPH."},
        {"name": "format", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "Overrides Accept: json, xml, csv, tsv, turtle, ntriples, jsonld, rdfxml, trig, nquads."},
    ],
    "responses": {
        "200": {"description": "Query results",
                "content": {m: {} for m in ["application/sparql-results+json", "application/sparql-results+xml",
                                            "text/csv", "text/tab-separated-values", "text/turtle",
                                            "application/n-triples", "application/ld+json",
                                            "application/rdf+xml", "application/trig", "application/n-quads"]}},
        "304": {"description": "Not modified (If-None-Match matched the ETag)"},
        "400": {"description": "Malformed query, protocol error, or refused operation (update, SERVICE, "
                               "a graph not in the dataset)"},
        "406": {"description": "No result format matches Accept"},
        "413": {"description": "Query text larger than the limit"},
        "429": {"description": "This client already has as many requests in progress and waiting as it may "
                               "(serve --client-queries, --client-queue); Retry-After says when to try again"},
        "503": {"description": "The query exceeded the time limit, waited too long for a worker, or needed more "
                               "memory than a worker may use (no partial results are sent)"},
    },
}
SPARQL_POST_OPENAPI = {
    **SPARQL_OPENAPI,
    "requestBody": {
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "properties": {
                    "query": {"type": "string"},
                    "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                    "named-graph-uri": {"type": "array", "items": {"type": "string"}},
                }, "required": ["query"]}},
            "application/sparql-query": {"schema": {"type": "string"}},
        }
    },
}
# What the connection guard (explore_kg.limits) and EndpointApp may answer on any route.
GUARD_RESPONSES = {
    "400": "Malformed Host header, or a path holding a character an IRI cannot",
    "408": "The request's headers or body did not arrive in time (serve --header-timeout)",
    "414": "The request target is longer than the limit",
    "431": "The request headers are larger, or more, than the limit (serve --max-header-kb)",
}


def document_guard_responses(app: FastAPI) -> None:
    """Add :data:`GUARD_RESPONSES` to every operation of the app's OpenAPI document."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            document = build()
            for item in document.get("paths", {}).values():
                for operation in item.values():
                    if isinstance(operation, dict) and "responses" in operation:
                        for code, text in GUARD_RESPONSES.items():
                            operation["responses"].setdefault(code, {"description": text})
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi


class PagesApp(FastAPI):
    """FastAPI, with the attributes the routers and :class:`explore_kg.server.EndpointApp` share.

    A request for /sparql that reaches it (the web router hands a SPARQL client's request for "/" to the
    app again, as one for /sparql) goes to the endpoint, which answers /sparql."""

    endpoint = None  # the EndpointApp
    sparql = None  # the endpoint's SparqlEndpoint (the update router clears its service description)
    sparql_html = None  # set by the web router: a browser's GET /sparql?query= gets the editor with the results
    public: tuple[str, bytes] | None = None  # (scheme, host) of serve --base-url

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"] in SPARQL_PATHS and self.endpoint is not None:
            return await self.endpoint(scope, receive, send)
        return await super().__call__(scope, receive, send)


def build_pages(endpoint) -> PagesApp:
    """The pages app of ``endpoint`` (an :class:`explore_kg.server.EndpointApp`), its state shared."""
    app = PagesApp(
        title="explore-kg SPARQL endpoint",
        version=__version__,
        description="A read-only SPARQL 1.1 endpoint over the explore-kg knowledge graph of international "
        "space exploration. Every query runs under a time limit in an isolated worker; SERVICE, updates and "
        "graphs outside the dataset are refused.",
        docs_url=None,  # /docs is the web router's, with Swagger UI served from the package (works offline)
        redoc_url=None,
    )
    for name in ("config", "loaded", "engine", "store", "graph_sizes", "router_errors", "share", "writer"):
        setattr(app.state, name, getattr(endpoint, name))
    app.endpoint, app.sparql, app.public = endpoint, endpoint.sparql, endpoint.public

    async def answered_by_the_endpoint() -> Response:  # pragma: no cover - EndpointApp answers these first
        raise RuntimeError("/sparql and /health are answered by EndpointApp")

    summary = "SPARQL 1.1 Protocol query operation"
    app.add_api_route("/sparql", answered_by_the_endpoint, methods=["GET"], summary=summary,
                      openapi_extra=SPARQL_OPENAPI, response_class=Response, tags=["sparql"], operation_id="sparql_get")
    app.add_api_route("/sparql", answered_by_the_endpoint, methods=["POST"], summary=summary,
                      openapi_extra=SPARQL_POST_OPENAPI, response_class=Response, tags=["sparql"],
                      operation_id="sparql_post")
    app.add_api_route("/health", answered_by_the_endpoint, methods=["GET"], tags=["meta"],
                      summary="Liveness and what is loaded", response_class=JSONResponse,
                      responses={503: {"description": "Degraded: no query worker is alive now"}})
    include_optional_routers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["ETag", "Content-Type", "Content-Length", "Server-Timing", "Cache-Control"],
        max_age=3600,
    )
    app.add_middleware(AccessLogMiddleware)
    document_guard_responses(app)
    return app


def include_optional_routers(app: FastAPI) -> None:
    """Include ``build_router(app)`` of each optional module that exists; a broken one is logged, not fatal."""
    for name in OPTIONAL_ROUTERS:
        module_name = f"{__package__}.{name}"
        try:
            if importlib.util.find_spec(module_name) is None:
                continue
            module = importlib.import_module(module_name)
            build = getattr(module, "build_router", None)
            if build is None:
                continue
            app.include_router(build(app))
        except Exception as e:  # noqa: BLE001 - one broken part must not take the endpoint down
            log.exception("optional router %s could not be included", module_name)
            app.state.router_errors[name] = f"{type(e).__name__}: {e}"
