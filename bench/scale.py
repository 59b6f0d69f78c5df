"""How explore-kg serve scales with the data: load time, time to first answer, memory, query latency.

For one generated file of N quads (bench/generate.py), in one run, one server after the other:

* ``explore-kg serve FILE --store disk``: a cold start (an empty store directory: the file is loaded
  into the on-disk store) and a warm restart (the same directory: the store is opened as it is);
  ``--backends disk,memory`` adds the in-memory backend (every worker holds a copy), the design before
  issue 10;
* ``oxigraph serve --union-default-graph`` + one POST of the same file to /store (cold), then a
  restart on the same location (warm).

For each: load time (ours: the store's own record; Oxigraph: the POST), time to first answer (from
starting the process to the first 200 answer to ``ASK {?s ?p ?o}``), steady memory of all its
processes (the server and its workers: the sum of RSS, which counts shared pages of the store once per
process, and of PSS, which shares them out), and p50/p99 of every bench query (bench/queries, varying
texts, ``--concurrency`` clients). Nothing is asserted; the table goes to stdout and
bench/results/scale-<N>.{json,md}.

    python bench/scale.py                      # 100k quads, about 3 minutes on 2 cores
    python bench/scale.py --triples 1000000    # 1M: about 10 minutes, ~1 GiB of RAM at the peak
    python bench/scale.py --triples 10000000   # 10M: generating alone takes long; needs ~10 GiB of disk

Oxigraph's default graph is the union of the named graphs (``--union-default-graph``) since the file
is posted as it is; ours is their RDF merge (no duplicate solutions), so the answers of a few queries
can differ in multiplicity. Both get ``--timeout``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402
import servers  # noqa: E402
from load import fetch, measure  # noqa: E402
from templates import load_params, load_templates  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"


def memory_mb(server: servers.Server) -> tuple[float, float]:
    """(sum of RSS, sum of PSS) of the server and its child processes, in MB (/proc, Linux)."""
    if server.proc is None:
        return 0.0, 0.0
    rss = pss = 0
    for pid in [server.proc.pid, *servers._children(server.proc.pid)]:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            pass
    return round(rss / 1024, 1), round(pss / 1024, 1)


def first_answer(server: servers.Server, timeout: float) -> float:
    """Start the server; seconds until it answers a query (Server.start polls ``ASK``)."""
    server.start(ready_timeout=timeout)
    return server.started_s


def latencies(url: str, templates, params, args) -> dict[str, dict]:
    out = {}
    for t in templates:
        texts = t.variants(params, args.requests + 5, args.seed)
        for q in texts[:5]:  # warm-up, unmeasured
            asyncio.run(fetch(url, q))
        cell = asyncio.run(measure(url, texts[5:], args.concurrency, max_seconds=args.max_seconds,
                                   request_timeout=args.timeout + 5))
        out[t.name] = {"p50_ms": cell.p50_ms, "p99_ms": cell.p99_ms, "requests": cell.requests,
                       "errors": cell.errors, "first_error": cell.first_error}
    return out


def run_ours(data: Path, backend: str, templates, params, args, result: dict, saved=lambda: None) -> dict:
    """Fills ``result`` phase by phase, calling ``saved()`` after each (a long run stopped half way keeps
    what it measured)."""
    store_dir = BENCH_DIR / "data" / f"scale-store-{data.stem}"
    shutil.rmtree(store_dir, ignore_errors=True)
    extra = ["--store", backend, *(["--store-dir", str(store_dir)] if backend == "disk" else [])]
    result["server"] = f"explore-kg serve --store {backend}"
    for phase in ("cold", "warm") if backend == "disk" else ("cold",):
        server = servers.ours(data, servers.free_port(), args.timeout, extra)
        try:
            result[f"{phase}_first_answer_s"] = first_answer(server, args.ready_timeout)
            if phase == "cold":
                marker = store_dir / "explore-kg-store.json"
                result["load_s"] = (json.loads(marker.read_text())["load_seconds"] if marker.exists()
                                    else result["cold_first_answer_s"])
                result["queries"] = latencies(server.url, templates, params, args)
            time.sleep(1)
            result[f"{phase}_rss_mb"], result[f"{phase}_pss_mb"] = memory_mb(server)
            result["processes"] = 1 + len(servers._children(server.proc.pid))
        finally:
            server.stop()
        saved()
    if store_dir.exists():
        result["store_mb"] = round(sum(f.stat().st_size for f in store_dir.rglob("*") if f.is_file()) / 2**20, 1)
        shutil.rmtree(store_dir, ignore_errors=True)
    return result


def run_oxigraph(data: Path, templates, params, args, result: dict, saved=lambda: None) -> dict:
    """As :func:`run_ours`, for Oxigraph's server and one POST of the file."""
    import httpx

    location = BENCH_DIR / "data" / f"scale-oxigraph-{data.stem}"
    shutil.rmtree(location, ignore_errors=True)
    result["server"] = "oxigraph serve + POST"
    for phase in ("cold",) if args.oxigraph_cold_only else ("cold", "warm"):
        port = servers.free_port()
        argv = [servers.tool("oxigraph"), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}",
                "--union-default-graph", "--timeout-s", f"{max(1, round(args.timeout))}"]
        server = servers.Server("oxigraph", argv, f"http://127.0.0.1:{port}/query",
                                servers.LOG_DIR / f"oxigraph-scale-{port}.log")
        try:
            started = time.perf_counter()
            server.start(ready_timeout=args.ready_timeout)
            if phase == "cold":
                posted = time.perf_counter()
                with data.open("rb") as f:
                    r = httpx.post(f"http://127.0.0.1:{port}/store", content=f,
                                   headers={"Content-Type": "application/n-quads"}, timeout=3600)
                r.raise_for_status()
                result["load_s"] = round(time.perf_counter() - posted, 2)
                asyncio.run(fetch(server.url, "ASK { ?s ?p ?o }"))
            result[f"{phase}_first_answer_s"] = round(time.perf_counter() - started, 2)
            if phase == "cold":
                result["queries"] = latencies(server.url, templates, params, args)
            time.sleep(1)
            result[f"{phase}_rss_mb"], result[f"{phase}_pss_mb"] = memory_mb(server)
            result["processes"] = 1
        finally:
            server.stop()
        saved()
    result["store_mb"] = round(sum(f.stat().st_size for f in location.rglob("*") if f.is_file()) / 2**20, 1)
    shutil.rmtree(location, ignore_errors=True)
    return result


