"""The write routes of ``serve --writable``: SPARQL 1.1 Update at ``/update``, the Graph Store HTTP
Protocol at ``/store``, and the change log at ``/changes``.

Only included when the app has a writer (``app.state.writer``): a read-only server has none of these
routes. Every write needs ``Authorization: Bearer <token>`` (:mod:`explore_kg.tokens`); it runs through
:class:`explore_kg.commit.Writer` in a thread, so queries go on while it is validated and committed.
Cross-origin writes are never allowed: the server answers a CORS preflight to these paths with 403
(:data:`WRITE_PATHS`), and a browser sends no Authorization header cross-origin without one.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl

import pyoxigraph as ox
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from .gate import Delta, UpdateRefused, check_update, replace_graph, run_update
from .tokens import AuthError, authenticate
from .validation.report import Report, one_line, summary

WRITE_PATHS = ("/update", "/store")
MAX_BODY_BYTES = 16 * 1024 * 1024
_FORM = "application/x-www-form-urlencoded"
_UPDATE = "application/sparql-update"
# What a URL-encoded form may hold: unreserved characters, '+', '=', '&' and %XX escapes (and '*', which
# HTML forms leave as it is); anything else (a space, '{', a lone '%') is a form that was not encoded.
_NOT_FORM = re.compile(r"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~%+=&*]")
_TOKEN_PARAMS = ("token", "access_token", "auth", "authorization", "bearer")


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def _error(e: HttpError) -> Response:
    return Response(e.message + "\n", status_code=e.status, media_type="text/plain; charset=utf-8", headers=e.headers)


def _media(request: Request) -> tuple[str, dict]:
    raw = request.headers.get("content-type", "")
    media, _, rest = raw.partition(";")
    params = {}
    for part in rest.split(";"):
        k, _, v = part.strip().partition("=")
        if k:
            params[k.strip().lower()] = v.strip().strip('"')
    return media.strip().lower(), params


def _utf8(body: bytes, params: dict, what: str) -> str:
    charset = params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise HttpError(415, f"{what} must be UTF-8, not {charset}")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise HttpError(400, f"{what} is not valid UTF-8 (byte {e.start})") from None


async def _body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HttpError(413, f"the request body is {len(body)} bytes; at most {MAX_BODY_BYTES} are accepted")
    return body


def _who(app: FastAPI, request: Request) -> str:
    params = {k.lower() for k, _ in parse_qsl(request.url.query, keep_blank_values=True)}
    if params & set(_TOKEN_PARAMS):
        raise HttpError(400, "a token is never accepted in the URL: send it as Authorization: Bearer <token>")
    try:
        return authenticate(app.state.writer.tokens, request.headers.get("authorization"))
    except AuthError as e:
        headers = {"www-authenticate": 'Bearer realm="explore-kg"'} if e.status == 401 else {}
        raise HttpError(e.status, e.message, headers) from None


def _message(request: Request, form: dict | None = None) -> str:
    text = request.headers.get("x-change-message") or (form or {}).get("message", [""])[0]
    return " ".join(text.split())[:500]


def _wants_text(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/plain" in accept and "json" not in accept


def report_text(report: Report) -> str:
    lines = [summary(report)]
    for r in report.results:
        lines.append(one_line(r))
        if r.hint:
            lines.append(f"    hint: {r.hint}")
    return "\n".join(lines) + "\n"


def report_response(report: Report, request: Request, status: int) -> Response:
    if _wants_text(request):
        return Response(report_text(report), status_code=status, media_type="text/plain; charset=utf-8")
    return Response(report.to_json(), status_code=status, media_type="application/json")


def _done(outcome, request: Request, status: int = 200) -> Response:
    if not outcome.accepted:
        return report_response(outcome.report, request, 422)
    change = outcome.change
    body = {"status": "committed" if change else "unchanged", "seq": change.seq if change else None,
            "added": len(outcome.delta.added), "removed": len(outcome.delta.removed), "ms": round(outcome.ms, 2),
            "report": outcome.report.to_dict()}
    if _wants_text(request):
        text = (f"committed change {change.seq}: " if change else "nothing changed: ") + \
            f"{body['added']} quads added, {body['removed']} removed\n"
        return Response(text, status_code=status, media_type="text/plain; charset=utf-8")
    return JSONResponse(body, status_code=status)


async def _run(app: FastAPI, mutate, *, who: str, message: str, body_file: Path | None = None):
    writer = app.state.writer
    outcome = await asyncio.to_thread(writer.write, mutate, who=who, message=message, body_file=body_file)
    if outcome.change is not None:
        after_commit(app, outcome.delta)
    return outcome


def after_commit(app: FastAPI, delta: Delta) -> None:
    """On the event loop, after a commit: what the server keeps about the data follows it."""
    writer = app.state.writer
    served = writer.served
    sizes = app.state.graph_sizes
    for sign, quads in ((1, delta.added), (-1, delta.removed)):
        for q in quads:
            key = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
            sizes[key] = sizes.get(key, 0) + sign
    for key in [k for k, n in sizes.items() if k and n <= 0]:
        del sizes[key]
    served.triples = sum(n for g, n in sizes.items() if g)
    served.loaded.quads._count = served.triples
    served.generation = writer.seq
    app.state.engine.data_changed(served.data_version)
    sparql = getattr(app, "sparql", None)
    if sparql is not None:
        sparql.description.cache_clear()


# --- /update ----------------------------------------------------------------------------------------

async def _update_request(request: Request) -> tuple[str, list[str], list[str], dict]:
    """(update text, using-graph-uri, using-named-graph-uri, form) of a POST, as the Protocol says."""
    media, params = _media(request)
    query = parse_qsl(request.url.query, keep_blank_values=True)
    body = await _body(request)
    form: dict[str, list[str]] = {}
    if media == _FORM:
        text = _utf8(body, params, "the form")
        bad = _NOT_FORM.search(text)
        if bad:
            raise HttpError(400, f"the form is not percent-encoded (character {bad.group()!r} at {bad.start()}): "
                            "encode it as application/x-www-form-urlencoded, e.g. curl --data-urlencode")
        try:
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
        except (ValueError, UnicodeDecodeError) as e:
            raise HttpError(400, f"the form is not URL-encoded: {e}") from None
        for k, v in pairs:
            form.setdefault(k, []).append(v)
        updates = form.get("update", [])
        if len(updates) != 1:
            raise HttpError(400, "exactly one 'update' parameter is needed" if updates else
                            "missing 'update': POST a form with an 'update' field or an application/sparql-update body")
        update = updates[0]
        using = form.get("using-graph-uri", [])
        named = form.get("using-named-graph-uri", [])
    elif media == _UPDATE:
        update = _utf8(body, params, "the update")
        using = [v for k, v in query if k == "using-graph-uri"]
        named = [v for k, v in query if k == "using-named-graph-uri"]
    else:
        raise HttpError(415, f"POST an update as {_FORM} (field 'update') or {_UPDATE}, not "
                        f"{media or 'a body without Content-Type'}")
    if any(k == "update" for k, _ in query):
        raise HttpError(400, "the update must be in the body, not in the URL")
    if not update.strip():
        raise HttpError(400, "the update is empty")
    return update, using, named, form


def with_dataset(update: str, using: list[str], named: list[str]) -> str:
    """The update with the protocol's using-graph-uri / using-named-graph-uri as USING clauses of each
    DELETE/INSERT ... WHERE; an update that has its own USING or WITH conflicts with them (400)."""
    if not using and not named:
        return update
    from .safety import token_pattern

    clauses = "".join(f" USING <{g}>" for g in using) + "".join(f" USING NAMED <{g}>" for g in named) + " "
    out, last, depth, previous = [], 0, 0, None
    for m in token_pattern().finditer(update):
        kind, value = m.lastgroup, m.group()
        if kind in ("ws", "comment"):
            continue
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
        elif kind == "word" and depth == 0:
            word = value.upper()
            if word in ("USING", "WITH"):
                raise HttpError(400, f"the update has its own {word} clause and the request names "
                                "using-graph-uri / using-named-graph-uri: give one or the other")
            if word == "WHERE" and previous != "DELETE":
                out.append(update[last:m.start()])
                out.append(clauses)
                last = m.start()
        if kind == "word":
            previous = value.upper()
        elif kind != "ws":
            previous = None
    out.append(update[last:])
    return "".join(out)


def update_endpoint(request: Request) -> str:
    return str(request.url.replace(query="", fragment=""))


# --- /store (Graph Store HTTP Protocol) ---------------------------------------------------------------

def _target(request: Request) -> ox.NamedNode | ox.DefaultGraph:
    params = parse_qsl(request.url.query, keep_blank_values=True)
    graphs = [v for k, v in params if k == "graph"]
    default = any(k == "default" for k, _ in params)
    if default == bool(graphs) or len(graphs) > 1:
        raise HttpError(400, "name one graph: /store?graph=<IRI> or /store?default")
    if default:
        return ox.DefaultGraph()
    try:
        iri = graphs[0]
        if ":" not in iri:
            raise ValueError("not an absolute IRI")
        return ox.NamedNode(iri)
    except ValueError as e:
        raise HttpError(400, f"graph {graphs[0]!r} is not an absolute IRI: {e}") from None


def _parse_body(body: bytes, media: str, base: str | None) -> tuple[list[ox.Quad], Path | None]:
    fmt = ox.RdfFormat.from_media_type(media) if media else None
    if fmt is None:
        raise HttpError(415, f"cannot read {media or 'a body without Content-Type'}: send Turtle, TriG, "
                        "N-Triples, N-Quads, RDF/XML or JSON-LD with its media type")
    try:
        quads = list(ox.parse(body, format=fmt, base_iri=base))
    except SyntaxError as e:
        raise HttpError(400, f"request body: {e}") from None
    body_file = None
    if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG):  # kept for the report's line numbers
        fd, name = tempfile.mkstemp(prefix="explore-kg-body-", suffix="." + fmt.file_extension)
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        body_file = Path(name)
    return quads, body_file


def _graph_exists(store, graph) -> bool:
    if isinstance(graph, ox.DefaultGraph):
        return True
    return store.contains_named_graph(graph) or any(True for _ in store.quads_for_pattern(None, None, None, graph))


# --- /changes ---------------------------------------------------------------------------------------

def _changes_page(changes: list, fmt: str, base: str) -> Response:
    if fmt == "atom":
        entries = "".join(
            f"<entry><id>urn:uuid:{c.id}</id><title>{html.escape(c.message or f'change {c.seq}')}</title>"
            f"<updated>{c.when}</updated><author><name>{html.escape(c.who)}</name></author>"
            f"<content type=\"text\">{len(c.added)} added, {len(c.removed)} removed in "
            f"{html.escape(', '.join(c.sources) or 'the default graph')}</content></entry>" for c in changes)
        updated = changes[0].when if changes else "1970-01-01T00:00:00Z"
        body = (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                f"<id>{html.escape(base)}</id><title>explore-kg changes</title><updated>{updated}</updated>{entries}</feed>")
        return Response(body, media_type="application/atom+xml")
    if fmt == "html":
        rows = "".join(
            f"<tr id=\"change-{c.seq}\"><td><a href=\"/changes/{c.seq}\">{c.seq}</a></td><td>{html.escape(c.when)}</td><td>{html.escape(c.who)}</td>"
            f"<td>{html.escape(c.message)}</td><td>{html.escape(', '.join(c.sources))}</td>"
            f"<td>+{len(c.added)} / -{len(c.removed)}</td></tr>" for c in changes)
        body = ("<!doctype html><html><head><meta charset=utf-8><link rel=stylesheet href=\"/static/web.css\"><title>Changes</title></head><body>"
                "<h1>Changes</h1><table><thead><tr><th>#</th><th>when</th><th>who</th><th>message</th>"
                f"<th>sources</th><th>quads</th></tr></thead><tbody>{rows}</tbody></table></body></html>")
        return Response(body, media_type="text/html; charset=utf-8")
    return JSONResponse({"changes": [c.to_dict() for c in changes]})


def build_router(app: FastAPI) -> APIRouter:
    router = APIRouter(tags=["write"])
    if getattr(app.state, "writer", None) is None:
        return router  # a read-only server: no write routes at all

    @router.post("/update", summary="SPARQL 1.1 Update (validated, atomic; needs a Bearer token)",
                 responses={401: {"description": "No token"}, 403: {"description": "Wrong token"},
                            422: {"description": "Refused by the validation gate: the report"}})
    async def update(request: Request) -> Response:
        try:
            who = _who(app, request)
            text, using, named, form = await _update_request(request)
            writer = app.state.writer
            check_update(text, allow_remote=writer.allow_remote)
            text = with_dataset(text, using, named)
            base = update_endpoint(request)

            def mutate(store):
                try:
                    return run_update(store, text, base=base)
                except SyntaxError as e:
                    raise HttpError(400, f"update syntax error: {e}") from None
                except (OSError, ValueError, RuntimeError) as e:
                    raise HttpError(400, f"the update failed: {e}") from None

            outcome = await _run(app, mutate, who=who, message=_message(request, form))
        except UpdateRefused as e:
            return _error(HttpError(403, e.message))
        except HttpError as e:
            return _error(e)
        return _done(outcome, request)

    @router.get("/update", include_in_schema=False)
    async def update_get() -> Response:
        return _error(HttpError(405, "POST an update to /update (GET cannot change anything)", {"allow": "POST"}))

    async def store_read(request: Request, head: bool) -> Response:
        try:
            graph = _target(request)
        except HttpError as e:
            return _error(e)
        reader = app.state.writer.reader()
        if not _graph_exists(reader, graph):
            return _error(HttpError(404, f"no graph {graph} in the store"))
        from .engine import negotiate

        try:
            fmt, content_type = negotiate(request.headers.get("accept"), "graph")
        except Exception as e:  # noqa: BLE001 - NotAcceptable
            return _error(HttpError(406, str(e)))
        triples = [ox.Triple(q.subject, q.predicate, q.object) for q in reader.quads_for_pattern(None, None, None, graph)]
        body = b"" if head else ox.serialize(triples, format=fmt)
        return Response(body, media_type=content_type)

    @router.get("/store", summary="Graph Store Protocol: read a graph")
    async def store_get(request: Request) -> Response:
        return await store_read(request, False)

    @router.head("/store", include_in_schema=False)
    async def store_head(request: Request) -> Response:
        return await store_read(request, True)

    async def store_write(request: Request, method: str) -> Response:
        body_file = None
        try:
            who = _who(app, request)
            graph = _target(request)
            quads = None
            if method != "DELETE":
                media, _params = _media(request)
                body = await _body(request)
                base = graph.value if isinstance(graph, ox.NamedNode) else update_endpoint(request)
                quads, body_file = _parse_body(body, media, base)
            existed = {}

            def mutate(store):
                existed["yes"] = _graph_exists(store, graph)
                if method == "DELETE" and not existed["yes"]:
                    raise HttpError(404, f"no graph {graph} in the store")
                named = {graph: store.contains_named_graph(graph)} if isinstance(graph, ox.NamedNode) else {}
                delta = replace_graph(store, graph, quads, keep=method == "POST")
                if method == "DELETE" and isinstance(graph, ox.NamedNode):
                    store.remove_graph(graph)
                elif isinstance(graph, ox.NamedNode) and not store.contains_named_graph(graph):
                    store.add_graph(graph)
                delta.graphs_changed(store, named)
                return delta

            outcome = await _run(app, mutate, who=who, message=_message(request), body_file=body_file)
        except HttpError as e:
            return _error(e)
        finally:
            if body_file is not None:
                body_file.unlink(missing_ok=True)
        if outcome.accepted and outcome.change is None and method != "DELETE":
            return Response(status_code=201 if not existed.get("yes") else 204)
        if outcome.accepted and method != "DELETE" and not existed.get("yes"):
            return _done(outcome, request, 201)
        return _done(outcome, request)

    for method in ("PUT", "POST", "DELETE"):
        async def handler(request: Request, _m=method) -> Response:
            return await store_write(request, _m)
        router.add_api_route("/store", handler, methods=[method], summary=f"Graph Store Protocol: {method} a graph "
                             "(validated; needs a Bearer token)", name=f"store_{method.lower()}")

    @router.get("/changes", summary="The change log (JSON, Atom or HTML)")
    async def changes(request: Request, format: str | None = None, limit: int = 100) -> Response:
        accept = request.headers.get("accept", "")
        fmt = format or ("atom" if "atom" in accept else "html" if "text/html" in accept else "json")
        records = await asyncio.to_thread(lambda: list(app.state.writer.changes.records()))
        records = list(reversed(records))[:max(1, min(limit, 10000))]
        return _changes_page(records, fmt, str(request.url.replace(query="")))

    @router.get("/changes/{seq}", summary="One change of the log: who, when, why and its quads (JSON or HTML)",
                responses={404: {"description": "No such change"}})
    async def change(request: Request, seq: int, format: str | None = None) -> Response:
        fmt = format or ("html" if "text/html" in request.headers.get("accept", "") else "json")
        found = await asyncio.to_thread(lambda: next((c for c in app.state.writer.changes.records(after=seq - 1)
                                                      if c.seq == seq), None))
        if found is None:
            return _error(HttpError(404, f"no change {seq} in the log"))
        if fmt != "html":
            return JSONResponse(found.to_dict())
        from .changelog import quad_text

        lines = "".join(f"<li class=\"{kind}\"><code>{'+' if kind == 'added' else '-'} {html.escape(quad_text(q))} ."
                        f"</code></li>" for kind, quads in (("removed", found.removed), ("added", found.added))
                        for q in quads)
        body = ("<!doctype html><html><head><meta charset=utf-8><link rel=stylesheet href=\"/static/web.css\"><title>Change " f"{seq}</title></head><body>"
                f"<h1>Change {seq}</h1><p>By <strong>{html.escape(found.who)}</strong> at {html.escape(found.when)}"
                f"{': ' + html.escape(found.message) if found.message else ''}</p>"
                f"<p>In {html.escape(', '.join(found.sources) or 'the default graph')}: {len(found.added)} quads "
                f"added, {len(found.removed)} removed.</p><ul>{lines}</ul>"
                "<p><a href=\"/changes?format=html\">All changes</a></p></body></html>")
        return Response(body, media_type="text/html; charset=utf-8")

    return router


def json_dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
