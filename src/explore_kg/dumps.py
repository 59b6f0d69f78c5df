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

Versioned dumps (:mod:`explore_kg.release`): ``/dumps/VERSION/FILE`` serves a file of a release folder
and ``/dumps/latest/FILE`` the same file of the highest version (``/dumps/VERSION/`` lists the files,
``/dumps/VERSION/void.ttl`` describes them). With ``serve --releases DIR`` the versions are DIR's
release folders (``explore-kg release VERSION --out DIR``); without it, the served data is the one
version, named by the ontology's ``owl:versionInfo``, built in memory on first request. Release files
never change: ETag is their SHA-256, Last-Modified the release date, versioned URLs are ``immutable``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import re
import tempfile
import threading
from pathlib import Path

import pyoxigraph as ox
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response

from .export import FORMAT_BY_EXTENSION, FORMATS, PROFILES, Document, Exporter, ExportError, graph_slug
from .namespaces import INFERRED_GRAPH

NAME = "explore-kg"
_FILE = re.compile(rf"^{re.escape(NAME)}(?P<inferred>\.inferred)?\.(?P<ext>[a-z]+)$")


class DumpCache:
    """One Exporter for the served data, built on first use; documents are cached by the Exporter.

    A document already built is returned at once, never behind another's build (the first inferred
    document reasons for seconds, in a worker thread, off the event loop). A server that reasoned at
    start (``serve --inferred``) hands its inferences to the Exporter instead of reasoning again.

    Data that is not in this process (the on-disk store, an external store: ``loaded.quads`` is read on
    demand) is never materialised for the asserted documents: :class:`~explore_kg.export_streaming.StreamingExporter`
    writes each, once, into a file of a temporary directory that lives as long as the server, and the file
    is sent from disk (:meth:`file`): the same bytes as the in-memory Exporter gives. (The inferred documents
    still go through the Exporter: OWL RL reasoning needs the whole graph in rdflib.)
    """

    def __init__(self, app: FastAPI):
        self._app = app
        self._exporter: Exporter | None = None
        self._streaming = None
        self._files: dict[tuple, tuple[Path, str, int]] = {}  # key -> (path, etag, triples)
        self._dir: tempfile.TemporaryDirectory | None = None
        self._lock = threading.Lock()  # the Exporter's own caches: one build at a time

    @property
    def streams(self) -> bool:
        """Whether the served quads live outside this process (so documents are streamed into files)."""
        return not isinstance(getattr(self._app.state.loaded, "quads", None), list)

    @property
    def streaming(self):
        if self._streaming is None:
            from .export_streaming import StreamingExporter

            self._streaming = StreamingExporter(self._app.state.loaded)
        return self._streaming

    @property
    def graph_slugs(self) -> list[str]:
        return sorted(graph_slug(g) for g in self.streaming.graphs) if self.streams else sorted(self.exporter.graph_slugs)

    @property
    def version(self) -> str:
        """The ontology's version (the one release of the served data), without materialising streamed data."""
        return (self.streaming if self.streams else self.exporter).ontology.version_info

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
        """The document if the Exporter has built it already (a dict look-up, fine on the event loop), else None."""
        exporter = self._exporter
        if exporter is None:
            return None
        try:
            key = (FORMAT_BY_EXTENSION[ext].name, content, exporter.resolve_graph(graph), profile)
        except ExportError:
            return None
        return exporter._cache.get(key)

    def document(self, ext: str, content: str, profile: str, graph: str | None) -> Document:
        with self._lock:  # one build at a time; later requests get the Exporter's cached document
            return self.exporter.document(FORMAT_BY_EXTENSION[ext].name, content=content, graph=graph,
                                          profile=profile)

    def file(self, ext: str, profile: str, graph: str | None) -> tuple[Path, str, int, Document]:
        """An asserted document of streamed data: (its file, ETag, triples, a Document without data)."""
        fmt = FORMAT_BY_EXTENSION[ext].name
        with self._lock:
            graph_iri = self.streaming.resolve_graph(graph)
            key = (fmt, graph_iri, profile)
            if key not in self._files:
                if self._dir is None:
                    self._dir = tempfile.TemporaryDirectory(prefix="explore-kg-dumps-")
                path = Path(self._dir.name) / f"{len(self._files)}.{ext}"
                with open(path, "wb") as f:
                    hashing = _Hashing(f)
                    doc = self.streaming.write(hashing, fmt, graph=graph_iri, profile=profile)
                self._files[key] = (path, '"' + hashing.digest.hexdigest()[:32] + '"', doc.triples)
            path, etag, triples = self._files[key]
        return path, etag, triples, Document(b"", FORMATS[fmt], "asserted", profile, graph_iri, "", triples)


