"""A bounded HTTP load driver for SPARQL endpoints: req/s, p50/p99 latency and errors per query and concurrency.

Each cell (one endpoint, one list of query texts, one concurrency) runs ``concurrency`` clients, each
on its own keep-alive connection, sending SPARQL 1.1 Protocol GET requests until the list is used up
or ``max_seconds`` have passed (bounded in count AND time); requests still in flight then finish, each
within ``request_timeout``. Any non-200 answer or transport error counts as an error.

The default client is a minimal HTTP/1.1 client on asyncio streams: on 2 shared cores, the client's
own CPU time is part of every figure, and httpx costs several times more per request than the fastest
endpoint spends answering. ``--client httpx`` uses httpx instead (the figures then include its cost).

    python bench/load.py --url http://127.0.0.1:7878/query --data bench/data/space-100k-s42.nq \\
        --queries star,aggregate --concurrency 1,8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

RESULTS_JSON = "application/sparql-results+json"


class HTTPConnection:
    """One keep-alive HTTP/1.1 connection: GET, then read a Content-Length or chunked body."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, target: str, accept: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        request = (f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept: {accept}\r\n"
                   "User-Agent: explore-kg-bench\r\n\r\n")
        self.writer.write(request.encode("latin-1"))
        reader = self.reader
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                        pass
                    break
                parts.append((await reader.readexactly(size + 2))[:-2])
            body = b"".join(parts)
        else:
            body = await reader.read()
            await self.close()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None


class RawClient:
    def __init__(self, url: str):
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"
        self.conn = HTTPConnection(self.host, self.port)

    async def query(self, sparql: str, accept: str = RESULTS_JSON) -> tuple[int, bytes]:
        try:
            return await self.conn.get(f"{self.path}?{urlencode({'query': sparql})}", accept)
        except BaseException:
            await self.conn.close()  # never reuse a connection left mid-response
            raise

    async def close(self) -> None:
        await self.conn.close()


class HttpxClient:
    def __init__(self, url: str):
        import httpx

        self.url = url
        self.client = httpx.AsyncClient(timeout=None, limits=httpx.Limits(max_connections=1))

    async def query(self, sparql: str, accept: str = RESULTS_JSON) -> tuple[int, bytes]:
        r = await self.client.get(self.url, params={"query": sparql}, headers={"Accept": accept})
        return r.status_code, r.content

    async def close(self) -> None:
        await self.client.aclose()


CLIENTS = {"raw": RawClient, "httpx": HttpxClient}


@dataclass
class Cell:
    """What one endpoint did with one list of queries at one concurrency."""

    concurrency: int
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    mean_ms: float = 0.0
    max_ms: float = 0.0
    distinct_queries: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    first_error: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (the value below which q of the samples fall)."""
    if not sorted_values:
        return math.nan
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]


async def measure(url: str, queries: list[str], concurrency: int, *, max_seconds: float = 10.0,
                  request_timeout: float = 30.0, client: str = "raw", accept: str = RESULTS_JSON) -> Cell:
    """Send the queries in order from ``concurrency`` clients; stop issuing at the list's end or the deadline."""
    cell = Cell(concurrency=concurrency)
    latencies: list[float] = []
    next_index = 0
    start = time.perf_counter()
    deadline = start + max_seconds
    last_done = start
    sent: set[str] = set()

    async def worker() -> None:
        nonlocal next_index, last_done
        c = CLIENTS[client](url)
        try:
            while next_index < len(queries) and time.perf_counter() < deadline:
                q = queries[next_index]
                next_index += 1
                sent.add(q)
                t0 = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(c.query(q, accept), request_timeout)
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as e:
                    status, body = 0, repr(e).encode()
                t1 = time.perf_counter()
                last_done = max(last_done, t1)
                latencies.append(t1 - t0)
                cell.statuses[str(status)] = cell.statuses.get(str(status), 0) + 1
                if status != 200:
                    cell.errors += 1
                    cell.first_error = cell.first_error or f"{status}: {body[:300].decode('utf-8', 'replace')}"
        finally:
            await c.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    latencies.sort()
    cell.requests = len(latencies)
    cell.seconds = round(last_done - start, 4)
    cell.rps = round(cell.requests / cell.seconds, 1) if cell.seconds > 0 else 0.0
    cell.p50_ms = round(percentile(latencies, 0.50) * 1000, 2)
    cell.p99_ms = round(percentile(latencies, 0.99) * 1000, 2)
    cell.mean_ms = round(sum(latencies) / len(latencies) * 1000, 2) if latencies else math.nan
    cell.max_ms = round(latencies[-1] * 1000, 2) if latencies else math.nan
    cell.distinct_queries = len(sent)
    return cell


async def fetch(url: str, sparql: str, accept: str = RESULTS_JSON, client: str = "raw") -> tuple[int, bytes]:
    """One request on a fresh connection (readiness checks, warm-up, result comparison)."""
    c = CLIENTS[client](url)
    try:
        return await c.query(sparql, accept)
    finally:
        await c.close()


def rows(body: bytes) -> list[tuple]:
    """A SPARQL JSON result as a sorted multiset of rows, for comparing two endpoints' answers."""
    doc = json.loads(body)
    if "boolean" in doc:
        return [(("boolean", doc["boolean"]),)]
    out = []
    for b in doc["results"]["bindings"]:
        out.append(tuple(sorted((k, v.get("type"), v.get("value"), v.get("datatype", ""), v.get("xml:lang", ""))
                                for k, v in b.items())))
    return sorted(out)


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from templates import load_params, load_templates

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="SPARQL query endpoint, e.g. http://127.0.0.1:7878/query")
    ap.add_argument("--data", type=Path, required=True, help="the generated .nq file the endpoint serves")
    ap.add_argument("--queries", default="", help="comma-separated template names (default: all)")
    ap.add_argument("--concurrency", default="1,4,8,16")
    ap.add_argument("--mode", choices=["varying", "repeated"], default="varying")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--max-seconds", type=float, default=10.0)
    ap.add_argument("--client", choices=sorted(CLIENTS), default="raw")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    params = load_params(args.data)
    for t in load_templates([n for n in args.queries.split(",") if n] or None):
        for c in [int(x) for x in args.concurrency.split(",")]:
            qs = (t.variants if args.mode == "varying" else t.repeated)(params, args.requests, args.seed)
            cell = asyncio.run(measure(args.url, qs, c, max_seconds=args.max_seconds, client=args.client))
            print(f"{t.name:14s} c={c:<3d} {cell.rps:9.1f} req/s  p50 {cell.p50_ms:8.2f} ms  p99 {cell.p99_ms:8.2f} ms"
                  f"  n={cell.requests} errors={cell.errors} {cell.first_error[:120]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
