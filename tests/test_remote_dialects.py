"""Each store adapter's deviation, shown on the real store (tests/external_stores.py), and handled."""

from __future__ import annotations

import httpx
import pytest
from external_stores import record, store_url

from explore_kg.store.dialects import MERGE_GRAPH_IRI, OxigraphServer, Virtuoso
from explore_kg.store.remote import Connection

pytestmark = pytest.mark.store

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def _count(url: str, **params) -> int:
    r = httpx.post(url, data={"query": COUNT, **params}, headers={"Accept": "application/sparql-results+json"},
                   timeout=30)
    r.raise_for_status()
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_stores_are_recognised_by_a_probe(pushed_oxigraph, pushed_virtuoso):
    assert isinstance(Connection(pushed_oxigraph.url).dialect, OxigraphServer)
    assert isinstance(Connection(store_url(pushed_virtuoso)).dialect, Virtuoso)
    # the query endpoint of an Oxigraph server names the same store
    assert Connection(pushed_oxigraph.url + "/query").dialect.gsp_url == pushed_oxigraph.url + "/store"


def test_oxigraph_default_graph_is_not_the_union(pushed_oxigraph):
    """Its default graph is its own; union-default-graph gives one solution per graph, not the merge."""
    conn = Connection(pushed_oxigraph.url)
    merge = conn.sizes()[""]
    own = _count(pushed_oxigraph.url + "/query")
    union = _count(pushed_oxigraph.url + "/query", **{"union-default-graph": ""})
    assert own == merge  # push wrote the merge there: queries need no dataset parameters
    assert union > merge  # (union of named graphs plus duplicates: not what embedded answers)
    record("oxigraph", "default graph = merge of the named graphs", own == merge)


def test_virtuoso_default_graph_holds_its_system_graphs(pushed_virtuoso):
    url = store_url(pushed_virtuoso)
    everything = _count(url)
    ours = _count(url, **{"default-graph-uri": MERGE_GRAPH_IRI})
    assert everything > ours  # virtrdf: and friends, plus each of our graphs again
    conn = Connection(url)
    assert not any(g.startswith("http://www.openlinksw.com/") for g in conn.graphs())
    assert conn.sizes()[""] == ours
    record("virtuoso", "default graph = merge of the named graphs", conn.sizes()[""] == ours)


def test_virtuoso_does_not_answer_a_sparql_query_post(pushed_virtuoso):
    url = store_url(pushed_virtuoso)
    with pytest.raises(httpx.TimeoutException):
        httpx.post(url, content=b"ASK {}", headers={"Content-Type": "application/sparql-query"}, timeout=3)
    assert Connection(url).dialect.form_post  # so queries go as a form, which it answers
    assert Connection(url).select("SELECT (1 AS ?one) WHERE {}")[0]["one"].value == "1"


def test_virtuoso_ask_json_and_booleans(pushed_virtuoso):
    url = store_url(pushed_virtuoso)
    ask = httpx.post(url, data={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+json"}).json()
    assert ask["head"] == {"link": []}  # no "vars"
    boolean = ("SELECT ?b WHERE { GRAPH ?g { ?s ?p ?b } FILTER(DATATYPE(?b) = <http://www.w3.org/2001/XMLSchema#boolean>"
               " && STR(?b) = 'true') } LIMIT 1")
    raw = httpx.post(url, data={"query": boolean}, headers={"Accept": "application/sparql-results+json"}).json()
    assert raw["results"]["bindings"][0]["b"]["value"] == "1"  # not "true"
    assert Connection(url).select(boolean)[0]["b"].value == "true"
