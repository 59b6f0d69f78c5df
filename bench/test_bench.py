"""Smoke tests of the benchmark's own parts (run: ``pytest bench/test_bench.py``): the generator makes
valid, deterministic data in our ontology's terms and layout, every template fills into a query that
runs and finds something, and the load driver's HTTP client reads a real Oxigraph server's answers."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402
import servers  # noqa: E402
from load import measure, rows  # noqa: E402
from templates import load_params, load_templates  # noqa: E402

from explore_kg.loading import load, shipped_ontology_files  # noqa: E402
from explore_kg.namespaces import EKG, SOURCE  # noqa: E402

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "small.nq"
    quads, params = generate.generate(scale=1, seed=7)
    generate.write(path, quads, params)
    return path


def test_same_seed_same_bytes_other_seed_other_data(small, tmp_path):
    again = tmp_path / "again.nq"
    generate.write(again, *generate.generate(scale=1, seed=7))
    assert again.read_bytes() == small.read_bytes()
    other = tmp_path / "other.nq"
    generate.write(other, *generate.generate(scale=1, seed=8))
    assert other.read_bytes() != small.read_bytes()


def test_size_follows_the_request():
    quads, _ = generate.generate(scale=20_000 / generate.TRIPLES_PER_SCALE)
    assert 15_000 < len(quads) < 25_000


def test_layout_is_our_loaders(small):
    quads = load([small], shipped=False).quads
    graphs = {q.graph_name for q in quads}
    assert len(graphs) > 10 and all(isinstance(g, ox.NamedNode) for g in graphs)
    for g in graphs:  # each graph is one source document, named by its IRI, describing itself
        assert g.value.startswith(str(SOURCE))
        docs = {q.subject for q in quads if q.graph_name == g and q.predicate.value == RDF_TYPE
                and q.object.value == str(EKG.SourceDocument)}
        assert docs == {g}
    stated = {(q.subject, q.graph_name) for q in quads if q.predicate.value == str(EKG.statedIn)}
    described = {(q.subject, q.graph_name) for q in quads if q.subject.value.startswith("https://w3id.org/explore-kg/id/")}
    assert described and described == stated


def test_uses_only_terms_our_ontology_declares(small):
    declared = {q.subject.value for q in load(shipped=False, ontology_paths=shipped_ontology_files()).quads}
    used = set()
    for q in load([small], shipped=False).quads:
        used.add(q.predicate.value)
        if q.predicate.value == RDF_TYPE:
            used.add(q.object.value)
    ours = {t for t in used if t.startswith(str(EKG))}
    assert ours and ours <= declared, sorted(ours - declared)


def test_generated_data_validates_with_nothing_to_report(small, tmp_path, monkeypatch):
    """The generator draws its concepts (agreement types, statuses, roles...) from ontology/vocabularies.ttl
    and labels every entity, so ``explore-kg validate`` reports nothing on its data: on the small path
    (pyshacl, OWL RL, term, date and duplicate checks) and on the large one (SPARQL on disk, which a 100k
    file takes); and the params sidecar lists only such concepts. (~6 s: one validation on each path.)"""
    import explore_kg.large_inputs as large
    from explore_kg.namespaces import VOCAB
    from explore_kg.validation import validate

    concepts = {c.value for scheme in generate.vocabulary().values() for c in scheme}
    named = {q.object.value for q in ox.parse(path=str(small)) if q.object.value.startswith(str(VOCAB))}
    assert named and named <= concepts, sorted(named - concepts)
    params = load_params(small)
    assert {v for name in ("agreementtype", "area", "role") for v in params[name]} <= concepts
    report = validate([small])
    assert (report.status, report.results) == (0, [])
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(large, "LARGE_BYTES", 0)
    report = validate([small])
    assert report.timings.get("shacl-sparql") is not None and (report.status, report.results) == (0, [])


def test_data_of_another_generator_version_is_made_again(tmp_path):
    """ensure() reuses a data file only if its sidecar names this generator's version (a file made before
    the concepts came from the vocabularies would still fail validation)."""
    path = tmp_path / "old.nq"
    generate.write(path, *generate.generate(scale=0.1, seed=3))
    params = json.loads(generate.params_path(path).read_text())
    assert params["generator"] == [generate.GENERATOR_VERSION]
    del params["generator"]
    generate.params_path(path).write_text(json.dumps(params))
    path.write_text("stale\n")
    assert generate.ensure(400, seed=3, path=path) == path and path.read_text() != "stale\n"
    assert generate.ensure(400, seed=3, path=path) == path  # (made by this version: kept)


def test_every_template_fills_into_a_query_that_finds_something(small):
    store = load([small], shipped=False).to_store()
    params = load_params(small)
    for template in load_templates():
        texts = template.variants(params, 10, seed=3)
        assert len(set(texts)) == 10 and "{{" not in texts[0]
        found = sum(len(list(store.query(q))) for q in texts)
        assert found > 0, template.name
        assert template.repeated(params, 3, seed=3) == [texts[0]] * 3


def test_raw_client_against_a_real_oxigraph_server(small):
    location = servers.reference_store(small)
    server = servers.oxigraph(location, servers.free_port()).start(ready_timeout=60)
    try:
        template = next(t for t in load_templates() if t.name == "star")
        queries = template.variants(load_params(small), 40, seed=1)
        cell = asyncio.run(measure(server.url, queries, 4, max_seconds=30))
        assert cell.requests == 40 and cell.errors == 0 and cell.distinct_queries == 40
        assert 0 < cell.p50_ms <= cell.p99_ms
        bad = asyncio.run(measure(server.url, ["SELECT * WHERE { broken"], 1))
        assert bad.errors == 1 and bad.first_error.startswith("400")
        store = load([small], shipped=False).to_store()
        from load import fetch

        status, body = asyncio.run(fetch(server.url, queries[0]))
        expected = json.loads(store.query(queries[0])
                              .serialize(format=ox.QueryResultsFormat.JSON))
        assert status == 200 and rows(body) == rows(json.dumps(expected).encode())
    finally:
        server.stop()
    assert server.proc.poll() is not None


def test_scale_measures_both_servers_cold_and_warm(small, tmp_path):
    """bench/scale.py end to end on a small file: both servers, a cold start and a warm restart, every
    figure present (none asserted: timings are never checked in tests)."""
    import scale

    out = tmp_path / "scale"
    assert scale.main(["--data", str(small), "--queries", "lookup,star", "--requests", "5", "--out", str(out)]) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    ours, oxigraph = report["results"]
    for result in (ours, oxigraph):
        assert {"load_s", "cold_first_answer_s", "warm_first_answer_s", "cold_rss_mb", "warm_pss_mb"} <= set(result)
        assert set(result["queries"]) == {"lookup", "star"}
        assert all(q["errors"] == 0 for q in result["queries"].values())
    assert "| lookup |" in out.with_suffix(".md").read_text()
