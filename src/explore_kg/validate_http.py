"""``POST /validate``: check a Turtle or TriG body as ``explore-kg validate`` checks a file, write nothing.

Always on, read-only servers too: the same gate for people who will open a pull request instead of
writing to a live store. The body is validated together with the shipped graph (what ``explore-kg
validate FILE`` does); the answer is the same report model, JSON by default, text for ``Accept:
text/plain``, with the body's own line and column numbers (its file is called ``request body``).
The status is 200 whether or not the body conforms: the report's ``conforms`` and ``status`` say.
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
    shown = {name, display_path(name), str(Path(name).resolve())}
    report.files = [BODY_NAME if f in shown else f for f in report.files]
    report.results = [replace(r, file=BODY_NAME) if r.file in shown else r for r in report.results]
    return report


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
            report = await asyncio.to_thread(validate_body, body, suffix)
        accept = request.headers.get("accept", "")
        if "text/plain" in accept and "json" not in accept:
            return Response(report_text(report), media_type="text/plain; charset=utf-8")
        return Response(report.to_json(), media_type="application/json")

    return router
