"""``serve --store URL``: the same answers as embedded, over Oxigraph server and Virtuoso; the store
down or slow gives 502/504 and /health says degraded; the store's address never reaches a client."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from external_stores import record, run_cli, serving, start_oxigraph, store_args

from explore_kg.saved_queries import load_saved_queries

pytestmark = pytest.mark.store

QUERIES = [q.name for q in load_saved_queries()]
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module")
def served(pushed_oxigraph, pushed_virtuoso):
    """{store name: base URL of `serve --store URL` in front of it}."""
    # (15 s: Virtuoso answers a rewritten path query in about 1 s idle, 4 s on a loaded 2-core machine)
    with serving(pushed_oxigraph, "--timeout", "15") as ox, serving(pushed_virtuoso, "--timeout", "15") as virt:
        yield {"oxigraph": ox, "virtuoso": virt}


def _rows(base: str, name: str) -> list[str] | str:
    """The answer's rows, sorted; or the error (recorded in the matrix, not hidden)."""
    r = httpx.get(f"{base}/queries/{name}", headers={"Accept": "text/csv"}, timeout=60)
    return sorted(r.text.splitlines()) if r.status_code == 200 else f"{r.status_code} {r.text}"


def _sparql(base: str, query: str) -> list[str] | str:
    r = httpx.get(f"{base}/sparql", params={"query": query}, headers={"Accept": "text/csv"}, timeout=60)
    return sorted(r.text.splitlines()) if r.status_code == 200 else f"{r.status_code} {r.text}"


@pytest.mark.parametrize("name", QUERIES)
def test_saved_query_gives_the_embedded_result_set(name, live_server, served):
    embedded = _rows(live_server, name)
    record("embedded", f"saved query {name}", True)
    same = {store: record(store, f"saved query {name}", _rows(server.url, name) == embedded)
            for store, server in served.items()}
    assert same["oxigraph"], f"{name}: Oxigraph server differs from embedded"
    assert same["virtuoso"], f"{name}: Virtuoso differs from embedded"


USER_PATHS = """PREFIX ekg: <https://w3id.org/explore-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?company ?class ?what WHERE {
  ?company a/rdfs:subClassOf* ekg:Organisation ; a ?class .
  ?what ekg:developer|ekg:contributor ?company .
  FILTER NOT EXISTS { ?company ekg:parentOrganisation+ ?parent }
}"""


def test_a_users_own_path_query_gets_the_same_answer(live_server, served):
    """Not a saved query: the same rewrite makes Virtuoso's answer SPARQL's (docs/stores.md)."""
    embedded = _sparql(live_server, USER_PATHS)
    assert isinstance(embedded, list) and len(embedded) > 2
    for store, server in served.items():
        same = _sparql(server.url, USER_PATHS) == embedded
        record(store, "a user's query with * + paths (same as embedded)", same)
        assert same, store


def test_a_path_virtuoso_cannot_answer_right_is_refused(served):
    query = "SELECT * WHERE { GRAPH ?g { ?a <https://w3id.org/explore-kg/ontology#parentOrganisation>* ?b } }"
    r = httpx.get(served["virtuoso"].url + "/sparql", params={"query": query}, timeout=30)
    assert r.status_code == 400 and "Virtuoso 7" in r.text and "inside GRAPH ?g" in r.text, r.text
    assert httpx.get(served["oxigraph"].url + "/sparql", params={"query": query}, timeout=30).status_code == 200


def test_pages_and_dumps_over_the_store(live_server, served):
    dumps = {}
    for store, server in served.items():
        with httpx.Client(base_url=server.url, timeout=120) as client:
            page = client.get("/id/agency/jaxa", headers={"Accept": "text/html"})
            editor = client.get("/", headers={"Accept": "text/html"})
            ok = page.status_code == 200 and "JAXA" in page.text and editor.status_code == 200
            record(store, "entity pages and the editor", ok)
            assert ok
            dumps[store] = client.get("/dumps/explore-kg.nq").content
            health = client.get("/health")
            assert health.status_code == 200 and health.json()["status"] == "ok"
            assert "127.0.0.1:" not in health.text.replace(server.url, "")  # (the store's address is not in it)
    for store in dumps:
        record(store, "dumps (the same bytes from both stores)", dumps["virtuoso"] == dumps["oxigraph"])
    assert dumps["virtuoso"] == dumps["oxigraph"]


