"""The query worker pool when workers cannot be replaced: queries fail at once with a 503 that says why."""

from __future__ import annotations

import asyncio
import os
import signal

import pyoxigraph as ox
import pytest

from explore_kg.engine import QueryEngine, QueryFailed, default_workers


def test_default_pool_has_one_and_a_half_workers_per_cpu_within_bounds():
    cpus = os.cpu_count() or 1
    assert 2 <= default_workers() <= 8
    assert default_workers() == max(2, min(cpus + max(1, cpus // 2), 8))


def test_no_worker_can_start_queries_fail_at_once():
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal("o")))

    async def scenario():
        # A deadline far longer than the test: without the fail-fast path the query below would wait
        # for it and end as a QueryTimeout, not the QueryFailed asserted.
        engine = QueryEngine(store, workers=1, spares=0, timeout=600)  # no spare: the only worker is lost
        await engine.start()
        try:
            assert engine.available and engine.start_failure is None
            assert (await engine.query("ASK { ?s ?p ?o }")).body
            # Replacements now get an address space too small to start in, then the only worker dies.
            engine.worker_memory_mb = 1
            os.kill(engine.worker_pids()[0], signal.SIGKILL)
            for _ in range(600):  # until the crash is seen and the first replacement has failed
                if engine.start_failure is not None:
                    break
                await asyncio.sleep(0.1)
            assert engine.start_failure is not None and not engine.available
            with pytest.raises(QueryFailed) as failed:
                await engine.query("ASK { ?s ?p ?o . FILTER(?o = 'x') }")  # not a cached answer
            assert failed.value.status == 503
            assert "no query worker is available" in failed.value.message
            # once workers can start again, the engine recovers by itself
            engine.worker_memory_mb = 0
            for _ in range(600):
                if engine.available:
                    break
                await asyncio.sleep(0.1)
            assert engine.available and engine.start_failure is None
            assert (await engine.query("ASK { ?s ?p ?o . FILTER(?o = 'y') }")).body
        finally:
            await engine.close()

    asyncio.run(scenario())
