"""Writes per second through the write gate: N writes on a writable store, p50/p99 per write, with the
validation on and off (issue 12).

    .venv/bin/python bench/writes.py --triples 100000 --writes 1000

Builds two writable stores (the shipped ontology and data plus the generated data of ``--triples``,
bench/generate.py) in a temporary directory, then sends each the same writes in-process through
:class:`explore_kg.commit.Writer` (no HTTP: the figure is the write path's own): each write is one
SPARQL update adding a new agreement of 6 triples to a source document's graph. With validation on,
the gate checks it with the shipped shapes and checks; off, it is only applied, logged (fsync) and so
committed. After each write a reader (a query worker's :class:`~explore_kg.store.writable.FollowerStore`)
catches up with the change log, as a worker does before its next query: timed apart ("catch-up").
Prints a table and writes bench/results/writes-<size>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent / "src"))

from explore_kg.namespaces import sparql_prefixes  # noqa: E402

SOURCE = "https://w3id.org/explore-kg/source/esa-jaxa-cooperation-news"
UPDATE = sparql_prefixes("ekg", "rdfs", "agreement", "agency", "agreementtype") + """INSERT DATA {{ GRAPH <{source}> {{
  agreement:bench-{i} a ekg:Agreement ; rdfs:label "Bench agreement {i}"@en ;
    ekg:agreementType agreementtype:letter-of-intent ; ekg:party agency:esa, agency:jaxa ; ekg:dateNotGiven true . }} }}"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(data: Path, writes: int, validate: bool, workdir: Path) -> dict:
    from explore_kg.commit import Writer
    from explore_kg.gate import run_update
    from explore_kg.loading import shipped_data_files, shipped_ontology_files
    from explore_kg.server import ServerConfig
    from explore_kg.store.writable import WritableStore

    paths = [*shipped_ontology_files(), *shipped_data_files(), data]
    started = time.perf_counter()
    served = WritableStore.open(ServerConfig(writable=True, store_dir=str(workdir), paths=paths))
    build_s = time.perf_counter() - started
    from explore_kg.store.writable import FollowerStore

    writer = Writer(served, tokens={}, curated=True, shapes=None, validate=validate)
    t = time.perf_counter()
    reader = FollowerStore(workdir)  # what a query worker does once when it starts
    reader_start_ms = (time.perf_counter() - t) * 1000
    times, gate_ms, snapshot_ms, catch_up = [], [], [], []
    for i in range(writes):
        update = UPDATE.format(source=SOURCE, i=i)
        t = time.perf_counter()
        outcome = writer.write(lambda store, u=update: run_update(store, u, base=None), who="bench")
        times.append((time.perf_counter() - t) * 1000)
        if not outcome.accepted:
            raise SystemExit(f"write {i} was refused: {outcome.report.to_json()}")
        gate_ms.append(outcome.report.timings.get("total", 0.0))
        snapshot_ms.append(outcome.snapshot_ms)
        t = time.perf_counter()
        reader.refresh()
        catch_up.append((time.perf_counter() - t) * 1000)
        if reader.generation != writer.seq:
            raise SystemExit(f"write {i}: the reader holds change {reader.generation}, not {writer.seq}")
    writer.close()
    reader.close()
    return {"validation": validate, "writes": writes, "triples": served.triples, "build_s": round(build_s, 1),
            "p50_ms": round(statistics.median(times), 1), "p99_ms": round(percentile(times, 99), 1),
            "mean_ms": round(statistics.fmean(times), 1), "gate_p50_ms": round(statistics.median(gate_ms), 1),
            "gate_p99_ms": round(percentile(gate_ms, 99), 1), "snapshots": sum(1 for m in snapshot_ms if m),
            "snapshot_max_ms": round(max(snapshot_ms), 1), "catch_up_p50_ms": round(statistics.median(catch_up), 2),
            "catch_up_p99_ms": round(percentile(catch_up, 99), 2), "reader_start_ms": round(reader_start_ms, 1),
            "load_average": [round(x, 1) for x in os.getloadavg()]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--triples", type=int, default=100000, help="size of the generated data (bench/generate.py)")
    ap.add_argument("--writes", type=int, default=1000)
    ap.add_argument("--data", type=Path, help="an N-Quads file instead of generated data")
    ap.add_argument("--out", type=Path, help="result JSON (default bench/results/writes-<size>.json)")
    args = ap.parse_args(argv)
    data = args.data
    if data is None:
        import generate

        data = BENCH_DIR / "data" / f"space-{args.triples // 1000}k-s{generate.DEFAULT_SEED}.nq"
        if not data.exists():
            generate.main(["--triples", str(args.triples), "--out", str(data)])
    rows = []
    with tempfile.TemporaryDirectory(prefix="explore-kg-writes-") as tmp:
        for validate in (False, True):
            rows.append(run(data, args.writes, validate, Path(tmp) / ("on" if validate else "off")))
            print(json.dumps(rows[-1]), flush=True)
    print("\n| validation | store triples | writes | p50 ms | p99 ms | mean ms | gate p50 ms | gate p99 ms | "
          "reader catch-up p50 / p99 ms | snapshots (max ms) | load average |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {'on' if r['validation'] else 'off'} | {r['triples']:,} | {r['writes']} | {r['p50_ms']} | "
              f"{r['p99_ms']} | {r['mean_ms']} | {r['gate_p50_ms']} | {r['gate_p99_ms']} | "
              f"{r['catch_up_p50_ms']} / {r['catch_up_p99_ms']} | {r['snapshots']} ({r['snapshot_max_ms']}) | "
              f"{' '.join(map(str, r['load_average']))} |")
    out = args.out or BENCH_DIR / "results" / f"writes-{args.triples // 1000}k.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"data": str(data.name), "runs": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
