"""The update side of the W3C SPARQL 1.1 Protocol test suite, against a real ``serve --writable``.

Cases from https://www.w3.org/2009/sparql/docs/tests/data-sparql11/protocol/manifest.ttl (w3c/rdf-tests,
``sparql/sparql11/protocol/manifest.ttl``). Each test is named after its case and sends the case's
requests; the suite posts updates and queries to one endpoint, here updates go to ``/update`` and the
follow-up queries to ``/sparql``, and every update carries the writer's Bearer token. The server serves
an empty file with no shapes: a plain SPARQL 1.1 store, so the cases run unchanged.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import quote

import httpx
import pytest
from conftest import start_server

TOKEN = "w3c-test-token-0123456789"
DATA = "http://kasei.us/2009/09/sparql/data/"
DATA1, DATA2, DATA3 = (f"{DATA}data{i}.rdf" for i in (1, 2, 3))
PROLOGUE = """PREFIX dc: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
DROP ALL ;
INSERT DATA {
    GRAPH <http://kasei.us/2009/09/sparql/data/data1.rdf> { <http://kasei.us/2009/09/sparql/data/data1.rdf> a foaf:Document }
    GRAPH <http://kasei.us/2009/09/sparql/data/data2.rdf> { <http://kasei.us/2009/09/sparql/data/data2.rdf> a foaf:Document }
    GRAPH <http://kasei.us/2009/09/sparql/data/data3.rdf> { <http://kasei.us/2009/09/sparql/data/data3.rdf> a foaf:Document }
} ;
"""
UPDATE = {"content-type": "application/sparql-update", "authorization": f"Bearer {TOKEN}"}
FORM = {"content-type": "application/x-www-form-urlencoded", "authorization": f"Bearer {TOKEN}"}
QUERY = {"content-type": "application/sparql-query", "accept": "application/sparql-results+xml"}


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("w3c-update")
    (tmp / "empty.ttl").write_text("")
    (tmp / "tokens").write_text(f"w3c:{TOKEN}\n")
    with start_server("--writable", "--store-dir", str(tmp / "store"), "--token-file", str(tmp / "tokens"),
                      str(tmp / "empty.ttl")) as server:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield client


def q(value: str) -> str:
    return quote(value, safe="")


def ask(endpoint, query: str) -> bool:
    r = endpoint.post("/sparql", content=query, headers=QUERY)
    assert r.status_code == 200, r.text
    node = ET.fromstring(r.content).find("{http://www.w3.org/2005/sparql-results#}boolean")
    return node.text.strip() == "true"


def in_graph(graph: str, yes: list[str], no: list[str], what: str = "a <http://purl.org/dc/terms/BibliographicResource>") -> str:
    present = " ".join(f"<{s}> {what} ." for s in yes)
    absent = " ".join(f"FILTER NOT EXISTS {{ GRAPH <{graph}> {{ <{s}> {what} }} }}" for s in no)
    return f"ASK {{ GRAPH <{graph}> {{ {present} }} {absent} }}"


def test_update_dataset_default_graph(endpoint):
    """:update_dataset_default_graph "update with protocol-specified default graph" -> 2xx, then ASK true."""
    graph = "http://example.org/protocol-update-dataset-test/"
    r = endpoint.post(f"/update?using-graph-uri={q(DATA1)}", headers=UPDATE, content=PROLOGUE + f"""
INSERT {{ GRAPH <{graph}> {{ ?s a dc:BibliographicResource }} }}
WHERE {{ ?s a foaf:Document }}""")
    assert 200 <= r.status_code < 400, r.text
    assert ask(endpoint, in_graph(graph, [DATA1], [DATA2, DATA3]))


def test_update_dataset_default_graphs(endpoint):
    """:update_dataset_default_graphs "update with protocol-specified default graphs" -> 2xx, then ASK true."""
    graph = "http://example.org/protocol-update-dataset-graphs-test/"
    r = endpoint.post(f"/update?using-graph-uri={q(DATA1)}&using-graph-uri={q(DATA2)}", headers=UPDATE,
                      content=PROLOGUE + f"""
INSERT {{ GRAPH <{graph}> {{ ?s a dc:BibliographicResource }} }}
WHERE {{ ?s a foaf:Document }}""")
    assert 200 <= r.status_code < 400, r.text
    assert ask(endpoint, in_graph(graph, [DATA1, DATA2], [DATA3]))


def test_update_dataset_named_graphs(endpoint):
    """:update_dataset_named_graphs "update with protocol-specified named graphs" -> 2xx, then ASK true."""
    graph = "http://example.org/protocol-update-dataset-named-graphs-test/"
    r = endpoint.post(f"/update?using-named-graph-uri={q(DATA1)}&using-named-graph-uri={q(DATA2)}", headers=UPDATE,
                      content=PROLOGUE + f"""
INSERT {{ GRAPH <{graph}> {{ ?s a dc:BibliographicResource }} }}
WHERE {{ GRAPH ?g {{ ?s a foaf:Document }} }}""")
    assert 200 <= r.status_code < 400, r.text
    assert ask(endpoint, in_graph(graph, [DATA1, DATA2], [DATA3]))


def test_update_dataset_full(endpoint):
    """:update_dataset_full "update with protocol-specified dataset (both named and default graphs)"."""
    graph = "http://example.org/protocol-update-dataset-full-test/"
    r = endpoint.post(f"/update?using-graph-uri={q(DATA1)}&using-named-graph-uri={q(DATA2)}", headers=UPDATE,
                      content=PROLOGUE + f"""
