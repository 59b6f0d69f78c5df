"""``explore-kg push``: writes every graph, verifies it as the store computes it, and says plainly when not."""

from __future__ import annotations

import contextlib
import http.server
import threading
from pathlib import Path

import pytest
from external_stores import record, run_cli, store_args

from explore_kg.push import TRIPLE_HASH, content_hash, graphs_to_push, triple_hash
from explore_kg.store.remote import Connection

pytestmark = pytest.mark.store


def test_push_verifies_each_graph(pushed_store):
    """(The fixture pushed with --replace and exit status 0.) Pushing again replaces, and verifies; each
    graph's count and hash, computed by the store, match what is sent."""
    done = run_cli("push", *store_args(pushed_store), "--replace")
    assert done.returncode == 0, done.stderr
    assert "verified" in done.stderr
    conn = Connection(store_args(pushed_store)[1])
    graphs = graphs_to_push([], entailed=True, inferred=False)
    ok = True
    for graph in graphs:
        target = graph.iri or conn.dialect.merge_graph
        pattern = f"GRAPH <{target}> {{ ?s ?p ?o }}" if target else "?s ?p ?o"
        rows = conn.select(f"SELECT ?h WHERE {{ {pattern} BIND({TRIPLE_HASH} AS ?h) }}", dataset=False)
        ok &= content_hash(r["h"].value for r in rows) == content_hash(triple_hash(t) for t in graph.triples)
    assert ok
    record(pushed_store.name, "push + verify (count and SHA1 content hash in SPARQL)", ok)


class _SaysDone(http.server.BaseHTTPRequestHandler):
    """A Graph Store endpoint that answers 204 to every write and keeps nothing."""

    def _done(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(204)
        self.end_headers()

    do_PUT = do_POST = _done

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def _says_done():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SaysDone)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/store"
    finally:
        server.shutdown()
        server.server_close()


def test_a_store_that_says_done_but_loads_nothing_fails(pushed_oxigraph, tmp_path: Path):
    data = tmp_path / "lost.ttl"
    data.write_text("<https://example.org/lost> <https://example.org/p> 'never stored' .\n", encoding="utf-8")
    with _says_done() as gsp:
        done = run_cli("push", "--store", pushed_oxigraph.url, "--gsp-url", gsp, "--replace", str(data))
    assert done.returncode == 1, done.stderr
    assert "holds no triple of it" in done.stderr and "did not load" in done.stderr


def test_a_second_identical_push_is_a_no_op(pushed_store, tmp_path: Path):
    """Without --replace, graphs the store holds as sent are skipped (blank nodes are not added again),
    a new one is written, and one that differs is refused with a hint at --replace (exit 1)."""
    conn = Connection(store_args(pushed_store)[1])
    before = conn.sizes()
    done = run_cli("push", *store_args(pushed_store))
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("skipped ") == len(graphs_to_push([], entailed=True, inferred=False))
    assert conn.sizes() == before  # not one triple more: the ontology's blank nodes were not copied again
    data = tmp_path / "extra.ttl"
    data.write_text("<https://example.org/x> <https://example.org/p> [ <https://example.org/q> 'v' ] .\n",
                    encoding="utf-8")
    done = run_cli("push", *store_args(pushed_store), str(data))
    assert done.returncode == 1 and "push with --replace" in done.stderr  # (its merge graph differs)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors and all("--replace" in line for line in errors)
    assert conn.sizes() == before  # nothing written, not even the new document's graph


def test_push_to_a_store_that_is_down_exits_3():
    from conftest import free_port

    done = run_cli("push", "--store", f"http://127.0.0.1:{free_port()}/sparql")
    assert done.returncode == 3
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "cannot be reached" in errors[0]
    assert "Traceback" not in done.stderr


def test_credentials_never_appear(pushed_virtuoso):
    done = run_cli("push", "--store", pushed_virtuoso.url + "/sparql", "--auth", "dba:s3cret-wrong",
                   "--auth-type", "digest", "--replace")  # (without --replace nothing is written: all there)
    assert done.returncode == 3
    assert "refused" in done.stderr and "s3cret" not in done.stderr
    assert str(pushed_virtuoso.url) not in done.stderr


def test_every_command_with_a_store_that_is_down_exits_3():
    from conftest import free_port

    down = f"http://127.0.0.1:{free_port()}"
    for args in (["sparql", "ASK {}"], ["query", "planned-launches"], ["export"],
                 ["serve", "--port", str(free_port())]):
        done = run_cli(*args, "--store", down)
        assert done.returncode == 3, (args, done.stderr)
        assert "cannot be reached" in done.stderr and down not in done.stderr and "Traceback" not in done.stderr