def markdown(report: dict) -> str:
    rows = report["results"]
    names = list(next((r["queries"] for r in rows if "queries" in r), {}))
    lines = [f"{report['quads']:,} quads ({report['data']}), load average before {report['loadavg_before']}, "
             f"{report['machine']}; p50 / p99 at {report['concurrency']} client(s), {report['requests']} "
             "varying queries each", "",
             "| server | load s | first answer s (cold / warm) | RSS MB all processes (cold / warm) | "
             "PSS MB (cold / warm) | store MB |",
             "|---|--:|--:|--:|--:|--:|"]
    for r in rows:
        warm = r.get("warm_first_answer_s", "-")
        lines.append(f"| {r.get('server', '-')} | {r.get('load_s', '-')} | {r.get('cold_first_answer_s', '-')} / {warm} | "
                     f"{r.get('cold_rss_mb', '-')} / {r.get('warm_rss_mb', '-')} | {r.get('cold_pss_mb', '-')} / "
                     f"{r.get('warm_pss_mb', '-')} | {r.get('store_mb', '-')} |")
    lines += ["", "| query | " + " | ".join(f"{r.get('server', '-')} p50 / p99 ms" for r in rows) + " |",
              "|---|" + "--:|" * len(rows)]
    for name in names:
        cells = []
        for r in rows:
            q = r.get("queries", {}).get(name)
            if q is None:
                cells.append("-")
                continue
            cells.append(f"{q['p50_ms']} / {q['p99_ms']}" + (f" ({q['errors']} errors)" if q["errors"] else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--triples", type=int, default=100_000, help="size of the generated data (default 100000)")
    ap.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    ap.add_argument("--data", type=Path, help="use this generated .nq file instead")
    ap.add_argument("--backends", default="disk", help="explore-kg store backends to measure: disk,memory")
    ap.add_argument("--no-oxigraph", action="store_true")
    ap.add_argument("--oxigraph-cold-only", action="store_true",
                    help="skip Oxigraph's warm restart (at 10M quads its restart was killed by the OOM killer at 19.8 GB)")
    ap.add_argument("--queries", default="", help="comma-separated bench query names (default: all)")
    ap.add_argument("--requests", type=int, default=200, help="measured queries per bench query")
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=20.0, help="seconds per bench query at most")
    ap.add_argument("--timeout", type=float, default=10.0, help="query timeout given to both servers")
    ap.add_argument("--ready-timeout", type=float, default=3600.0)
    ap.add_argument("--out", type=Path, help="results path without extension (default bench/results/scale-<N>)")
    args = ap.parse_args(argv)

    data = generate.ensure(args.triples, args.seed, args.data)
    params = load_params(data)
    templates = load_templates([q for q in args.queries.split(",") if q] or None)
    report = {"data": data.name, "quads": sum(1 for _ in data.open("rb")), "loadavg_before": list(os.getloadavg()),
              "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
              "concurrency": args.concurrency, "requests": args.requests, "results": []}
    out = args.out or RESULTS_DIR / f"scale-{args.triples // 1000}k"
    out.parent.mkdir(parents=True, exist_ok=True)

    def saved() -> None:
        """The report so far, written after every phase of every server."""
        report["loadavg_after"] = list(os.getloadavg())
        out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
        out.with_suffix(".md").write_text(markdown(report))

    with contextlib.suppress(Exception):
        report["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                          cwd=BENCH_DIR).stdout.strip()
    for backend in [b for b in args.backends.split(",") if b]:
        print(f"explore-kg serve --store {backend} ...", file=sys.stderr)
        report["results"].append(result := {})
        run_ours(data, backend, templates, params, args, result, saved)
    if not args.no_oxigraph:
        print("oxigraph serve ...", file=sys.stderr)
        report["results"].append(result := {})
        run_oxigraph(data, templates, params, args, result, saved)
    saved()
    text = markdown(report)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
