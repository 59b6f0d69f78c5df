"""Download the graph as files: ``GET /dumps`` lists them, ``GET /dumps/explore-kg.<ext>`` serves one.

The documents are the ones ``explore-kg export`` writes (:mod:`explore_kg.export`), byte for byte.
Each is built on its first request and then kept in memory for the life of the server: the data does
not change while it is served, so the bytes, and their ETag, never change either.

* ``/dumps/explore-kg.{ttl,nt,jsonld,rdf,trig,nq}``: the asserted triples;
  ``?profile=core|schema|wikidata`` and ``?graph=<source slug>`` as on the command line;
* ``?inferred=true`` on ``.trig`` / ``.nq``: asserted plus inferred triples, the inferred ones in graph
  ``https://w3id.org/explore-kg/graph/inferred``;
* ``/dumps/explore-kg.inferred.<ext>``: the inferred triples alone, in any format (this is how the
  formats without named graphs get them, apart from the asserted ones).
"""

from __future__ import annotations

import hashlib
import re
import threading

import pyoxigraph as ox
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from .export import FORMAT_BY_EXTENSION, FORMATS, PROFILES, Document, Exporter, ExportError, graph_slug
from .namespaces import INFERRED_GRAPH

NAME = "explore-kg"
_FILE = re.compile(rf"^{re.escape(NAME)}(?P<inferred>\.inferred)?\.(?P<ext>[a-z]+)$")


class DumpCache:
    """One Exporter for the served data, built on first use; documents are cached by the Exporter.

    A document already built is returned at once, never behind another's build (the first inferred
    document reasons for seconds, in a worker thread, off the event loop). A server that reasoned at
    start (``serve --inferred``) hands its inferences to the Exporter instead of reasoning again.
    """

    def __init__(self, app: FastAPI):
        self._app = app
        self._exporter: Exporter | None = None
        self._lock = threading.Lock()  # the Exporter's own caches: one build at a time
        self._built: dict[tuple, Document] = {}

    @property
    def exporter(self) -> Exporter:
        if self._exporter is None:
            exporter = Exporter(self._app.state.loaded)
            served = ox.NamedNode(str(INFERRED_GRAPH))
            inferred = [q for q in self._app.state.loaded.quads if q.graph_name == served]
            if inferred:  # the same reasoning over the same asserted quads: reuse it (Exporter._raw_inferred)
                nodes = {t for q in exporter.quads for t in (q.subject, q.object)}
                exporter._inferred[None] = [q for q in inferred if q.subject in nodes]
            self._exporter = exporter
        return self._exporter

    def ready(self, ext: str, content: str, profile: str, graph: str | None) -> Document | None:
        """The document if it is already built (a dict look-up, fine on the event loop), else None."""
        built = self._built.get((ext, content, profile, graph))
        exporter = self._exporter
        if built is not None or exporter is None:
            return built
        try:
            key = (FORMAT_BY_EXTENSION[ext].name, content, exporter.resolve_graph(graph), profile)
        except ExportError:
            return None
        return exporter._cache.get(key)

    def document(self, ext: str, content: str, profile: str, graph: str | None) -> Document:
        key = (ext, content, profile, graph)
        doc = self._built.get(key)
        if doc is None:
            with self._lock:  # one build at a time; later requests get the cached bytes
                doc = self.exporter.document(FORMAT_BY_EXTENSION[ext].name, content=content, graph=graph,
                                             profile=profile)
            self._built[key] = doc
        return doc


def download_name(doc: Document) -> str:
    """A file name that says what the document holds: explore-kg[.slug][.profile][.with-inferred|.inferred].ext"""
    parts = [NAME]
    if doc.graph:
        parts.append(graph_slug(doc.graph))
    if doc.profile != "core":
        parts.append(doc.profile)
    if doc.content == "all":
        parts.append("with-inferred")
    elif doc.content == "inferred":
        parts.append("inferred")
    return ".".join(parts) + "." + doc.format.extension


