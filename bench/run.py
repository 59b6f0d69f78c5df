"""Run the whole benchmark: our SPARQL endpoint against Oxigraph's own server, same data, same run.

    python bench/run.py --triples 100000

Generates the data if missing (bench/generate.py), starts ``explore-kg serve`` and ``oxigraph
serve-read-only`` on 127.0.0.1, checks that both give the same answers, then for every query template
(bench/queries/*.rq), mode and concurrency sends the same requests to both (bench/load.py) and prints
req/s, p50/p99 latency, errors and the ours/oxigraph ratio. "varying" sends a different query text per
request (no result cache can help), "repeated" the identical text (a result cache can). Optionally
times rdflib's engine against pyoxigraph in-process (bench/inprocess.py). Writes
bench/results/latest.json and latest.md. Servers it started are stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402
import servers  # noqa: E402
from load import fetch, measure, rows  # noqa: E402
from templates import Template, load_params, load_templates  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
JOIN_QUERIES = ("star", "multihop", "graphs")  # the targets: joins and aggregates at 8 clients
AGGREGATE_QUERIES = ("aggregate",)


def machine() -> dict:
    """What the figures were measured on, including how busy the machine was."""
    info = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import pyoxigraph

        info["pyoxigraph"] = pyoxigraph.__version__
        info["oxigraph_cli"] = subprocess.run([servers.tool("oxigraph"), "--version"], capture_output=True,
                                              text=True).stdout.strip()
    except Exception:  # noqa: BLE001 - informational only
        pass
    try:
        info["git_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                            cwd=BENCH_DIR).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], capture_output=True, text=True,
                               cwd=BENCH_DIR.parent).stdout.strip()
        info["src_uncommitted_changes"] = bool(dirty)
    except OSError:
        pass
    return info


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def check_answers(endpoints: dict[str, str], templates: list[Template], params: dict, seed: int, n: int = 3) -> list[dict]:
    """Send a few filled queries to every endpoint and compare the answers row for row."""
    out = []
    for t in templates:
        for q in t.variants(params, n, seed + 7919):
            answers = {}
            for name, url in endpoints.items():
                status, body = asyncio.run(fetch(url, q))
                answers[name] = rows(body) if status == 200 else f"HTTP {status}: {body[:200]!r}"
            first = next(iter(answers.values()))
            same = all(a == first for a in answers.values())
            out.append({"query": t.name, "same": same,
                        "rows": {k: (len(v) if isinstance(v, list) else v) for k, v in answers.items()}})
    return out


def plan(t: Template, params: dict, mode: str, concurrency: list[int], requests: int, warmup: int,
         seed: int, repeat: int = 1) -> dict[int, list[tuple[list[str], list[str]]]]:
    """Per concurrency, per repetition: (warm-up queries, measured queries). "varying" slices one list of
    distinct texts, so no query text is sent twice in the run while the template's pools allow it."""
    if mode == "repeated":
        q = t.repeated(params, 1, seed)[0]
        return {c: [([q] * warmup, [q] * requests)] * repeat for c in concurrency}
    size = warmup + requests
    texts = t.variants(params, size * len(concurrency) * repeat, seed)
    chunks = [texts[i:i + size] for i in range(0, len(texts), size)]
    return {c: [(chunk[:warmup], chunk[warmup:]) for chunk in chunks[i * repeat:(i + 1) * repeat]]
            for i, c in enumerate(concurrency)}


def measure_with_cpu(url: str, queries: list[str], c: int, args, server: servers.Server | None) -> dict:
    """One measured cell, plus the CPU milliseconds per request spent by the client (this process) and,
    for a server we started, by its main process and its worker processes: where the time goes."""
    before = server.cpu_seconds() if server else None
    client_before, busy_before, wall_before = time.process_time(), machine_busy_seconds(), time.perf_counter()
    cell = asyncio.run(measure(url, queries, c, max_seconds=args.max_seconds, request_timeout=args.timeout * 3,
                               client=args.client)).as_dict()
    n = max(1, cell["requests"])
    client = time.process_time() - client_before
    cell["client_cpu_ms"] = round(client * 1000 / n, 3)
    if server and before:
        after = server.cpu_seconds()
        used = (after[0] - before[0]) + max(0.0, after[1] - before[1])
        cell["server_cpu_ms"] = round((after[0] - before[0]) * 1000 / n, 3)
        cell["workers_cpu_ms"] = round(max(0.0, after[1] - before[1]) * 1000 / n, 3)
        # CPU that neither this client nor this server used: other processes on the machine
        others = machine_busy_seconds() - busy_before - used - client
        cell["others_cores"] = round(max(0.0, others) / (time.perf_counter() - wall_before), 2)
    return cell


