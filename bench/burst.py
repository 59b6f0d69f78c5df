"""A burst of expensive queries that all time out, then one cheap query: how long does the cheap one take?

Each expensive query comes from a loopback address of its own (none is a heavy client yet, so the fair
share lets them take every worker and all are killed at the deadline); the cheap query from another.
Without a ready spare the cheap query waits for a new worker process; with one it is answered at once.

    python bench/burst.py --rounds 7                       # this checkout, serve's defaults (3 workers, 1 spare)
    python bench/burst.py --src OTHER/src --rounds 7       # another checkout's code, for a before/after
    python bench/burst.py --serve-arg=--store --serve-arg=disk

Measured, never asserted. Prints one line per round and the median; the load average is printed too.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
EX = "http://example.org/"
# 10 patterns joined with nothing in common over 9,000 triples: never finishes within a deadline
EXPENSIVE = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(10)) + " }"


def write_links(path: Path) -> None:
    """9,000 links between 3,000 nodes (the graph of tests/test_server_hostile.py)."""
    rnd = random.Random(7)
    with path.open("w", encoding="utf-8") as f:
        for i in range(3000):
            for j in rnd.sample(range(3000), 3):
                f.write(f"<{EX}n{i}> <{EX}link> <{EX}n{j}> .\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client_from(address: str) -> httpx.Client:
    """An HTTP client whose connections come from ``address`` (any 127.x.y.z is loopback on Linux)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=120)


def post(client: httpx.Client, url: str, query: str) -> tuple[int, float]:
    started = time.perf_counter()
    r = client.post(url + "/sparql", content=query, headers={"Content-Type": "application/sparql-query"})
    return r.status_code, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", default=str(HERE.parent / "src"), help="the explore_kg package's parent folder")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--workers", type=int, default=3, help="serve --workers (the burst has as many queries)")
    parser.add_argument("--timeout", type=float, default=2.0, help="serve --timeout")
    parser.add_argument("--serve-arg", action="append", default=[], help="more `serve` arguments")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="explore-kg-burst-") as tmp:
        data = Path(tmp) / "links.nt"
        write_links(data)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = open(Path(tmp) / "server.log", "w")  # noqa: SIM115 - open while the server runs
        server = subprocess.Popen(
            [sys.executable, "-m", "explore_kg", "serve", "--port", str(port), str(data), "--workers",
             str(args.workers), "--timeout", str(args.timeout), *args.serve_arg],
            env=dict(os.environ, PYTHONPATH=args.src), stdout=log, stderr=subprocess.STDOUT)
        cheap_client = client_from("127.0.0.2")

        def whole() -> bool:
            """Every worker ready, and every spare (older code reports none)."""
            try:
                h = httpx.get(url + "/health", timeout=60).json()
            except httpx.HTTPError:
                return False
            return h["workers"] == h["workers_ready"] == args.workers and h.get("spares_ready", 0) == h.get("spares", 0)

        try:
            times = []
            for k in range(args.rounds):
                while not whole():
                    time.sleep(0.2)
                time.sleep(1.0)  # the clients' cost averages decay a little; nothing else runs
                burst_clients = [client_from(f"127.0.{k + 1}.{i + 1}") for i in range(args.workers)]
                with ThreadPoolExecutor(args.workers) as pool:
                    burst = list(pool.map(lambda c: post(c, url, EXPENSIVE), burst_clients))
                status, seconds = post(cheap_client, url, f"SELECT (COUNT(*) AS ?n) WHERE {{ <{EX}n{k}> ?p ?o }}")
                times.append(seconds)
                print(f"round {k}: burst {[s for s, _ in burst]}, cheap query {status} in {seconds * 1000:.0f} ms",
                      flush=True)
            stats = httpx.get(url + "/health", timeout=60).json()["stats"]
            print(f"cheap query after the burst: median {statistics.median(times) * 1000:.0f} ms "
                  f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}); stats {stats}; "
                  f"load average {os.getloadavg()[0]:.2f}")
        finally:
            server.terminate()
            server.wait(30)
            log.close()


if __name__ == "__main__":
    main()