def test_export_from_the_store_is_byte_identical(pushed_oxigraph, pushed_virtuoso):
    """export --store gives the embedded export of the same data as the store holds it (a store keeps
    literals in canonical form: see docs/stores.md)."""
    import pyoxigraph as ox

    from explore_kg.export import Exporter
    from explore_kg.loading import LoadedData
    from explore_kg.push import graphs_to_push

    held = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g.iri))
            for g in graphs_to_push([], entailed=True, inferred=False) if g.iri and not g.iri.endswith("/entailed")
            for t in g.triples]
    expected = Exporter(LoadedData(held)).document("nquads", content="asserted").data
    for store in (pushed_oxigraph, pushed_virtuoso):
        done = subprocess.run([sys.executable, "-m", "explore_kg", "export", "-f", "nquads", *store_args(store)],
                              capture_output=True, timeout=300)
        same = done.returncode == 0 and done.stdout == expected
        record(store.name, "export byte-identical to embedded", same)
        assert same, done.stderr.decode()[-500:]


def test_safety_checks_run_before_forwarding(served):
    for store, server in served.items():
        r = httpx.get(server.url + "/sparql", params={"query": "SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }"})
        assert r.status_code == 400 and "SERVICE is refused" in r.text
        r = httpx.get(server.url + "/sparql", params={"query": "SELECT * FROM <http://elsewhere/> WHERE { ?s ?p ?o }"})
        assert r.status_code == 400
        record(store, "safety checks before forwarding", True)


def test_a_slow_query_gets_504_within_our_deadline(pushed_oxigraph, pushed_virtuoso):
    for store in (pushed_oxigraph, pushed_virtuoso):
        try:
            with serving(store, "--timeout", "2") as server:
                r = httpx.get(server.url + "/sparql", params={"query": HEAVY}, timeout=30)
        finally:
            if store is pushed_oxigraph:
                # Oxigraph's server has no per-request time limit: it would go on evaluating the join
                # for the rest of the session, taking a core from every later test (its data persists).
                store.restart()
        record(store.name, "our deadline: 504, request cancelled", r.status_code == 504)
        assert r.status_code == 504, r.text
        assert "time limit" in r.text


def test_a_killed_store_gives_502_and_recovers(tmp_path: Path):
    store = start_oxigraph(tmp_path)
    try:
        done = run_cli("push", "--store", store.url, "--replace")
        assert done.returncode == 0, done.stderr
        with serving(store, "--timeout", "3") as server:
            query = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } # 1"}
            assert httpx.get(server.url + "/sparql", params=query).status_code == 200
            store.kill()
            query["query"] += "2"  # (not the cached answer)
            down = httpx.get(server.url + "/sparql", params=query, timeout=30)
            assert down.status_code == 502 and "cannot be reached" in down.text
            assert store.url not in down.text and str(store.url.rsplit(":", 1)[1]) not in down.text
            health = httpx.get(server.url + "/health", timeout=10)
            assert health.status_code == 503 and health.json()["status"] == "degraded"
            store.start()  # same port, same data directory
            query["query"] += "3"
            assert httpx.get(server.url + "/sparql", params=query, timeout=30).status_code == 200
            import time

            time.sleep(2.5)  # the probe's interval
            assert httpx.get(server.url + "/health", timeout=10).json()["status"] == "ok"
    finally:
        store.stop()
    record("oxigraph", "store killed: 502, /health degraded, recovers", True)


def test_a_push_while_serving_is_seen(tmp_path: Path):
    """serve --store re-reads the store's graph list (within 2 s): a new document is queryable, the
    ETag changes, the cached answer is not served again."""
    store = start_oxigraph(tmp_path)
    first, second = tmp_path / "first.ttl", tmp_path / "second.ttl"
    first.write_text("<https://example.org/a> <https://example.org/p> 'one' .\n", encoding="utf-8")
    second.write_text("<https://example.org/b> <https://example.org/p> 'two' .\n", encoding="utf-8")
    query = {"query": "SELECT ?o WHERE { ?s <https://example.org/p> ?o }"}
    try:
        assert run_cli("push", "--store", store.url, "--replace", str(first)).returncode == 0
        with serving(store, "--timeout", "5") as server:
            before = httpx.get(server.url + "/sparql", params=query, headers={"Accept": "text/csv"})
            assert before.text.split() == ["o", "one"]
            done = run_cli("push", "--store", store.url, "--replace", str(first), str(second))
            assert done.returncode == 0, done.stderr
            import time

            deadline = time.monotonic() + 20  # (the graph list is read again every 2 s)
            while True:
                after = httpx.get(server.url + "/sparql", params=query, headers={"Accept": "text/csv"})
                if sorted(after.text.split()) == ["o", "one", "two"] or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert sorted(after.text.split()) == ["o", "one", "two"]
            assert after.headers.get("etag") != before.headers.get("etag")
            graphs = httpx.get(server.url + "/sparql", headers={"Accept": "text/csv"}, params={
                "query": "SELECT ?g WHERE { GRAPH ?g { ?s <https://example.org/p> 'two' } }"}).text
            assert "second" in graphs  # the new document's graph is one of the dataset's named graphs
    finally:
        store.stop()