def machine_busy_seconds() -> float:
    """CPU seconds all processors have been busy since boot (from /proc/stat)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run_cells(endpoints: dict[str, str], templates: list[Template], params: dict, args,
              started: dict[str, servers.Server]) -> list[dict]:
    """Every template x mode x concurrency, against every endpoint; with --repeat, each cell is measured
    that many times (servers alternating) and summarised by medians (``runs`` keeps every measurement)."""
    results = []
    names = list(endpoints)
    turn = 0
    for t in templates:
        for mode in args.modes:
            cells = plan(t, params, mode, args.concurrency, args.requests, args.warmup, args.seed, args.repeat)
            for c, repetitions in cells.items():
                row = {"query": t.name, "mode": mode, "concurrency": c, "combinations": t.combinations(params)}
                runs: dict[str, list[dict]] = {name: [] for name in names}
                for warm, measured in repetitions:
                    turn += 1
                    for name in (names if turn % 2 else names[::-1]):  # alternate who goes first
                        url = endpoints[name]
                        if warm:
                            asyncio.run(measure(url, warm, min(c, len(warm)), max_seconds=args.max_seconds,
                                                client=args.client))
                        runs[name].append(measure_with_cpu(url, measured, c, args, started.get(name)))
                for name in names:
                    row[name] = summarise(runs[name])
                if "ours" in row and "oxigraph" in row and row["oxigraph"]["rps"]:
                    paired = [o["rps"] / x["rps"] for o, x in zip(runs["ours"], runs["oxigraph"], strict=True)
                              if x["rps"]]
                    row["ratio"] = round(statistics.median(paired), 2) if paired else 0.0
                    if len(paired) > 1:
                        row["ratio_range"] = [round(min(paired), 2), round(max(paired), 2)]
                results.append(row)
                print(format_row(row), flush=True)
    return results


def summarise(runs: list[dict]) -> dict:
    """One cell's figures: the run itself, or for repetitions the median of each figure (errors summed)."""
    if len(runs) == 1:
        return runs[0]
    out = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            values = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
            out[key] = sum(values) if key in ("errors", "requests") else round(statistics.median(values), 3)
    out["first_error"] = next((r["first_error"] for r in runs if r["first_error"]), "")
    out["runs"] = runs
    return out


def format_row(row: dict) -> str:
    parts = [f"{row['query']:12s} {row['mode']:8s} c={row['concurrency']:<3d}"]
    for name in ("ours", "oxigraph"):
        if name in row:
            c = row[name]
            parts.append(f"{name} {c['rps']:8.1f}/s p50 {c['p50_ms']:7.2f} p99 {c['p99_ms']:7.2f} err {c['errors']}")
    if "ratio" in row:
        parts.append(f"ratio {ratio_text(row)}")
    return " | ".join(parts)