INSERT {{ GRAPH <{graph}> {{ ?s <http://example.org/in> ?in }} }}
WHERE {{
    {{ GRAPH ?g {{ ?s a foaf:Document }} BIND(?g AS ?in) }}
    UNION
    {{ ?s a foaf:Document . BIND("default" AS ?in) }}
}}""")
    assert 200 <= r.status_code < 400, r.text
    assert ask(endpoint, f"""ASK {{
    GRAPH <{graph}> {{ <{DATA1}> <http://example.org/in> "default" . <{DATA2}> <http://example.org/in> <{DATA2}> . }}
    FILTER NOT EXISTS {{ GRAPH <{graph}> {{ <{DATA3}> ?p ?o }} }} }}""")


def test_update_post_form(endpoint):
    """:update_post_form "update via URL-encoded POST" -> 2xx."""
    r = endpoint.post("/update", content="update=CLEAR+ALL", headers=FORM)
    assert 200 <= r.status_code < 400, r.text


def test_update_post_direct(endpoint):
    """:update_post_direct "update via POST directly" -> 2xx."""
    r = endpoint.post("/update", content="CLEAR ALL", headers=UPDATE)
    assert 200 <= r.status_code < 400, r.text


def test_update_base_uri(endpoint):
    """:update_base_uri "test for service-defined BASE URI": <test> is resolved, to an IRI that is not <test>."""
    r = endpoint.post("/update", headers=UPDATE, content="""CLEAR GRAPH <http://example.org/protocol-base-test/> ;
INSERT DATA { GRAPH <http://example.org/protocol-base-test/> { <http://example.org/s> <http://example.org/p> <test> } }""")
    assert 200 <= r.status_code < 400, r.text
    r = endpoint.post("/sparql", content="""SELECT ?o WHERE {
    GRAPH <http://example.org/protocol-base-test/> { <http://example.org/s> <http://example.org/p> ?o } }""",
                      headers={"content-type": "application/sparql-query", "accept": "application/sparql-results+json"})
    rows = r.json()["results"]["bindings"]
    assert len(rows) == 1 and rows[0]["o"]["type"] == "uri" and rows[0]["o"]["value"] != "test"
    assert rows[0]["o"]["value"].endswith("/test")


def test_bad_update_get(endpoint):
    """:bad_update_get "invoke update operation with GET" -> 4xx."""
    r = endpoint.get("/update?update=CLEAR%20ALL", headers={"authorization": f"Bearer {TOKEN}"})
    assert 400 <= r.status_code < 500


def test_bad_multiple_updates(endpoint):
    """:bad_multiple_updates "invoke update operation with more than one update string" -> 4xx."""
    r = endpoint.post("/update", content="update=CLEAR%20NAMED&update=CLEAR%20DEFAULT", headers=FORM)
    assert 400 <= r.status_code < 500


def test_bad_update_wrong_media_type(endpoint):
    """:bad_update_wrong_media_type "a POST with media type that's not url-encoded or application/sparql-update"."""
    r = endpoint.post("/update", content="CLEAR NAMED", headers={"content-type": "text/plain",
                                                                  "authorization": f"Bearer {TOKEN}"})
    assert 400 <= r.status_code < 500


def test_bad_update_missing_form_type(endpoint):
    """:bad_update_missing_form_type "url-encoded body, but without application/x-www-form-urlencoded"."""
    r = endpoint.post("/update", content=b"update=CLEAR%20NAMED", headers={"authorization": f"Bearer {TOKEN}"})
    assert 400 <= r.status_code < 500


def test_bad_update_non_utf8(endpoint):
    """:bad_update_non_utf8 "direct POST, but with a non-UTF8 encoding (UTF-16)" -> 4xx."""
    r = endpoint.post("/update", content="CLEAR NAMED".encode("utf-16"),
                      headers={**UPDATE, "content-type": "application/sparql-update; charset=UTF-16"})
    assert 400 <= r.status_code < 500


def test_bad_update_syntax(endpoint):
    """:bad_update_syntax "invoke update operation with invalid update syntax" -> 4xx."""
    r = endpoint.post("/update", content="update=CLEAR%20XYZ", headers=FORM)
    assert 400 <= r.status_code < 500


def test_bad_update_nonpercent_encoded(endpoint):
    """A form whose content is not percent-encoded (a raw '%' not followed by two hex digits) -> 4xx."""
    r = endpoint.post("/update", content="update=INSERT DATA { <a:b> <a:c> \"100%\" }", headers=FORM)
    assert 400 <= r.status_code < 500


def test_bad_update_dataset_conflict(endpoint):
    """:bad_update_dataset_conflict "using-graph-uri conflicts with USING in the update" -> 4xx."""
    r = endpoint.post(f"/update?using-graph-uri={q(DATA1)}", headers=UPDATE, content=f"""PREFIX foaf: <http://xmlns.com/foaf/0.1/>
INSERT {{ GRAPH <http://example.org/conflict/> {{ ?s a foaf:Document }} }} USING <{DATA2}> WHERE {{ ?s a foaf:Document }}""")
    assert 400 <= r.status_code < 500


def test_sparql_endpoint_still_refuses_updates(endpoint):
    r = endpoint.post("/sparql", content="CLEAR ALL", headers={"content-type": "application/sparql-update",
                                                              "authorization": f"Bearer {TOKEN}"})
    assert 400 <= r.status_code < 500


def test_updates_never_fetch(endpoint):
    for update in ("LOAD <http://example.org/data.ttl>", "LOAD <file:///etc/passwd> INTO GRAPH <http://g/>",
                   "INSERT { ?s ?p ?o } WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"):
        r = endpoint.post("/update", content=update, headers=UPDATE)
        assert r.status_code == 403, (update, r.text)
