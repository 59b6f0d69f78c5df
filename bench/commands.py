"""Every command at scale: wall time and peak memory of validate, export, query and sparql on one file,
next to Oxigraph's bulk load of the same file, in one run.

For one generated file (bench/generate.py; ``--data FILE`` to reuse one), with a fresh cache directory
(``XDG_CACHE_HOME``: the on-disk stores the commands build go there), one command after the other:

* Oxigraph: ``pyoxigraph.Store(dir).bulk_load(file)`` then ``optimize()`` in a fresh process (the
  reference for memory: what loading this file into Oxigraph costs), and a query on that store
  opened read-only;
* ``explore-kg validate FILE`` (cold: builds its store, then warm: reopens it), ``explore-kg export FILE
  -f F -o OUT`` for every format (the first builds the store that serve, export, query and sparql share),
  ``explore-kg query source-catalogue FILE`` (twice) and ``explore-kg sparql QUERY FILE``.

For each: wall seconds, and the peak of the summed RSS of the process and all its children (sampled from
/proc every 50 ms: the store builder is a child process), against Oxigraph's peak. The 1-minute load
average before and after the run is recorded (the machine is shared). Nothing is asserted; the table
goes to stdout and bench/results/commands-<N>k.{json,md}.

    python bench/commands.py --triples 100000                   # ~3 minutes on 2 cores
    python bench/commands.py --data /tmp/space-1m.nq            # 1M quads (generate it first: ~30 s)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
EXPLORE_KG = [sys.executable, "-m", "explore_kg"]
FORMATS = ("turtle", "ntriples", "jsonld", "rdfxml", "trig", "nquads")
SPARQL = "SELECT ?type (COUNT(*) AS ?n) WHERE { ?s a ?type } GROUP BY ?type ORDER BY DESC(?n)"
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _tree_rss_kb(root: int) -> int:
    """The summed RSS of ``root`` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as f:
                total += int(f.read().split()[1]) * _PAGE_KB
        except (OSError, ValueError, IndexError):
            pass
        todo.extend(children.get(pid, ()))
    return total


def run(name: str, argv: list[str], env: dict[str, str]) -> dict:
    """Run one command; its wall time, peak summed RSS (MB) of its process tree, exit status."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.wait()
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    built = "building the store" in err or "store complete" in err
    result = {"name": name, "argv": argv[len(EXPLORE_KG):] if argv[:len(EXPLORE_KG)] == EXPLORE_KG else argv[1:],
              "wall_s": round(wall, 2), "peak_rss_mb": round(peak / 1024, 1), "status": proc.returncode,
              "built_store": built}
    if proc.returncode not in (0, 1):
        result["stderr"] = err[-2000:]
    print(f"{name:<28} {wall:8.1f} s {peak / 1024:8.1f} MB  status {proc.returncode}"
          + ("  (built its store)" if built else ""), flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, default=100_000, help="generate a file of about N quads")
    parser.add_argument("--data", help="an existing N-Quads file instead of generating one")
    parser.add_argument("--formats", default=",".join(FORMATS), help="export formats, comma-separated")
    parser.add_argument("--work", help="where stores and outputs go (default: a temporary directory)")
    parser.add_argument("--out", help="results file stem (default bench/results/commands-<N>k)")
    args = parser.parse_args(argv)

    work = Path(args.work or tempfile.mkdtemp(prefix="explore-kg-commands-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.data:
        data = Path(args.data)
    else:
        data = work / f"space-{args.triples // 1000}k.nq"
        subprocess.run([sys.executable, str(BENCH_DIR / "generate.py"), "--triples", str(args.triples),
                        "--out", str(data)], check=True)
    quads = sum(1 for _ in open(data, "rb"))
    cache = work / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    load_before = os.getloadavg()
    print(f"{data}: {quads:,} lines, {data.stat().st_size / 2**20:,.0f} MB; load average {load_before[0]:.2f}",
          flush=True)

    results = []
    oxstore = work / "oxigraph"
    shutil.rmtree(oxstore, ignore_errors=True)
    results.append(run("oxigraph bulk_load", [sys.executable, "-c", (
        "import pyoxigraph as ox, sys; s = ox.Store(sys.argv[1]); "
        "s.bulk_load(path=sys.argv[2], format=ox.RdfFormat.N_QUADS); s.flush(); s.optimize()"),
        str(oxstore), str(data)], env))
    results.append(run("oxigraph query", [sys.executable, "-c", (
        "import pyoxigraph as ox, sys; s = ox.Store.read_only(sys.argv[1]); "
        "print(list(s.query(sys.argv[2], use_default_graph_as_union=True)))"), str(oxstore), SPARQL], env))
    f = str(data)
    results.append(run("validate (builds its store)", [*EXPLORE_KG, "validate", f], env))
    results.append(run("validate (again)", [*EXPLORE_KG, "validate", f], env))
    for fmt in args.formats.split(","):
        out = work / f"export.{fmt}"
        results.append(run(f"export -f {fmt}", [*EXPLORE_KG, "export", f, "-f", fmt, "-o", str(out)], env))
        results[-1]["output_mb"] = round(out.stat().st_size / 2**20, 1) if out.exists() else None
        out.unlink(missing_ok=True)
    results.append(run("query source-catalogue",
                       [*EXPLORE_KG, "query", "source-catalogue", f, "-f", "csv", "--timeout", "120"], env))
    results.append(run("query source-catalogue (again)",
                       [*EXPLORE_KG, "query", "source-catalogue", f, "-f", "csv", "--timeout", "120"], env))
    results.append(run("sparql (types)", [*EXPLORE_KG, "sparql", SPARQL, f, "-f", "csv", "--timeout", "120"], env))
    load_after = os.getloadavg()

    reference = results[0]["peak_rss_mb"] or 1.0
    rows = ["| command | wall s | peak RSS MB (all processes) | / Oxigraph's bulk load |", "|---|--:|--:|--:|"]
    for r in results:
        note = " (builds its store)" if r["built_store"] else ""
        status = "" if r["status"] in (0, 1) else f" **exit {r['status']}**"
        shown = r["name"] if r["name"].startswith("oxigraph") else "explore-kg " + " ".join(
            a if a != f else "FILE" for a in r["argv"] if not a.startswith(str(work)))
        rows.append(f"| `{shown}`{note}{status} | {r['wall_s']:.1f} | "
                    f"{r['peak_rss_mb']:.0f} | {r['peak_rss_mb'] / reference:.2f} |")
    stem = Path(args.out) if args.out else RESULTS_DIR / f"commands-{quads // 1000}k"
    stem.parent.mkdir(parents=True, exist_ok=True)
    meta = {"data": str(data), "lines": quads, "bytes": data.stat().st_size, "python": platform.python_version(),
            "cpus": os.cpu_count(), "load_average_before": load_before, "load_average_after": load_after,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    stem.with_suffix(".json").write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    table = "\n".join(rows)
    stem.with_suffix(".md").write_text(
        f"{quads:,} quads ({data.name}), load average {load_before[0]:.2f} before / {load_after[0]:.2f} after, "
        f"{os.cpu_count()} CPUs\n\n{table}\n")
    print(f"\nload average {load_before[0]:.2f} before, {load_after[0]:.2f} after\n\n{table}")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
