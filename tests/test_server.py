"""The SPARQL endpoint against a real server serving the shipped data: protocol, formats, clients."""

from __future__ import annotations

import httpx

EKG = "https://w3id.org/explore-kg/ontology#"
ONTOLOGY_GRAPH = "https://w3id.org/explore-kg/graph/ontology"


def test_health_reports_loaded_data(live_server):
    r = httpx.get(live_server + "/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["triples"] > 0 and body["workers"] >= 1


def test_select_get_default_json(live_server):
    r = httpx.get(live_server + "/sparql", params={"query": f"ASK {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?c a ?t }} }}"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/sparql-results+json"
    assert r.json()["boolean"] is True