def _problem(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def public_base(request: Request) -> str:
    """Where the dumps are, for the listing: the operator's public URL if one is configured, else the
    server's own root path. Never the request's Host header, which a client chooses (issue 15)."""
    config = getattr(request.app.state, "config", None)
    configured = getattr(config, "base_url", None)
    return str(configured).rstrip("/") if configured else request.scope.get("root_path", "").rstrip("/")


_DUMP_RESPONSES = {
    200: {"description": "The dump", "content": {f.media_type: {} for f in FORMATS.values()}},
    304: {"description": "Not modified (If-None-Match matched the ETag)"},
    400: {"description": "An unknown profile or graph, or inferred triples asked of a format without named graphs"},
    404: {"description": "No dump of that name"},
}


def build_router(app: FastAPI) -> APIRouter:
    router = APIRouter(tags=["dumps"])
    cache = DumpCache(app)
    etags: dict[int, str] = {}

    @router.get("/dumps", summary="List the downloadable dumps")
    def list_dumps(request: Request) -> dict:
        base = public_base(request)
        files = []
        for fmt in FORMATS.values():
            name = f"{NAME}.{fmt.extension}"
            entry = {
                "name": name,
                "format": fmt.name,
                "media_type": fmt.media_type,
                "url": f"{base}/dumps/{name}",
                "inferred_url": f"{base}/dumps/{NAME}.inferred.{fmt.extension}",
                "named_graphs": fmt.quads,
            }
            if fmt.quads:
                entry["with_inferred_url"] = f"{base}/dumps/{name}?inferred=true"
            files.append(entry)
        return {
            "dumps": files,
            "profiles": list(PROFILES),
            "graphs": sorted(cache.exporter.graph_slugs),
            "license": "https://creativecommons.org/licenses/by/4.0/",
            "usage": "?profile=core|schema|wikidata, ?graph=<slug>; ?inferred=true on .trig and .nq adds the "
            "inferred triples in graph https://w3id.org/explore-kg/graph/inferred; explore-kg.inferred.<ext> "
            "holds the inferred triples alone.",
        }

    @router.api_route("/dumps/{filename}", methods=["GET", "HEAD"], summary="Download one dump",
                      responses=_DUMP_RESPONSES, response_class=Response)
    async def get_dump(
        request: Request,
        filename: str,
        inferred: bool = Query(False, description="Add the inferred triples in their own named graph (.trig, .nq)."),
        profile: str = Query("core", description="core, schema or wikidata."),
        graph: str | None = Query(None, description="One source's graph, by slug or IRI."),
    ):
        m = _FILE.match(filename)
        if not m or m.group("ext") not in FORMAT_BY_EXTENSION:
            known = [f"{NAME}.{f.extension}" for f in FORMATS.values()]
            return _problem(404, f"no dump named {filename!r}", dumps=known)
        ext = m.group("ext")
        if m.group("inferred"):
            content = "inferred"
        elif inferred:
            if not FORMAT_BY_EXTENSION[ext].quads:
                return _problem(
                    400,
                    f".{ext} has no named graphs, so inferred triples cannot be kept apart in it: use "
                    f"/dumps/{NAME}.trig?inferred=true or /dumps/{NAME}.nq?inferred=true, or "
                    f"/dumps/{NAME}.inferred.{ext} for the inferred triples alone",
                )
            content = "all"
        else:
            content = "asserted"
        try:
            doc = cache.ready(ext, content, profile, graph) or await run_in_threadpool(
                cache.document, ext, content, profile, graph)
        except ExportError as e:
            return _problem(400, str(e))
        etag = etags.get(id(doc))
        if etag is None:  # hashed once per document (they live as long as the server): not per request
            etag = etags[id(doc)] = '"' + hashlib.sha256(doc.data).hexdigest()[:32] + '"'
        headers = {
            "Content-Disposition": f'attachment; filename="{download_name(doc)}"',
            "ETag": etag,
            "Cache-Control": "public, max-age=3600",
            "X-Triples": str(doc.triples),
        }
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        body = b"" if request.method == "HEAD" else doc.data
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(doc.data))
        return Response(body, media_type=doc.format.media_type, headers=headers)

    return router
