"""What one client may hold of the server's sockets and memory: the HTTP connection guard.

uvicorn bounds none of these on its own: it waits forever for a request's headers (slowloris), keeps
every byte of unfinished headers, never gives up on a client that stops reading its answer, and past
``limit_concurrency`` connections answers 503 to everyone, the well-behaved included. So the server
runs uvicorn with :func:`guarded_protocol`, a subclass of uvicorn's httptools protocol that:

* gives each request ``header_timeout`` seconds from its first byte (or from the end of the previous
  answer on a kept-alive connection, or from the connection's start) to its last header byte; a
  connection that is still sending headers then gets 408 and is closed, an idle one is just closed;
* gives the body ``body_timeout`` seconds after the headers; then closes;
* answers 414 past ``max_url_bytes`` of request target, 431 past ``max_header_bytes`` of headers or
  ``max_headers`` header fields, as soon as the limit is passed (the rest is never read);
* closes a connection whose client has not read anything of its answer for ``send_timeout``
  seconds (the transport's buffer stays full: a slow or stalled reader);
* caps open connections at ``max_connections``: past it, the connections that have been waiting
  longest for a request (idle keep-alive, slowloris) are closed to make room; only when every
  connection has a request in progress is the newcomer answered 503 and closed.

The figures are :class:`ConnectionLimits`; ``explore-kg serve`` sets them from its options.
:class:`ClientShare` bounds what one client may have in progress at /sparql (429 past it).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
from dataclasses import dataclass

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .safety import QueryError, QueryTimeout

log = logging.getLogger("explore_kg.limits")


@dataclass(frozen=True)
class ConnectionLimits:
    """Per-connection bounds enforced before any request reaches the app."""

    max_connections: int = 2048
    header_timeout: float = 10.0  # first byte (or idle start) to end of headers
    body_timeout: float = 30.0  # end of headers to end of body
    send_timeout: float = 30.0  # a response the client does not read for this long is dropped
    max_url_bytes: int = 3 * 64 * 1024 + 4096  # any query POST accepts fits in a GET URL, percent-encoded
    max_header_bytes: int = 32 * 1024  # request line excluded
    max_headers: int = 100


class _Reject(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


_REASONS = {408: b"Request Timeout", 414: b"URI Too Long", 431: b"Request Header Fields Too Large",
            503: b"Service Unavailable"}


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the bounds of :class:`ConnectionLimits` (see the module)."""

    limits = ConnectionLimits()

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer = self._body_timer = self._send_timer = None
        self._header_bytes = 0
        self._header_count = 0
        self._in_headers = False  # between a request's first byte and its last header byte
        self._waiting_since = self.loop.time()  # waiting for a request (None: one is in progress)
        self._arm_header_timer()
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    # -- timers --

    def _arm_header_timer(self) -> None:
        self._cancel("_header_timer")
        self._header_timer = self.loop.call_later(self.limits.header_timeout, self._on_header_timeout)

    def _cancel(self, name: str) -> None:
        timer = getattr(self, name, None)
        if timer is not None:
            timer.cancel()
            setattr(self, name, None)

    def _on_header_timeout(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self._in_headers:
            self._reject(408, f"the request's headers did not arrive within {self.limits.header_timeout:g} s")
        else:
            self.transport.close()  # idle: nothing to answer

    def _on_body_timeout(self) -> None:
        self._body_timer = None
        if not self.transport.is_closing():
            log.info("closing a connection whose request body did not arrive within %g s", self.limits.body_timeout)
            self.transport.close()

    def _on_send_timeout(self) -> None:
        self._send_timer = None
        if not self.transport.is_closing():
            log.info("dropping a connection that read nothing of its answer for %g s", self.limits.send_timeout)
            self.transport.abort()

    def connection_lost(self, exc) -> None:
        for name in ("_header_timer", "_body_timer", "_send_timer"):
            self._cancel(name)
        super().connection_lost(exc)

    # -- room for newcomers --

    def _make_room(self) -> None:
        """Close the connections that have waited longest for a request; refuse this one if none waits."""
        waiting = [c for c in self.connections
                   if isinstance(c, GuardedHttpToolsProtocol) and c is not self and c._waiting_since is not None
                   and not c.transport.is_closing()]
        excess = len(self.connections) - self.limits.max_connections
        if not waiting:
            self._reject(503, "the server has too many connections with requests in progress; try again")
            return
        waiting.sort(key=lambda c: c._waiting_since)
        # a tenth of the cap at once, so that a flood does not pay this sort per connection
        for conn in waiting[:max(excess, self.limits.max_connections // 10)]:
            if conn._in_headers:
                conn._reject(408, "closed to make room: the request's headers took too long")
            else:
                conn.transport.close()

    # -- parsing --

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._waiting_since is not None:
            self._in_headers = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError as e:
            cause = e.__context__ if isinstance(e.__context__, _Reject) else None
            if cause is not None:
                self._reject(cause.status, cause.message)
            else:
                log.info("invalid HTTP request received from %s", self.client and self.client[0])
                self.send_400_response("Invalid HTTP request received.")
            return
        if self._in_headers and not self.transport.is_closing():
            self._header_bytes += len(data)
            if len(self.url or b"") > self.limits.max_url_bytes:
                self._reject(414, f"the request target is longer than {self.limits.max_url_bytes} bytes")
            elif self._header_bytes - len(self.url or b"") > self.limits.max_header_bytes:
                self._reject(431, f"the request headers are larger than {self.limits.max_header_bytes} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_count = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.limits.max_headers:
            raise _Reject(431, f"the request has more than {self.limits.max_headers} header fields")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        limits = self.limits
        if len(self.url) > limits.max_url_bytes:
            raise _Reject(414, f"the request target is longer than {limits.max_url_bytes} bytes")
        if sum(len(n) + len(v) + 4 for n, v in self.headers) > limits.max_header_bytes:
            raise _Reject(431, f"the request headers are larger than {limits.max_header_bytes} bytes")
        self._cancel("_header_timer")
        self._in_headers = False
        self._waiting_since = None
        self._header_bytes = 0
        super().on_headers_complete()
        if self.parser is not None:
            self._body_timer = self.loop.call_later(limits.body_timeout, self._on_body_timeout)

    def on_message_complete(self) -> None:
        self._cancel("_body_timer")
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._waiting_since = self.loop.time()
            self._arm_header_timer()

    # -- writing --

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_timer is None:
            self._send_timer = self.loop.call_later(self.limits.send_timeout, self._on_send_timeout)

    def resume_writing(self) -> None:
        self._cancel("_send_timer")
        super().resume_writing()

    # -- answering before the app --

    def _reject(self, status: int, message: str) -> None:
        """Answer ``status`` with ``message`` (CORS and nosniff as every answer) and close."""
        if self.transport.is_closing():
            return
        body = (message + "\n").encode("utf-8")
        self.transport.write(b"".join([
            b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"Error")),
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(body),
            b"x-content-type-options: nosniff\r\n",
            b"access-control-allow-origin: *\r\n",
            b"retry-after: 1\r\n" if status == 503 else b"",
            b"connection: close\r\n\r\n",
            body,
        ]))
        self.transport.close()
        self._in_headers = False


def guarded_protocol(limits: ConnectionLimits) -> type[GuardedHttpToolsProtocol]:
    """A protocol class for ``uvicorn.run(http=...)`` enforcing ``limits``."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})


# --- each client's share of the query workers -------------------------------------------------

class ClientBusy(QueryError):
    """The client already has as many queries in progress and waiting as it may (429)."""

    status = 429


class ClientShare:
    """How many /sparql requests one client (remote address) may have in progress, and queued.

    A request holds its slot from admission to the last byte of its answer, so a slow reader holds
    its slots, not the server's memory or workers. Past ``per_client`` the request waits in its
    client's queue for at most ``queue_timeout`` seconds (then 503 with Retry-After); past ``queue``
    waiting requests it is refused at once with 429 and Retry-After. Which worker a query then gets,
    and the reserve kept for light clients, is the pool's (:mod:`explore_kg.pool`).
    """

    def __init__(self, per_client: int, queue: int, queue_timeout: float):
        self.per_client = max(1, per_client)
        self.queue = max(0, queue)
        self.queue_timeout = queue_timeout
        self._active: dict[str | None, int] = {}
        self._waiting: dict[str | None, collections.deque[asyncio.Future]] = {}
        self.refused = 0

    def retry_after(self) -> int:
        return max(1, math.ceil(self.queue_timeout / 2))

    async def enter(self, client: str | None) -> None:
        active = self._active.get(client, 0)
        if active < self.per_client:
            self._active[client] = active + 1
            return
        queue = self._waiting.setdefault(client, collections.deque())
        if len(queue) >= self.queue:
            self.refused += 1
            err = ClientBusy(f"this client already has {active} requests in progress and {len(queue)} waiting, "
                             "the most it may; try again shortly")
            err.retry_after = self.retry_after()
            raise err
        waiter = asyncio.get_running_loop().create_future()
        queue.append(waiter)
        try:
            await asyncio.wait_for(waiter, self.queue_timeout)  # the slot is handed over by leave()
        except (TimeoutError, asyncio.CancelledError) as e:
            if waiter.done() and not waiter.cancelled():
                self.leave(client)  # handed over just as we gave up: pass it on
            else:
                with contextlib.suppress(ValueError):
                    queue.remove(waiter)
            if isinstance(e, asyncio.CancelledError):
                raise
            err = QueryTimeout(f"this client's requests waited {self.queue_timeout:g} s for their turn "
                               "(it has as many in progress as it may); try again shortly")
            err.retry_after = self.retry_after()
            raise err from None

    def leave(self, client: str | None) -> None:
        queue = self._waiting.get(client)
        while queue:
            waiter = queue.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot goes to the next waiting request as it is
                return
        self._waiting.pop(client, None)
        active = self._active.get(client, 1) - 1
        if active > 0:
            self._active[client] = active
        else:
            self._active.pop(client, None)