class _Hashing:
    """A binary writer that hashes what it writes (the ETag of a document streamed into a file)."""

    def __init__(self, f):
        self.f, self.digest = f, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.f.write(data)

    def flush(self) -> None:
        self.f.flush()


class Releases:
    """The versions served at /dumps/VERSION/: release folders under ``--releases DIR``, or the served
    data as the ontology's version, built in memory on first request (one build, in a worker thread)."""

    def __init__(self, app: FastAPI, cache: DumpCache):
        config = getattr(app.state, "config", None)
        root = getattr(config, "releases", None)
        self.root = Path(root) if root else None
        self._app, self._cache = app, cache
        self._lock = threading.Lock()
        self._built: dict[str, bytes] | None = None
        self._date: dt.date | None = None

    def versions(self) -> list[str]:
        """Known versions, lowest first (release folders are found when asked: new ones need no restart)."""
        from .release import SEMVER, SUMS_FILE, semver_key

        if self.root is None:
            return [self._cache.version]
        if not self.root.is_dir():
            return []
        found = [p.name for p in self.root.iterdir() if SEMVER.match(p.name) and (p / SUMS_FILE).is_file()]
        return sorted(found, key=semver_key)

    def resolve(self, version: str) -> str | None:
        """A version, or ``latest`` (the highest release, pre-releases only when there is nothing else)."""
        versions = self.versions()
        if version != "latest":
            return version if version in versions else None
        final = [v for v in versions if "-" not in v.split("+")[0]]
        return (final or versions or [None])[-1]

    def files(self, version: str) -> dict[str, str]:
        """File name -> SHA-256 hex of one release (from its SHA256SUMS, plus that file itself)."""
        from .release import SUMS_FILE

        sums = self.read(version, SUMS_FILE, known=True)
        out = {}
        for line in sums.decode().splitlines():
            digest, _, name = line.partition("  ")
            out[name] = digest
        out[SUMS_FILE] = hashlib.sha256(sums).hexdigest()
        return out

    def read(self, version: str, name: str, known: bool = False) -> bytes:
        """A release file's bytes; the name must be one the release lists (no paths)."""
        if self.root is not None:
            if not known and name not in self.files(version):
                raise KeyError(name)
            return (self.root / version / name).read_bytes()
        from .release import document_names

        if name in document_names():  # an export: the /dumps document, no need to build the whole release
            fmt, content, profile = document_names()[name]
            return self._cache.document(FORMATS[fmt].extension, content, profile, None).data
        return self._build()[name]

    def date(self, version: str) -> dt.date | None:
        """The release date, from its void.ttl (dcterms:issued)."""
        from .release import VOID_FILE, release_date

        if self.root is None:
            if self._date is None:
                self._date = release_date(None, self._cache.exporter)
            return self._date
        m = _ISSUED.search(self.read(version, VOID_FILE, known=True).decode())
        return dt.date.fromisoformat(m.group(1)) if m else None

    def _build(self) -> dict[str, bytes]:
        from . import release

        with self._lock, self._cache._lock:  # the Exporter's caches are shared with /dumps: one build at a time
            if self._built is None:
                exporter = self._cache.exporter
                version = exporter.ontology.version_info
                config = getattr(self._app.state, "config", None)
                served_files = bool(getattr(config, "paths", ()))
                validation = (release.Validation(False, 0, 0, 0, checked=False) if served_files
                              else release.run_validation())
                self.date(version)
                changelog = release.changelog_for(exporter, version, self._date, None)
                self._built = release.build(exporter, version, date=self._date, changelog=changelog,
                                            validation=validation)
            return self._built

    def ready(self, version: str) -> bool:
        """Whether answering about ``version`` is a quick look-up (folders are; the in-memory build is not)."""
        return self.root is not None or self._built is not None


_ISSUED = re.compile(r'dcterms:issued "(\d{4}-\d\d-\d\d)"')


def file_name(ext: str, *, content: str = "asserted", profile: str = "core", graph: str | None = None) -> str:
    """explore-kg[.slug][.profile][.with-inferred|.inferred].ext: the name of a dump, served or released."""
    parts = [NAME]
    if graph:
        parts.append(graph_slug(graph))
    if profile != "core":
        parts.append(profile)
    if content == "all":
        parts.append("with-inferred")
    elif content == "inferred":
        parts.append("inferred")
    return ".".join(parts) + "." + ext


