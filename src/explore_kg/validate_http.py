"""``POST /validate``: check a Turtle or TriG body against the graph this server serves, write nothing.

Always on, read-only servers too: the same gate for people who will open a pull request instead of
writing to a live store. The body is read as the loader reads a file (its source document's graph, the
claims of its dates, ekg:statedIn) and checked against what the server serves, with the shapes that
apply to it:

* a read-only server of the shipped graph: together with the shipped files, as ``explore-kg validate
  FILE`` does;
* a writable server: by its write gate (:meth:`explore_kg.gate.Gate.check_quads`) against the committed
  store, as a write of the body would be (its shapes: the shipped ones for the shipped graph, ``--shapes``);
* a read-only server of other files: by a gate over the store it serves, with ``--shapes FILE`` (no
  shapes: only the syntax is checked, as any store would take the data).

The answer is the same report model, JSON by default, text for ``Accept: text/plain``, with the body's
own line and column numbers (its file is called ``request body``). The status is 200 whether or not the
body conforms: the report's ``conforms`` and ``status`` say.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import replace
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from .validation.report import display_path

BODY_NAME = "request body"
MAX_BODY_BYTES = 4 * 1024 * 1024
_SUFFIXES = {"text/turtle": ".ttl", "application/x-turtle": ".ttl", "application/trig": ".trig",
             "application/n-triples": ".nt", "application/n-quads": ".nq"}
_LOCK = asyncio.Lock()  # one validation at a time: each takes a second or two of a core


def validate_body(body: bytes, suffix: str):
    """The validation report of ``body`` (its file named ``request body``)."""
    from .validation import validate

    fd, name = tempfile.mkstemp(prefix="explore-kg-validate-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        report = validate([name])
    finally:
        os.unlink(name)
    return _renamed(report, name)


def _renamed(report, name: str):
    shown = {name, display_path(name), str(Path(name).resolve())}
    report.files = [BODY_NAME if f in shown else f for f in report.files]
    report.results = [replace(r, file=BODY_NAME) if r.file in shown else r for r in report.results]
    return report


def validate_served(app: FastAPI, body: bytes, suffix: str):
    """The report of ``body`` against what ``app`` serves (see the module docstring)."""
    writer = getattr(app.state, "writer", None)
    config = app.state.config
    store = getattr(app.state, "store", None)
    if writer is None and (not config.paths or not hasattr(store, "quads_for_pattern")):
        return validate_body(body, suffix)  # the shipped graph (what explore-kg validate FILE checks), or an
        # external store's (validate --store URL checks against one)
    from .loading import LoadError, assign_graphs, parse_file

    fd, name = tempfile.mkstemp(prefix="explore-kg-validate-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        try:
            quads = assign_graphs(Path(name), parse_file(Path(name)))
        except LoadError:
            return validate_body(body, suffix)  # the syntax report, as explore-kg validate gives it
        if writer is not None:
            with writer.lock:  # the committed state: no write is half-applied while the gate reads
                report = writer.gate.check_quads(quads, body_file=Path(name))
        else:
            gate = getattr(app.state, "validate_gate", None)
            if gate is None:
                from .gate import Gate

                gate = app.state.validate_gate = Gate(store, curated=False,
                                                      shapes=Path(config.shapes) if config.shapes else None)
            report = gate.check_quads(quads, body_file=Path(name))
        report.files = [BODY_NAME]
        return _renamed(report, name)
    finally:
        os.unlink(name)


def build_router(app: FastAPI) -> APIRouter:
    router = APIRouter(tags=["validation"])

    @router.post("/validate", summary="Validate a Turtle/TriG body against the graph (writes nothing)",
                 responses={200: {"description": "The validation report (JSON, or text for Accept: text/plain)"},
                            413: {"description": "The body is too large"},
                            415: {"description": "Not Turtle, TriG, N-Triples or N-Quads"}})
    async def validate_route(request: Request) -> Response:
        from .update_http import report_text

        media = request.headers.get("content-type", "text/turtle").partition(";")[0].strip().lower()
        suffix = _SUFFIXES.get(media)
        if suffix is None:
            return Response(f"send Turtle (text/turtle) or TriG (application/trig), not {media}\n", status_code=415,
                            media_type="text/plain; charset=utf-8")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return Response(f"the body is {len(body)} bytes; at most {MAX_BODY_BYTES} are validated\n",
                            status_code=413, media_type="text/plain; charset=utf-8")
        async with _LOCK:
            report = await asyncio.to_thread(validate_served, app, body, suffix)
        accept = request.headers.get("accept", "")
        if "text/plain" in accept and "json" not in accept:
            return Response(report_text(report), media_type="text/plain; charset=utf-8")
        return Response(report.to_json(), media_type="application/json")

    return router
