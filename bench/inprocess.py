"""In-process engine comparison: rdflib's SPARQL engine against pyoxigraph on the same quads.

Why the server runs queries on Oxigraph rather than rdflib: this times the same filled benchmark
queries in both engines, inside one Python process (no HTTP), median of a few runs each. Prints one
JSON object per line as it goes, so a caller that has to stop it early keeps what was measured.

    python bench/inprocess.py --data bench/data/space-100k-s42.nq --queries star,multihop --runs 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from templates import load_params, load_templates  # noqa: E402


def timed(fn, runs: int, budget_s: float) -> tuple[list[float], int]:
    """Run fn up to ``runs`` times (fewer if the budget is spent); seconds per run and the result size."""
    times: list[float] = []
    size = 0
    spent = 0.0
    while len(times) < runs and spent < budget_s:
        t0 = time.perf_counter()
        size = fn()
        times.append(time.perf_counter() - t0)
        spent += times[-1]
    return times, size


def main(argv: list[str] | None = None) -> int:
    from explore_kg.loading import load

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--queries", default="star,multihop")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--budget", type=float, default=60.0, help="seconds of rdflib time per query at most")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    params = load_params(args.data)
    t0 = time.perf_counter()
    loaded = load([args.data])
    store = loaded.to_store()
    t1 = time.perf_counter()
    dataset = loaded.to_dataset()
    t2 = time.perf_counter()
    print(json.dumps({"event": "loaded", "quads": len(loaded.quads), "oxigraph_load_s": round(t1 - t0, 2),
                      "rdflib_load_s": round(t2 - t1, 2)}), flush=True)
    for template in load_templates(args.queries.split(",")):
        sparql = template.variants(params, 1, args.seed)[0]
        ox_times, ox_rows = timed(lambda q=sparql: len(list(store.query(q))),
                                  args.runs, args.budget)
        rdf_times, rdf_rows = timed(lambda q=sparql: len(list(dataset.query(q))), args.runs, args.budget)
        ox_ms = statistics.median(ox_times) * 1000
        rdf_ms = statistics.median(rdf_times) * 1000
        print(json.dumps({"event": "query", "query": template.name, "runs_oxigraph": len(ox_times),
                          "runs_rdflib": len(rdf_times), "oxigraph_ms": round(ox_ms, 3), "rdflib_ms": round(rdf_ms, 1),
                          "rows_oxigraph": ox_rows, "rows_rdflib": rdf_rows,
                          "rdflib_slower_x": round(rdf_ms / ox_ms, 1) if ox_ms else None}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