def markdown(report: dict) -> str:
    lines = [f"# Benchmark results ({report['finished']})", "",
             f"Command: `{report['command']}`", "",
             f"Data: {report['data']['file']} ({report['data']['quads']:,} quads served, "
             f"{report['data']['graphs']:,} named graphs)", "",
             f"Code: commit {report['machine'].get('git_commit', '?')}"
             + (" with uncommitted changes in src/" if report['machine'].get("src_uncommitted_changes") else "") + "", "",
             f"Machine: {report['machine'].get('cpus')} CPUs ({report['machine'].get('cpu', '?')}), "
             f"load average before {report['loadavg_before']} after {report['loadavg_after']}; "
             f"client: {report['settings']['client']} asyncio HTTP/1.1 on the same machine", "",
             f"Per cell: up to {report['settings']['requests']} requests and {report['settings']['max_seconds']} s, "
             f"after {report['settings']['warmup']} warm-up requests; ratio = ours req/s / oxigraph req/s"
             + (f"; each cell measured {report['settings']['repeat']} times, medians shown (ratio: median of the "
                "paired runs, range in brackets)" if report['settings'].get('repeat', 1) > 1 else "") + ".", "",
             "| query | mode | clients | ours req/s | ours p50 ms | ours p99 ms | ours err | oxigraph req/s "
             "| oxigraph p50 ms | oxigraph p99 ms | oxigraph err | ratio |",
             "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in report["results"]:
        o, x = r.get("ours", {}), r.get("oxigraph", {})
        lines.append(f"| {r['query']} | {r['mode']} | {r['concurrency']} | {o.get('rps', '')} | {o.get('p50_ms', '')} "
                     f"| {o.get('p99_ms', '')} | {o.get('errors', '')} | {x.get('rps', '')} | {x.get('p50_ms', '')} "
                     f"| {x.get('p99_ms', '')} | {x.get('errors', '')} | {ratio_text(r)} |")
    cpu_rows = [r for r in report["results"] if "server_cpu_ms" in r.get("ours", {})]
    if cpu_rows:
        lines += ["", "## Where the time goes: CPU milliseconds per request (2 cores shared by all processes)", "",
                  "| query | mode | clients | ours main process | ours workers | oxigraph | client (ours run) "
                  "| client (oxigraph run) | other processes, cores busy (ours run / oxigraph run) |",
                  "|---|---|--:|--:|--:|--:|--:|--:|--:|"]
        for r in cpu_rows:
            o, x = r["ours"], r.get("oxigraph", {})
            lines.append(f"| {r['query']} | {r['mode']} | {r['concurrency']} | {o['server_cpu_ms']} "
                         f"| {o['workers_cpu_ms']} | {x.get('server_cpu_ms', '')} | {o['client_cpu_ms']} "
                         f"| {x.get('client_cpu_ms', '')} | {o.get('others_cores', '')} / {x.get('others_cores', '')} |")
    if report.get("targets"):
        lines += ["", "## Targets (100k triples, 8 clients)", "", "| target | query | mode | measured | met |",
                  "|---|---|---|--:|---|"]
        for t in report["targets"]:
            lines.append(f"| {t['target']} | {t['query']} | {t['mode']} | {t['measured']} | {'yes' if t['met'] else 'NO'} |")
    if report.get("answers"):
        diff = [a for a in report["answers"] if not a["same"]]
        lines += ["", f"Answers compared on {len(report['answers'])} queries: "
                  + ("all identical." if not diff else f"{len(diff)} differ: "
                     + "; ".join(f"{a['query']} {a['rows']}" for a in diff[:10]))]
    if report.get("rdflib"):
        lines += ["", "## rdflib vs pyoxigraph, in-process (no HTTP), median of runs", "",
                  "| query | pyoxigraph ms | rdflib ms | rdflib slower | rows (pyoxigraph / rdflib) |",
                  "|---|--:|--:|--:|--:|"]
        for r in report["rdflib"]:
            if r.get("event") == "query":
                lines.append(f"| {r['query']} | {r['oxigraph_ms']} | {r['rdflib_ms']} | {r['rdflib_slower_x']}x "
                             f"| {r['rows_oxigraph']} / {r['rows_rdflib']} |")
            elif r.get("event") == "timeout":
                lines.append(f"| {r['query']} | | > {r['seconds']} s | | |")
    if report.get("servers"):
        lines += ["", "Servers: " + "; ".join(f"{k}: ready in {v['started_s']} s, {v['rss_mb']} MB resident at the end"
                                             for k, v in report["servers"].items())]
    return "\n".join(lines) + "\n"


def ratio_text(row: dict) -> str:
    if "ratio" not in row:
        return ""
    return f"{row['ratio']}" + (" ({}-{})".format(*row["ratio_range"]) if "ratio_range" in row else "")


def targets(results: list[dict], c: int = 8) -> list[dict]:
    """The issue's targets, checked on the cells measured at c clients."""
    out = []
    for r in results:
        if r["concurrency"] != c or "ratio" not in r:
            continue
        if r["query"] in JOIN_QUERIES + AGGREGATE_QUERIES:
            need = 0.8 if r["mode"] == "varying" else 1.0
            op = ">=" if r["mode"] == "varying" else ">"
            met = r["ratio"] >= need if r["mode"] == "varying" else r["ratio"] > need
            out.append({"target": f"throughput {op} {need}x oxigraph", "query": r["query"], "mode": r["mode"],
                        "measured": ratio_text(r) + "x", "met": met})
        ours = r["ours"]
        if ours["p50_ms"] and ours["requests"]:
            ratio = ours["p99_ms"] / ours["p50_ms"]
            out.append({"target": "ours p99 <= 3x p50", "query": r["query"], "mode": r["mode"],
                        "measured": f"{ratio:.1f}x", "met": ratio <= 3})
    return out


def rdflib_comparison(data: Path, queries: str, runs: int, budget: float, limit_s: float) -> list[dict]:
    """bench/inprocess.py in a child process, stopped after limit_s; what it printed before that is kept."""
    argv = [sys.executable, str(BENCH_DIR / "inprocess.py"), "--data", str(data), "--queries", queries,
            "--runs", str(runs), "--budget", str(budget)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=limit_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    done = {r["query"] for r in lines if r.get("event") == "query"}
    lines += [{"event": "timeout", "query": q, "seconds": limit_s} for q in queries.split(",") if q not in done]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--triples", type=int, default=100_000, help="size of the generated data (default 100000)")
    ap.add_argument("--seed", type=int, default=generate.DEFAULT_SEED, help="data generator seed")
    ap.add_argument("--data", type=Path, help="use this generated .nq file instead")
    ap.add_argument("--queries", default="", help="comma-separated template names (default: all in bench/queries)")
    ap.add_argument("--modes", default="varying,repeated")
    ap.add_argument("--concurrency", default="1,4,8,16")
    ap.add_argument("--requests", type=int, default=2000, help="requests per cell at most")
    ap.add_argument("--max-seconds", type=float, default=5.0, help="seconds per cell at most")
    ap.add_argument("--warmup", type=int, default=20, help="unmeasured requests before each cell")
    ap.add_argument("--repeat", type=int, default=1, help="measure each cell this many times; report medians")
    ap.add_argument("--timeout", type=float, default=10.0, help="query timeout given to both servers")
    ap.add_argument("--client", choices=["raw", "httpx"], default="raw")
    ap.add_argument("--ours-url", help="measure an explore-kg endpoint already running (e.g. .../sparql)")
    ap.add_argument("--oxigraph-url", help="measure an Oxigraph endpoint already running (e.g. .../query)")
    ap.add_argument("--serve-arg", action="append", default=[], help="extra argument for explore-kg serve (repeatable)")
    ap.add_argument("--no-ours", action="store_true", help="measure the reference only")
    ap.add_argument("--no-oxigraph", action="store_true", help="measure our server only")
    ap.add_argument("--rdflib", default="star,multihop,lookup",
                    help="queries for the in-process rdflib comparison ('' to skip)")
    ap.add_argument("--rdflib-limit", type=float, default=300.0, help="seconds for the rdflib comparison at most")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR / "latest", help="results path without extension")
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                    help="first wait up to this long for the 1-minute load average to fall below --quiet-load")
    ap.add_argument("--quiet-load", type=float, default=1.0)
    args = ap.parse_args(argv)
    args.modes = [m for m in args.modes.split(",") if m]
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c]

    data = generate.ensure(args.triples, args.seed, args.data)
    waited = time.perf_counter()
    while args.wait_quiet and loadavg() and loadavg()[0] >= args.quiet_load \
            and time.perf_counter() - waited < args.wait_quiet:
        time.sleep(5)
    params = load_params(data)
    templates = load_templates([n for n in args.queries.split(",") if n] or None)
    report: dict = {"command": " ".join(["python", "bench/run.py", *(argv if argv is not None else sys.argv[1:])]),
                    "started": datetime.now(UTC).isoformat(timespec="seconds"),
                    "machine": machine(), "loadavg_before": loadavg(),
                    "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    started: dict[str, servers.Server] = {}
    endpoints: dict[str, str] = {}
    try:
        if not args.no_ours:
            if args.ours_url:
                endpoints["ours"] = args.ours_url
            else:
                started["ours"] = servers.ours(data, servers.free_port(), args.timeout, args.serve_arg).start()
                endpoints["ours"] = started["ours"].url
        if not args.no_oxigraph:
            if args.oxigraph_url:
                endpoints["oxigraph"] = args.oxigraph_url
            else:
                location = servers.reference_store(data)
                started["oxigraph"] = servers.oxigraph(location, servers.free_port(), args.timeout).start()
                endpoints["oxigraph"] = started["oxigraph"].url
        for name, s in started.items():
            print(f"{name}: {s.url} (ready in {s.started_s} s)", flush=True)
        count = "SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?g) AS ?graphs) WHERE { GRAPH ?g { ?s ?p ?o } }"
        status, body = asyncio.run(fetch(next(iter(endpoints.values())), count))
        b = json.loads(body)["results"]["bindings"][0] if status == 200 else {}
        report["data"] = {"file": str(data.relative_to(BENCH_DIR.parent)) if data.is_relative_to(BENCH_DIR.parent)
                          else str(data), "quads": int(b.get("n", {}).get("value", 0)),
                          "graphs": int(b.get("graphs", {}).get("value", 0))}
        if len(endpoints) > 1:
            report["answers"] = check_answers(endpoints, templates, params, args.seed)
            diff = [a for a in report["answers"] if not a["same"]]
            print(f"answers compared: {len(report['answers'])}, differing: {len(diff)} "
                  + " ".join(f"{a['query']}{a['rows']}" for a in diff[:5]), flush=True)
        t0 = time.perf_counter()
        report["results"] = run_cells(endpoints, templates, params, args, started)
        report["measure_s"] = round(time.perf_counter() - t0, 1)
        report["servers"] = {name: {"started_s": s.started_s, "rss_mb": s.rss_mb()} for name, s in started.items()}
    finally:
        for s in started.values():
            s.stop()
    report["loadavg_after"] = loadavg()
    if args.rdflib:
        print("rdflib vs pyoxigraph in-process ...", flush=True)
        report["rdflib"] = rdflib_comparison(data, args.rdflib, 5, 60.0, args.rdflib_limit)
    report["targets"] = targets(report["results"])
    report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    md = markdown(report)
    args.out.with_suffix(".md").write_text(md, encoding="utf-8")
    print()
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
