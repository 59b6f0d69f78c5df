"""Throughput of 1 and 2 ``serve --store URL`` replicas over one Oxigraph server (issue 11).

Starts ``oxigraph serve`` on a temporary directory, pushes the shipped graph, then for each replica
count starts that many ``explore-kg serve --store URL --cache-mb N`` processes (default 0, no result
cache: every request reaches the store) and sends the saved queries' default requests round-robin over the replicas
(the client is the load balancer) from ``--concurrency`` connections for ``--seconds``.

    python bench/replicas.py --seconds 10 --concurrency 8

Prints one line per replica count: requests/s, median and p95 latency, errors.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from external_stores import run_cli, serving, start_oxigraph  # noqa: E402

from explore_kg.saved_queries import load_saved_queries  # noqa: E402


async def _drive(urls: list[str], paths: list[str], seconds: float, concurrency: int) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    targets = itertools.cycle([(u, p) for p in paths for u in urls])
    deadline = time.perf_counter() + seconds

    async def one(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            base, path = next(targets)
            started = time.perf_counter()
            try:
                r = await client.get(base + path, headers={"Accept": "application/sparql-results+json"})
                status = str(r.status_code)
            except httpx.HTTPError as e:
                status = type(e).__name__
            latencies.append(time.perf_counter() - started)
            if status != "200":
                errors[status] = errors.get(status, 0) + 1

    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=concurrency * 2)) as client:
        started = time.perf_counter()
        await asyncio.gather(*(one(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {"requests": len(latencies), "rps": round(len(latencies) / elapsed, 1),
            "median_ms": round(statistics.median(latencies) * 1000, 1),
            "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1), "errors": errors}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--cache-mb", type=int, default=0, help="each replica's result cache (0: every request "
                        "reaches the store; more: the replicas answer repeated requests themselves)")
    args = parser.parse_args()
    paths = [f"/queries/{q.name}" for q in load_saved_queries()]
    results = {}
    with tempfile.TemporaryDirectory(prefix="explore-kg-replicas-") as tmp:
        store = start_oxigraph(Path(tmp))
        try:
            done = run_cli("push", "--store", store.url, "--replace")
            if done.returncode:
                print(done.stderr, file=sys.stderr)
                return 1
            for count in args.replicas:
                with contextlib.ExitStack() as stack:
                    servers = [stack.enter_context(serving(store, "--cache-mb", str(args.cache_mb), "--workers", "8"))
                               for _ in range(count)]
                    urls = [s.url for s in servers]
                    asyncio.run(_drive(urls, paths[:3], 1.0, 2))  # warm-up
                    results[count] = asyncio.run(_drive(urls, paths, args.seconds, args.concurrency))
                print(f"{count} replica(s): {json.dumps(results[count])}", flush=True)
        finally:
            store.stop()
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