def download_name(doc: Document) -> str:
    """A file name that says what the document holds (:func:`file_name`)."""
    return file_name(doc.format.extension, content=doc.content, profile=doc.profile, graph=doc.graph)


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
    releases = Releases(app, cache)
    etags: dict[int, str] = {}

    def release_listing(request: Request, version: str) -> Response:
        resolved = releases.resolve(version)
        if resolved is None:
            return _problem(404, f"no release {version!r}", releases=releases.versions())
        base = public_base(request)
        files = releases.files(resolved) if releases.ready(resolved) else None
        if files is None:
            from .release import CHANGELOG_FILE, IRIS_FILE, SUMS_FILE, VOID_FILE, document_names

            names = [*document_names(), VOID_FILE, IRIS_FILE, CHANGELOG_FILE, SUMS_FILE]
            files = dict.fromkeys(names)
        from .release import media_type

        return JSONResponse({
            "version": resolved,
            "releases": releases.versions(),
            "description": f"{base}/dumps/{resolved}/void.ttl",
            "files": [{"name": n, "url": f"{base}/dumps/{version}/{n}", "media_type": media_type(n),
                       **({"sha256": files[n]} if files[n] else {})} for n in sorted(files)],
        })

    @router.get("/dumps/{version}/", summary="List the files of one release (or of latest)",
                responses={200: {"description": "The release's files"}, 404: {"description": "No such release"}})
    def list_release(request: Request, version: str):
        return release_listing(request, version)

    @router.api_route("/dumps/{version}/{filename}", methods=["GET", "HEAD"], summary="Download one file of a release",
                      responses=_DUMP_RESPONSES, response_class=Response)
    async def get_release_file(request: Request, version: str, filename: str):
        resolved = releases.resolve(version)
        if resolved is None:
            return _problem(404, f"no release {version!r}", releases=releases.versions())
        try:
            if releases.ready(resolved):
                data = releases.read(resolved, filename)
                date = releases.date(resolved)
            else:
                data = await run_in_threadpool(releases.read, resolved, filename)
                date = await run_in_threadpool(releases.date, resolved)
        except (KeyError, FileNotFoundError):
            return _problem(404, f"release {resolved} has no file {filename!r}",
                            listing=f"{public_base(request)}/dumps/{resolved}/")
        from .release import media_type

        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        headers = {
            "ETag": etag,
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "public, max-age=31536000, immutable" if version != "latest" else "public, max-age=300",
            "X-Release": resolved,
        }
        if version == "latest":
            headers["Content-Location"] = f"{public_base(request)}/dumps/{resolved}/{filename}"
        if date is not None:
            stamp = dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC)
            headers["Last-Modified"] = email.utils.format_datetime(stamp, usegmt=True)
        inm = request.headers.get("if-none-match")
        if inm is not None:
            if etag in inm or inm.strip() == "*":
                return Response(status_code=304, headers=headers)
        elif date is not None and request.headers.get("if-modified-since"):
            try:
                since = email.utils.parsedate_to_datetime(request.headers["if-modified-since"])
                if since.tzinfo is not None and since >= stamp:
                    return Response(status_code=304, headers=headers)
            except (TypeError, ValueError):
                pass
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(data))
            data = b""
        return Response(data, media_type=media_type(filename), headers=headers)

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
            "graphs": cache.graph_slugs,
            "releases": releases.versions(),
            "latest": f"{base}/dumps/latest/",
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
        if not m and (filename == "latest" or filename in releases.versions()):
            return release_listing(request, filename)
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
        if content == "asserted" and cache.streams:  # data outside this process: streamed into a file, sent from disk
            try:
                path, etag, triples, doc = await run_in_threadpool(cache.file, ext, profile, graph)
            except ExportError as e:
                return _problem(400, str(e))
            headers = {"Content-Disposition": f'attachment; filename="{download_name(doc)}"', "ETag": etag,
                       "Cache-Control": "public, max-age=3600", "X-Triples": str(triples)}
            if etag in request.headers.get("if-none-match", ""):
                return Response(status_code=304, headers=headers)
            if request.method == "HEAD":
                headers["Content-Length"] = str(path.stat().st_size)
                return Response(b"", media_type=doc.format.media_type, headers=headers)
            return FileResponse(path, media_type=doc.format.media_type, headers=headers)
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