def test_push_serve_query_round_trip(pushed_store, served):
    done = run_cli("query", "mission-timeline", "-p", "mission=LUPEX", "-f", "csv", *store_args(pushed_store))
    embedded = run_cli("query", "mission-timeline", "-p", "mission=LUPEX", "-f", "csv")
    assert done.returncode == 0, done.stderr
    over_server = httpx.get(served[pushed_store.name].url + "/queries/mission-timeline",
                            params={"mission": "LUPEX"}, headers={"Accept": "text/csv"}).text
    same = sorted(done.stdout.splitlines()) == sorted(embedded.stdout.splitlines())
    record(pushed_store.name, "query --store (CLI)", same)
    assert sorted(over_server.splitlines()) == sorted(done.stdout.splitlines())


MATRIX_START, MATRIX_END = "<!-- matrix: start (written by tests/test_remote_serve.py) -->", "<!-- matrix: end -->"
DOC = Path(__file__).resolve().parent.parent / "docs" / "stores.md"


def test_the_matrix_in_the_docs_is_this_run():
    """docs/stores.md holds the store x feature matrix this test run measured. Rewrite it with
    ``EXPLORE_KG_WRITE_MATRIX=1 pytest tests/test_push.py tests/test_remote_dialects.py tests/test_remote_serve.py``."""
    import os

    from external_stores import MATRIX, MATRIX_STORES, matrix_table

    if not MATRIX:
        pytest.skip("no matrix cell recorded in this process: run the external-store test files with it")
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(MATRIX_START + "\n", 1)
    _, tail = rest.split(MATRIX_END, 1)
    if os.environ.get("EXPLORE_KG_WRITE_MATRIX"):
        assert len(MATRIX) >= len(QUERIES) * 3 + 12, "run the three external-store test files together to rewrite it"
        DOC.write_text(head + MATRIX_START + "\n" + matrix_table() + MATRIX_END + tail, encoding="utf-8")
        return
    # Under pytest-xdist the three files may run in different processes: every cell this process measured
    # must be the one the docs show (a serial run of the three files measures them all).
    documented = {}
    for line in rest.split(MATRIX_END, 1)[0].splitlines()[2:]:
        feature, *cells = [c.strip() for c in line.strip().strip("|").split("|")]
        documented.update({(feature, store): cell for store, cell in zip(MATRIX_STORES, cells, strict=True)})
    measured = {key: "pass" if ok else "FAIL" for key, ok in MATRIX.items()}
    wrong = {key: (documented.get(key), cell) for key, cell in measured.items() if documented.get(key) != cell}
    assert not wrong, f"docs/stores.md's matrix is not this run's (documented, measured): {wrong}; rewrite it (see above)"


def test_the_graph_list_is_read_less_often_when_reading_it_is_slow(tmp_path: Path):
    """The probe re-reads the store's graph list (a count over every quad) every 2 s on a small store, and
    at most 5% of the time on one where the count is slow (about a second at 10M quads: every 20 s)."""
    import asyncio

    from explore_kg.store.remote import Connection
    from explore_kg.store.remote_engine import RemoteEngine

    store = start_oxigraph(tmp_path)
    try:
        engine = RemoteEngine(Connection(store.url), timeout=5)
        asyncio.run(engine._refresh())  # a real read of the (empty) store's graph list, timed
        assert 0 < engine._refresh_cost < 0.1 and engine.refresh_interval() == engine.REFRESH_SECONDS
        engine._refresh_cost = 1.0  # what the same count took on a 10M-quad store
        assert engine.refresh_interval() == 20.0
    finally:
        store.stop()
