"""Where our server spends its time under load: a py-spy profile of the main process, GC pauses, CPU split.

    python bench/profile.py --query lookup --concurrency 8 --seconds 10

Starts ``explore-kg serve`` on the generated data through a small wrapper that logs every garbage
collection pause of the main process, drives one query template at one concurrency (varying texts,
so every request reaches a worker), samples the main process with py-spy when it is installed
(``pip install py-spy``), and prints: throughput and latency, CPU ms per request of the main process,
its workers and the client, the GC pauses seen during the load, and the hottest frames.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402
import servers  # noqa: E402
from load import measure  # noqa: E402
from templates import load_params, load_templates  # noqa: E402

# Runs the real CLI in a process whose GC pauses are written to stderr (our log), with a wall clock.
GC_WRAPPER = """
import gc, sys, time
_start = [0.0]
def _watch(phase, info):
    if phase == "start":
        _start[0] = time.perf_counter()
    else:
        ms = (time.perf_counter() - _start[0]) * 1000
        print(f"GCPAUSE {time.time():.3f} gen{info['generation']} {ms:.2f}", file=sys.stderr, flush=True)
gc.callbacks.append(_watch)
from explore_kg.cli import app
sys.argv = ["explore-kg", "serve", *sys.argv[1:]]
app()
"""


IDLE_THREAD_FRAME = "_worker (concurrent/futures/thread.py"


def hottest(raw: Path, top: int) -> list[str]:
    """Top frames by own time and by inclusive time, from py-spy's raw (collapsed stack) output."""
    own: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    by_file: collections.Counter = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        if not n.isdigit() or frames[-1].startswith(IDLE_THREAD_FRAME):
            continue  # a thread-pool thread waiting for work is not CPU time
        total += int(n)
        own[frames[-1]] += int(n)
        where = frames[-1].rpartition("(")[2].split(":")[0]
        by_file[where if where.startswith("explore_kg/") else where.split("/")[0]] += int(n)
        for f in set(frames):
            inclusive[f] += int(n)
    if not total:
        return ["py-spy: no samples"]
    out = [f"py-spy samples: {total}", "own time by package (explore_kg by file):"]
    out += [f"  {v / total * 100:5.1f}%  {k}" for k, v in by_file.most_common(top)]
    out += ["own time:"]
    out += [f"  {v / total * 100:5.1f}%  {k}" for k, v in own.most_common(top)]
    out += ["inclusive time (below the uvicorn/starlette entry points):"]
    deep = [(k, v) for k, v in inclusive.most_common() if v < 0.6 * total]
    out += [f"  {v / total * 100:5.1f}%  {k}" for k, v in deep[:top]]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--triples", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    ap.add_argument("--query", default="lookup")
    ap.add_argument("--mode", choices=["varying", "repeated"], default="varying")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--serve-arg", action="append", default=[])
    args = ap.parse_args(argv)

    data = generate.ensure(args.triples, args.seed)
    template = load_templates([args.query])[0]
    params = load_params(data)
    if args.mode == "varying":  # every text once: when they run out, the measurement ends
        queries = template.variants(params, min(200_000, template.combinations(params)), 11)
    else:
        queries = template.repeated(params, 200_000, 11)
    port = servers.free_port()
    server = servers.Server("explore-kg", [sys.executable, "-c", GC_WRAPPER, str(data), "--port", str(port),
                                           "--timeout", "10", "--log-level", "warning", *args.serve_arg],
                            f"http://127.0.0.1:{port}/sparql", servers.LOG_DIR / f"profile-{port}.log")
    server.start()
    raw = servers.LOG_DIR / f"profile-{port}.pyspy.txt"
    spies: list = []
    try:
        asyncio.run(measure(server.url, queries[:50], args.concurrency))  # warm up
        queries = queries[50:]
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        spies = []
        if Path(py_spy).exists():  # one sampler for the main process, one for each query worker
            for pid, out in [(server.proc.pid, raw)] + [(w, raw.with_suffix(f".worker{w}.txt"))
                                                        for w in servers._children(server.proc.pid)]:
                spies.append((out, subprocess.Popen(
                    [py_spy, "record", "-p", str(pid), "-d", str(int(args.seconds) + 1), "-r", "250", "-f", "raw",
                     "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
            time.sleep(0.5)
        started = time.time()
        cpu0, client0 = server.cpu_seconds(), time.process_time()
        cell = asyncio.run(measure(server.url, queries, args.concurrency, max_seconds=args.seconds))
        cpu1, client1 = server.cpu_seconds(), time.process_time()
        ended = time.time()
        for _, spy in spies:
            spy.wait(30)
    finally:
        server.stop()
    n = max(1, cell.requests)
    print(f"{args.query} {args.mode} c={args.concurrency}: {cell.rps} req/s, p50 {cell.p50_ms} ms, "
          f"p99 {cell.p99_ms} ms, max {cell.max_ms} ms, {cell.requests} requests, {cell.errors} errors")
    print(f"CPU ms per request: main process {(cpu1[0] - cpu0[0]) * 1000 / n:.3f}, workers "
          f"{max(0.0, cpu1[1] - cpu0[1]) * 1000 / n:.3f}, client {(client1 - client0) * 1000 / n:.3f}")
    pauses = []
    for line in server.log.read_text(errors="replace").splitlines():
        if line.startswith("GCPAUSE "):
            _, ts, gen, ms = line.split()
            if started <= float(ts) <= ended:
                pauses.append((gen, float(ms)))
    for gen in ("gen0", "gen1", "gen2"):
        ms = sorted(m for g, m in pauses if g == gen)
        if ms:
            print(f"GC {gen}: {len(ms)} pauses during the load, median {ms[len(ms) // 2]:.2f} ms, max {ms[-1]:.2f} ms, "
                  f"total {sum(ms):.0f} ms")
    if not spies:
        print("(no profile: pip install py-spy)")
    for out, _ in spies:
        if out.exists():
            print(f"\n== {'main process' if out == raw else 'query worker ' + out.suffixes[-2][7:]} ==")
            print("\n".join(hottest(out, args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
