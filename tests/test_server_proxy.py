"""Who the client is: the connection's address, unless a proxy named by --forwarded-allow-ips says otherwise.

uvicorn believes X-Forwarded-For from 127.0.0.1 by default, so any local program could choose the address
its requests are counted (per-client limits) and logged as; the server turns that off unless asked.
The tests connect from 127.0.0.1 (the "proxy") and from 127.0.1.9 (another local address: a client).
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
from conftest import start_server

FORWARDED = {"X-Forwarded-For": "203.0.113.7"}


def logged_clients(server, path: str, count: int = 1) -> list[str]:
    """The access log's client of each request to ``path`` (waiting until there are ``count``)."""
    deadline = time.monotonic() + 10
    while True:
        clients = []
        for line in server.log.splitlines():
            start = line.find("{")
            if start < 0:
                continue
            try:
                record = json.loads(line[start:])
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("path") == path:
                clients.append(record.get("client"))
        if len(clients) >= count or time.monotonic() > deadline:
            return clients
        time.sleep(0.1)


def get_from(local_address: str, url: str) -> httpx.Response:
    with httpx.Client(transport=httpx.HTTPTransport(local_address=local_address), timeout=30) as c:
        return c.get(url, headers=FORWARDED)


def test_forwarded_headers_are_ignored_by_default():
    with start_server("--workers", "1") as server:
        assert get_from("127.0.0.1", server.url + "/health").status_code == 200
        assert logged_clients(server, "/health")[-1] == "127.0.0.1"
        assert "203.0.113.7" not in server.log


def test_a_named_proxy_forwards_the_client_and_no_one_else_does():
    with start_server("--workers", "1", "--forwarded-allow-ips", "127.0.0.1") as server:
        assert get_from("127.0.0.1", server.url + "/health").status_code == 200
        assert get_from("127.0.1.9", server.url + "/health").status_code == 200
        assert logged_clients(server, "/health", 2)[-2:] == ["203.0.113.7", "127.0.1.9"]


@pytest.mark.parametrize("value", ["localhost", "10.0.0.0/33", "127.0.0.1,,nope"])
def test_a_proxy_that_is_not_an_address_is_a_usage_error(value):
    import socket

    from typer.testing import CliRunner

    from explore_kg.cli import app

    with socket.socket() as busy:  # (a served port, as while `explore-kg serve` runs: the value is still the error)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        result = CliRunner().invoke(app, ["serve", "--port", port, "--forwarded-allow-ips", value])
    assert result.exit_code == 2
    assert "--forwarded-allow-ips" in result.output and "Traceback" not in result.output
