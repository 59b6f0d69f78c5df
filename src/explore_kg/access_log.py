"""One access-log line per request (method, path, status, bytes, milliseconds, client), without the query text
for requests that carry credentials."""

from __future__ import annotations

import json
import logging
import time

access_log = logging.getLogger("explore_kg.access")


def log_access(scope, status: int, nbytes: int, started: float, **extra) -> None:
    """One JSON line per request: method, path, status, bytes, total ms (and query ms, cache, error)."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    record = {
        "ts": round(time.time(), 3),
        "client": client[0] if client else None,
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "bytes": nbytes,
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }
    record.update((k, v) for k, v in extra.items() if v is not None)
    access_log.info(json.dumps(record, ensure_ascii=False))


class AccessLogMiddleware:
    """The access log of every route other than /sparql (which logs its own, with the query time)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        info = {"status": 500, "bytes": 0}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                info["status"] = message["status"]
            elif message["type"] == "http.response.body":
                info["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            log_access(scope, info["status"], info["bytes"], started)


# --- the /sparql endpoint -----------------------------------------------------------------------
