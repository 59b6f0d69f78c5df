"""A soak of our server: many clients, mixed requests, a fixed time; errors, latency and memory.

32 clients (each from its own loopback address, so each is its own client for the fair share), each
on a keep-alive connection, send a mix for 60 s: cheap and cached SPARQL queries, uncached lookups,
malformed queries (400 expected), slow queries that hit the time limit (503 expected), saved queries,
entity pages, /health, /dumps, /ontology. An *error* is an answer other than the one expected for its
kind, or a transport error. Memory is the resident memory of the server process and of its query
workers, before the load, at its end and after a pause.

    python bench/soak.py                       # the shipped graph, 32 clients, 60 s
    python bench/soak.py --clients 8 --seconds 10 --out ''   # a quick look, nothing written

Writes ``bench/results/soak.json`` and ``bench/results/soak.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from load import HTTPConnection
from servers import LOG_DIR, Server, free_port, tool

BENCH_DIR = Path(__file__).resolve().parent
EKG = "https://w3id.org/explore-kg/"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(5)) + " }"

# kind -> (weight, expected status)
MIX = {
    "cached": (30, 200),
    "uncached": (30, 200),
    "malformed": (8, 400),
    "slow": (1, 503),
    "saved-query": (8, 200),
    "entity-page": (6, 200),
    "health": (6, 200),
    "dumps": (3, 200),
    "ontology": (3, 200),
    "service-description": (5, 200),
}


def request_for(kind: str, rnd: random.Random, entities: list[str]) -> tuple[str, str]:
    """(target, Accept) of one request of ``kind``."""
    json_ = "application/sparql-results+json"
    if kind == "cached":
        q = rnd.choice(["SELECT ?m WHERE { ?m a <https://w3id.org/explore-kg/ontology#Mission> } LIMIT 20",
                        "ASK { ?s ?p ?o }", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"])
        return "/sparql?" + urlencode({"query": q}), json_
    if kind == "uncached":
        q = f"SELECT ?p ?o WHERE {{ <{rnd.choice(entities)}> ?p ?o }} LIMIT {rnd.randint(1, 10_000)}"
        return "/sparql?" + urlencode({"query": q}), json_
    if kind == "malformed":
        return "/sparql?" + urlencode({"query": f"SELEKT {rnd.random()} WHERE {{"}), json_
    if kind == "slow":
        return "/sparql?" + urlencode({"query": f"{SLOW} # {rnd.random()}"}), json_
    if kind == "saved-query":
        return "/queries/partners-of-mission?" + urlencode({"mission": rnd.choice(["MMX", "LUPEX"])}), \
            "application/json"
    if kind == "entity-page":
        return "/" + rnd.choice(entities).removeprefix(EKG), "text/html"
    if kind == "health":
        return "/health", "application/json"
    if kind == "dumps":
        return "/dumps", "application/json"
    if kind == "ontology":
        return "/ontology", "text/html"
    return "/sparql", "text/turtle"


class SourcedConnection(HTTPConnection):
    """A keep-alive connection from a given loopback address."""

    def __init__(self, host: str, port: int, source: str):
        super().__init__(host, port)
        self.source = source

    async def get(self, target: str, accept: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port,
                                                                     local_addr=(self.source, 0))
        return await super().get(target, accept)


async def client(n: int, port: int, until: float, entities: list[str], records: list) -> None:
    rnd = random.Random(n)
    kinds = list(MIX)
    weights = [MIX[k][0] for k in kinds]
    conn = SourcedConnection("127.0.0.1", port, f"127.0.{10 + n // 200}.{1 + n % 200}")
    while time.monotonic() < until:
        kind = rnd.choices(kinds, weights)[0]
        target, accept = request_for(kind, rnd, entities)
        started = time.perf_counter()
        try:
            status, _ = await asyncio.wait_for(conn.get(target, accept), 60)
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as e:
            status = f"{type(e).__name__}"
            await conn.close()
        records.append((kind, status, time.perf_counter() - started))
    await conn.close()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def summarize(records: list, seconds: float) -> dict:
    kinds = {}
    for kind in MIX:
        mine = [r for r in records if r[0] == kind]
        expected = MIX[kind][1]
        times = [r[2] * 1000 for r in mine]
        kinds[kind] = {
            "requests": len(mine),
            "expected_status": expected,
            "errors": sum(1 for r in mine if r[1] != expected),
            "statuses": {s: sum(1 for r in mine if str(r[1]) == s) for s in sorted({str(r[1]) for r in mine})},
            "p50_ms": round(percentile(times, 50), 1),
            "p99_ms": round(percentile(times, 99), 1),
        }
    fast = [r[2] * 1000 for r in records if r[0] != "slow"]
    return {
        "requests": len(records),
        "requests_per_s": round(len(records) / seconds, 1),
        "errors": sum(k["errors"] for k in kinds.values()),
        "p50_ms": round(statistics.median(fast), 1) if fast else 0.0,
        "p99_ms": round(percentile(fast, 99), 1),
        "kinds": kinds,
    }


def entities_of(port: int) -> list[str]:
    import httpx

    q = f"SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), '{EKG}id/')) }} LIMIT 400"
    r = httpx.get(f"http://127.0.0.1:{port}/sparql", params={"query": q}, timeout=60)
    return [b["s"]["value"] for b in r.json()["results"]["bindings"] if quote(b["s"]["value"], safe=":/#-._~") ==
            b["s"]["value"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--out", default=str(BENCH_DIR / "results" / "soak"), help="path stem of .json/.md ('' none)")
    parser.add_argument("--serve-arg", action="append", default=[], help="extra option for explore-kg serve")
    args = parser.parse_args(argv)

    port = free_port()
    server = Server("explore-kg", [tool("explore-kg"), "serve", "--port", str(port), *args.serve_arg],
                    f"http://127.0.0.1:{port}/sparql", LOG_DIR / f"soak-{port}.log").start()
    try:
        entities = entities_of(port)
        time.sleep(2)
        before = server.rss_mb()
        before_parent = _rss(server.proc.pid)
        records: list = []

        async def run() -> None:
            until = time.monotonic() + args.seconds
            await asyncio.gather(*(client(n, port, until, entities, records) for n in range(args.clients)))

        load_before = round(os.getloadavg()[0], 2)
        started = time.monotonic()
        asyncio.run(run())
        elapsed = time.monotonic() - started
        at_end, at_end_parent = server.rss_mb(), _rss(server.proc.pid)
        time.sleep(5)
        after, after_parent = server.rss_mb(), _rss(server.proc.pid)
        alive = server.proc.poll() is None
    finally:
        server.stop()
    report = {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "server_alive": alive,
        **summarize(records, elapsed),
        "memory_mb": {"server_and_workers": {"before": before, "end": at_end, "after_5s": after},
                      "server_process": {"before": before_parent, "end": at_end_parent, "after_5s": after_parent}},
        "serve_args": args.serve_arg,
        "load_average_1min": {"before": load_before, "end": round(os.getloadavg()[0], 2)},
        "cpus": os.cpu_count(),
    }
    text = markdown(report)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out + ".json").write_text(json.dumps(report, indent=2) + "\n")
        Path(args.out + ".md").write_text(text)
    return 0 if report["errors"] == 0 and alive else 1


def _rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def markdown(r: dict) -> str:
    m = r["memory_mb"]
    lines = [
        f"Soak: {r['clients']} clients, {r['seconds']} s, {r['requests']} requests ({r['requests_per_s']}/s), "
        f"**{r['errors']} errors**; all but the slow kind: p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms.",
        f"Memory (MB), server + workers: {m['server_and_workers']['before']} before, {m['server_and_workers']['end']} at "
        f"the end, {m['server_and_workers']['after_5s']} 5 s later; server process alone: "
        f"{m['server_process']['before']} / {m['server_process']['end']} / {m['server_process']['after_5s']}. "
        f"Load average {r['load_average_1min']['before']} before, {r['load_average_1min']['end']} at the end "
        f"({r['cpus']} CPUs, shared with other work).",
        "",
        "| kind | requests | expected | errors | statuses | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, k in r["kinds"].items():
        statuses = ", ".join(f"{s}: {n}" for s, n in k["statuses"].items())
        lines.append(f"| {kind} | {k['requests']} | {k['expected_status']} | {k['errors']} | {statuses} | "
                     f"{k['p50_ms']} | {k['p99_ms']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
