"""Spare query workers: after a burst of queries killed at their deadline, a cheap query is answered by
a worker that was ready before the burst, not by a fresh interpreter.

The problem they pin (session 5): every query killed at its deadline costs a new worker process (an
interpreter start and the store's opening, seconds on a loaded machine), so after a burst of expensive
queries the pool was empty and a cheap query waited for a replacement. Nothing here measures time:
which worker answered is read from the access log (``"worker"``) or the result, by process id.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from conftest import start_server, wait_until

from explore_kg.engine import QueryEngine, QueryTimeout

EX = "http://example.org/"
# 10 patterns joined with nothing in common: 9,000^10 rows to count, far past any deadline here.
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(10)) + " }"


def links() -> list[str]:
    """9,000 links between 3,000 nodes, as N-Triples lines."""
    rnd = random.Random(7)
    return [f"<{EX}n{i}> <{EX}link> <{EX}n{j}> ." for i in range(3000) for j in rnd.sample(range(3000), 3)]


def cheap(i: int) -> str:
    """A query answered at once, different for each ``i`` (never from the result cache)."""
    return f"SELECT (COUNT(*) AS ?n) WHERE {{ <{EX}n{i}> ?p ?o }}"


def children(pid: int) -> set[int]:
    """The child processes of ``pid`` (its query workers), from /proc (Linux)."""
    found = set()
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            found |= {int(c) for c in Path(path).read_text().split()}
        except OSError:  # that thread ended between the glob and the read
            pass
    return found


def gone(pid: int) -> bool:
    try:
        return "zombie" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


def post(url: str, query: str) -> httpx.Response:
    return httpx.post(url + "/sparql", content=query, timeout=120,
                      headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})


@pytest.fixture()
def links_file(tmp_path: Path) -> Path:
    path = tmp_path / "links.nt"
    path.write_text("\n".join(links()) + "\n", encoding="utf-8")
    return path


def test_cheap_query_after_a_burst_of_timeouts_is_answered_by_the_spare(links_file: Path):
    """As many expensive queries as workers, all killed at the deadline; the cheap query sent right
    after is answered by the spare that was ready before the burst; the pool then returns to its size,
    and stopping the server leaves none of its workers."""
    with start_server(str(links_file), "--workers", "2", "--spare-workers", "1", "--timeout", "2") as server:
        def health() -> dict:
            return httpx.get(server.url + "/health", timeout=60).json()

        wait_until(lambda: health()["workers_ready"] == 2 and health()["spares_ready"] == 1, "2 workers and a spare")
        before = children(server.process.pid)
        assert len(before) == 3 and health()["spares"] == 1
        with ThreadPoolExecutor(2) as burst:
            timed_out = list(burst.map(lambda _: post(server.url, CARTESIAN), range(2)))
        assert [r.status_code for r in timed_out] == [503, 503] and all("time limit" in r.text for r in timed_out)
        answer = post(server.url, cheap(1))
        assert answer.status_code == 200 and answer.json()["results"]["bindings"][0]["n"]["value"] == "3"

        def answers() -> list[dict]:  # the /sparql 200s of the access log (written once the answer is sent)
            records = [json.loads(line) for line in server.log.splitlines() if line.startswith("{")]
            return [r for r in records if r.get("path") == "/sparql" and r["status"] == 200]

        answered_by = wait_until(answers, "the cheap query's access log line")[-1]["worker"]
        assert answered_by in before  # not a fresh interpreter: a process started before the burst...
        wait_until(lambda: len(before - children(server.process.pid)) == 2, "the two timed-out workers gone")
        assert answered_by in children(server.process.pid)  # ...and not one of the two that were killed
        stats = health()["stats"]
        assert stats["timeouts"] >= 2 and stats["spare_swaps"] >= 1

        # back to 2 active workers and 1 ready spare, the two killed ones replaced
        wait_until(lambda: (lambda h: h["workers_ready"] == 2 and h["spares_ready"] == 1
                            and h["stats"]["respawns"] >= 2)(health()), "the pool back to 2 workers and a spare")
        after = children(server.process.pid)
        assert len(after) == 3 and len(after - before) == 2
        assert post(server.url, cheap(2)).status_code == 200
    for pid in before | after:
        wait_until(lambda pid=pid: gone(pid), f"worker {pid} ended with the server")


def test_a_query_waiting_for_a_worker_gets_the_spare_when_a_worker_is_killed():
    """A query queued behind expensive ones that hold every worker gets the spare the moment the first
    of them is killed at its deadline; closing the engine then, while replacements are still starting,
    leaves no worker process."""
    store = ox.Store()
    store.load("\n".join(links()).encode(), format=ox.RdfFormat.N_TRIPLES)
    ours_before = children(os.getpid())

    async def scenario():
        engine = QueryEngine(store, workers=2, spares=1, timeout=60)
        await engine.start()
        try:
            for _ in range(2400):  # (the spare starts once the active workers are ready)
                if engine.spares_ready() == 1:
                    break
                await asyncio.sleep(0.05)
            spare = engine.spare_pids()
            active = engine.worker_pids()
            assert engine.spares_ready() == 1 and len(spare) == 1 and len(active) == 2
            expensive = [asyncio.create_task(engine.query(CARTESIAN, timeout=1)) for _ in range(2)]
            await asyncio.sleep(0)  # each takes an idle worker in its first step: none is left
            answer = await engine.query(cheap(1), timeout=60)  # waits in the queue until a worker is free
            for task in expensive:
                with pytest.raises(QueryTimeout):
                    await task
            assert answer.worker_pid == spare[0] and answer.worker_pid not in active
            assert engine.stats["spare_swaps"] >= 1
            launched = children(os.getpid()) - ours_before
        finally:
            await engine.close()
        return launched

    launched = asyncio.run(scenario())
    assert launched  # the workers, the swapped-in spare and the replacements starting
    for pid in launched | (children(os.getpid()) - ours_before):  # (with any started after ``launched``)
        wait_until(lambda pid=pid: gone(pid), f"worker {pid} ended when the engine closed")


def test_no_spare_when_each_worker_would_hold_a_large_copy():
    """The in-memory backend sends every worker its own copy of the data: past SPARE_COPY_MAX_BYTES of
    N-Quads a spare is not worth its memory by default; a path to an on-disk store always gets one."""
    from explore_kg.store import DISK_FRAME
    from explore_kg.worker_processes import SPARE_COPY_MAX_BYTES, default_spares

    assert default_spares(DISK_FRAME + b"/some/store") == 1
    assert default_spares(b"<a> <b> <c> .\n" * 10) == 1
    assert default_spares(b"x" * (SPARE_COPY_MAX_BYTES + 1)) == 0


def test_every_worker_keeps_ctrl_c_from_its_first_instant(links_file: Path):
    """A Ctrl-C that reaches the process group just after the first answer finds the other workers and
    the spare still starting: each is started with SIGINT blocked (then ignored), never at its default."""
    def holds_off_sigint(pid: int) -> bool:
        fields = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                      if line.startswith(("SigBlk", "SigIgn")))
        return bool((int(fields["SigBlk"], 16) | int(fields["SigIgn"], 16)) & (1 << (2 - 1)))  # SIGINT is 2

    with start_server(str(links_file), "--workers", "2", "--spare-workers", "1") as server:
        seen = set()

        def all_three_seen() -> bool:  # each checked as soon as it appears
            for pid in children(server.process.pid) - seen:
                try:
                    assert holds_off_sigint(pid), pid
                except FileNotFoundError:
                    continue
                seen.add(pid)
            return len(seen) >= 3

        wait_until(all_three_seen, "the two workers and the spare", every=0.001)
