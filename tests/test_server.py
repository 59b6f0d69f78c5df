"""The SPARQL endpoint against real servers: the shipped graph, and small files of our own served with
``explore-kg serve FILE...``. Real clients: httpx, SPARQLWrapper, rdflib's SPARQLStore."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
from conftest import start_server
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

FIXTURES = Path(__file__).parent / "fixtures" / "server"
SERVED_FILES = ["launches.ttl", "graphs.trig", "extra.nt", "extra.nq", "extra.jsonld", "extra.rdf"]
EX = "http://example.org/test/"
ONTOLOGY_GRAPH = "https://w3id.org/explore-kg/graph/ontology"
INFERRED_GRAPH = "https://w3id.org/explore-kg/graph/inferred"
LUPEX = "https://w3id.org/explore-kg/id/mission/lupex"
JAXA = "https://w3id.org/explore-kg/id/agency/jaxa"
SD = "http://www.w3.org/ns/sparql-service-description#"
PREFIX = f"PREFIX ex: <{EX}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "


@pytest.fixture(scope="module")
def files_server():
    with start_server(*(str(FIXTURES / name) for name in SERVED_FILES)) as server:
        yield server


@pytest.fixture(scope="module")
def files_url(files_server) -> str:
    return files_server.url


def sparql(base: str, query: str, **kwargs) -> httpx.Response:
    return httpx.get(base + "/sparql", params={"query": query, **kwargs.pop("params", {})}, **kwargs)


# --- the shipped graph ------------------------------------------------------------------------

def test_health_reports_loaded_data(live_server):
    r = httpx.get(live_server + "/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["triples"] > 0 and body["workers"] >= 2


def test_shipped_graph_has_ontology_lupex_and_jaxa(live_server):
    client = SPARQLWrapper(live_server + "/sparql")
    client.setReturnFormat(JSON)
    for query in (
        f"ASK {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?c a <http://www.w3.org/2002/07/owl#Class> }} }}",
        f"ASK {{ <{LUPEX}> ?p ?o }}",
        f"ASK {{ <{JAXA}> ?p ?o }}",
    ):
        client.setQuery(query)
        assert client.query().convert()["boolean"] is True, query


def test_default_graph_is_union_of_named_graphs(live_server):
    """Without FROM or default-graph-uri, the default graph is the RDF merge of the named graphs:
    every triple of every graph, and a triple that several sources state only once."""
    def count(query: str) -> int:
        return int(sparql(live_server, query).json()["results"]["bindings"][0]["n"]["value"])

    n_union = count("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
    n_distinct = count("SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } } }")
    n_quads = count("SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }")
    assert n_union == n_distinct > 0
    assert n_quads > n_union  # JAXA's name, for one, is stated by several sources
    labels = sparql(live_server, f"SELECT ?l {{ <{JAXA}> <http://www.w3.org/2000/01/rdf-schema#label> ?l }}").json()
    assert len(labels["results"]["bindings"]) == 1
    # a source graph states LUPEX, and FROM <that graph> restricts the default graph to it
    graphs = sparql(live_server, f"SELECT DISTINCT ?g {{ GRAPH ?g {{ <{LUPEX}> ?p ?o }} }}").json()
    source = graphs["results"]["bindings"][0]["g"]["value"]
    r = sparql(live_server, f"ASK FROM <{source}> {{ <{LUPEX}> ?p ?o }}")
    assert r.json()["boolean"] is True
    r = sparql(live_server, f"ASK FROM <{ONTOLOGY_GRAPH}> {{ <{LUPEX}> ?p ?o }}")
    assert r.json()["boolean"] is False


def test_rdflib_sparqlstore_queries_the_endpoint(live_server):
    store = SPARQLStore(live_server + "/sparql", returnFormat="json")
    rows = list(store.query(f"SELECT ?p ?o WHERE {{ <{JAXA}> ?p ?o }}"))
    assert rows and all(isinstance(row.p, URIRef) for row in rows)
    assert store.query(f"ASK {{ <{LUPEX}> ?p ?o }}").askAnswer is True
    store.close()


def test_service_description_names_endpoint_and_graphs(live_server):
    r = httpx.get(live_server + "/sparql")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/turtle")
    g = Graph().parse(data=r.text, format="turtle")
    endpoint = URIRef(live_server + "/sparql")
    assert (endpoint, URIRef(SD + "endpoint"), endpoint) in g
    assert (endpoint, URIRef(SD + "supportedLanguage"), URIRef(SD + "SPARQL11Query")) in g
    assert (None, URIRef(SD + "name"), URIRef(ONTOLOGY_GRAPH)) in g
    assert len(set(g.objects(endpoint, URIRef(SD + "resultFormat")))) >= 4
    # the default graph's size is that of the merge the queries see, not the sum of the graphs
    [declared] = g.query(f"SELECT ?n WHERE {{ ?ds <{SD}defaultGraph>/<http://rdfs.org/ns/void#triples> ?n }}")
    counted = sparql(live_server, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }").json()["results"]["bindings"][0]["n"]["value"]
    assert int(declared[0]) == int(counted)
    # also by Accept, e.g. JSON-LD
    r = httpx.get(live_server + "/sparql", headers={"accept": "application/ld+json"})
    assert r.headers["content-type"].startswith("application/ld+json")
    assert live_server + "/sparql" in r.text


def test_openapi_describes_sparql(live_server):
    spec = httpx.get(live_server + "/openapi.json").json()
    assert {"get", "post"} <= set(spec["paths"]["/sparql"])
    names = {p["name"] for p in spec["paths"]["/sparql"]["get"]["parameters"]}
    assert {"query", "default-graph-uri", "named-graph-uri"} <= names
    assert "application/sparql-query" in spec["paths"]["/sparql"]["post"]["requestBody"]["content"]
    assert httpx.get(live_server + "/docs").status_code == 200


def test_startup_and_access_logs(live_server_process):
    sparql(live_server_process.url, "ASK { ?s ?p ?o }")
    log = live_server_process.log
    assert "triples" in log and ONTOLOGY_GRAPH in log  # what was loaded, per graph
    assert f"http://127.0.0.1:{live_server_process.port}/sparql" in log  # where it listens
    deadline = time.monotonic() + 30
    while True:  # the access-log line is written after the answer is sent: read complete lines until it is there
        lines = live_server_process.log.split("\n")[:-1]
        records = [json.loads(line) for line in lines if line.startswith("{")]
        queries = [r for r in records if r["path"] == "/sparql" and "query_ms" in r]
        if queries or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert queries and queries[-1]["status"] == 200 and queries[-1]["query_ms"] >= 0


# --- result formats, with real clients -------------------------------------------------------

def test_sparqlwrapper_json_xml_csv(files_url):
    query = PREFIX + "SELECT ?probe ?year WHERE { ?probe a ex:Probe ; ex:launchYear ?year } ORDER BY ?year"
    client = SPARQLWrapper(files_url + "/sparql")
    client.setQuery(query)
    client.setReturnFormat(JSON)
    rows = client.query().convert()["results"]["bindings"]
    assert [r["year"]["value"] for r in rows] == ["2024", "2026", "2028"]
    client.setReturnFormat(XML)
    doc = client.query().convert()  # an xml.dom Document
    assert [b.getAttribute("name") for b in doc.getElementsByTagName("binding")][:2] == ["probe", "year"]
    client.setReturnFormat(CSV)
    text = client.query().convert().decode("utf-8")
    assert list(csv.reader(io.StringIO(text)))[1] == [EX + "probe-a", "2024"]


def test_sparqlwrapper_construct_into_rdflib_graph(files_url):
    client = SPARQLWrapper(files_url + "/sparql")
    client.setQuery(PREFIX + "CONSTRUCT { ?p rdfs:label ?l } WHERE { ?p a ex:Probe ; rdfs:label ?l }")
    client.setReturnFormat(TURTLE)
    g = Graph().parse(data=client.query().convert(), format="turtle")
    assert (URIRef(EX + "probe-a"), URIRef("http://www.w3.org/2000/01/rdf-schema#label"), Literal("探査機A", lang="ja")) in g
    assert len(g) == 4
    client.setReturnFormat(XML)  # SPARQLWrapper asks for RDF/XML and parses it into a Graph
    g2 = client.query().convert()
    assert isinstance(g2, Graph) and len(g2) == 4


SELECT_TYPES = {
    "application/sparql-results+json": "application/sparql-results+json",
    "application/sparql-results+xml": "application/sparql-results+xml; charset=utf-8",
    "text/csv": "text/csv; charset=utf-8",
    "text/tab-separated-values": "text/tab-separated-values; charset=utf-8",
}
GRAPH_TYPES = {
    "text/turtle": ("text/turtle; charset=utf-8", "turtle"),
    "application/n-triples": ("application/n-triples", "nt"),
    "application/ld+json": ("application/ld+json", "json-ld"),
    "application/rdf+xml": ("application/rdf+xml; charset=utf-8", "xml"),
    "application/trig": ("application/trig; charset=utf-8", "trig"),
    "application/n-quads": ("application/n-quads", "nquads"),
}


@pytest.mark.parametrize("accept", SELECT_TYPES)
def test_select_formats_by_accept(files_url, accept):
    r = sparql(files_url, PREFIX + "SELECT ?l { ex:probe-c rdfs:label ?l }", headers={"accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"] == SELECT_TYPES[accept]
    if accept.endswith("json"):
        assert r.json()["results"]["bindings"][0]["l"]["value"] == 'Probe "C", with a comma'
    elif accept.endswith("xml"):
        assert ET.fromstring(r.content).find(".//{http://www.w3.org/2005/sparql-results#}literal").text == 'Probe "C", with a comma'
    elif accept == "text/csv":
        assert list(csv.reader(io.StringIO(r.text))) == [["l"], ['Probe "C", with a comma']]
    else:
        assert r.text.splitlines()[0] == "?l" and '\\"C\\"' in r.text


@pytest.mark.parametrize("accept", GRAPH_TYPES)
def test_construct_formats_by_accept(files_url, accept):
    content_type, rdflib_format = GRAPH_TYPES[accept]
    r = sparql(files_url, PREFIX + "CONSTRUCT WHERE { ?p a ex:Probe ; ex:launchYear ?y }", headers={"accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"] == content_type
    g = Graph().parse(data=r.content, format=rdflib_format)
    assert len(g) == 6
    assert (URIRef(EX + "probe-b"), URIRef(EX + "launchYear"), Literal(2026)) in g


def test_defaults_q_values_wildcards_and_406(files_url):
    select, construct = "SELECT * { ?s ?p ?o } LIMIT 1", "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1"
    cases = [
        (select, None, "application/sparql-results+json"),
        (select, "*/*", "application/sparql-results+json"),
        (select, "text/*", "text/csv"),
        (select, "application/*", "application/sparql-results+json"),
        (select, "text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
        (select, "application/sparql-results+json;q=0, */*;q=0.1", "application/sparql-results+xml"),
        (select, "text/turtle, text/csv;q=0.2", "text/csv"),
        (construct, None, "text/turtle"),
        (construct, "*/*", "text/turtle"),
        (construct, "application/rdf+xml;q=0.3, application/n-triples;q=0.8", "application/n-triples"),
        (construct, "application/sparql-results+json, */*;q=0.1", "text/turtle"),
        (construct, "application/json", "application/ld+json"),
    ]
    for query, accept, expected in cases:
        headers = {"accept": accept} if accept else {}
        r = sparql(files_url, query, headers=headers)
        assert r.status_code == 200, (accept, r.text)
        assert r.headers["content-type"].split(";")[0] == expected, accept
    for query, accept in [(select, "text/turtle"), (construct, "text/csv"), (select, "image/png"),
                          (construct, "application/sparql-results+json")]:
        r = sparql(files_url, query, headers={"accept": accept})
        assert r.status_code == 406, accept
        assert accept in r.text


def test_format_parameter_overrides_accept(files_url):
    headers = {"accept": "application/sparql-results+xml"}
    for fmt, expected in [("json", "application/sparql-results+json"), ("csv", "text/csv"),
                          ("tsv", "text/tab-separated-values"), ("xml", "application/sparql-results+xml")]:
        r = sparql(files_url, "SELECT * { ?s ?p ?o } LIMIT 1", params={"format": fmt}, headers=headers)
        assert r.headers["content-type"].split(";")[0] == expected
    for fmt, expected in [("turtle", "text/turtle"), ("json", "application/ld+json"), ("nt", "application/n-triples"),
                          ("xml", "application/rdf+xml")]:
        r = sparql(files_url, "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", params={"format": fmt})
        assert r.headers["content-type"].split(";")[0] == expected
    r = sparql(files_url, "ASK {}", params={"format": "nonsense"})
    assert r.status_code == 406 and "nonsense" in r.text


def test_ask_and_post_forms(files_url):
    query = PREFIX + "ASK { ex:probe-a ex:partner ex:agency-x }"
    form = httpx.post(files_url + "/sparql", data={"query": query})
    direct = httpx.post(files_url + "/sparql", content=query, headers={"content-type": "application/sparql-query"})
    for r in (form, direct):
        assert r.status_code == 200 and r.json() == {"head": {}, "boolean": True}


# --- files of every format, named graphs ----------------------------------------------------

def test_serves_every_rdf_format_and_keeps_trig_graphs(files_url):
    rows = sparql(files_url, PREFIX + "SELECT ?s ?f { ?s ex:format ?f }").json()["results"]["bindings"]
    assert {r["f"]["value"] for r in rows} == {"N-Triples", "N-Quads", "JSON-LD", "RDF/XML"}
    r = sparql(files_url, PREFIX + "SELECT ?g ?s { GRAPH ?g { ?s ex:statedBy ?d } } ORDER BY ?g ?s")
    pairs = [(b["g"]["value"], b["s"]["value"]) for b in r.json()["results"]["bindings"]]
    assert pairs == [(EX + "graph-one", EX + "probe-a"), (EX + "graph-two", EX + "probe-b"), (EX + "graph-two", EX + "probe-c")]
    r = sparql(files_url, PREFIX + "ASK { GRAPH ex:graph-nquads { ex:from-nquads ex:format 'N-Quads' } }")
    assert r.json()["boolean"] is True


def test_from_named_and_protocol_dataset(files_url):
    query = PREFIX + "SELECT ?s FROM NAMED ex:graph-two { GRAPH ?g { ?s ex:statedBy ?d } } ORDER BY ?s"
    rows = sparql(files_url, query).json()["results"]["bindings"]
    assert [r["s"]["value"] for r in rows] == [EX + "probe-b", EX + "probe-c"]
    r = sparql(files_url, PREFIX + "SELECT ?s { ?s ex:statedBy ?d }", params={"default-graph-uri": EX + "graph-one"})
    assert [b["s"]["value"] for b in r.json()["results"]["bindings"]] == [EX + "probe-a"]


def test_service_description_lists_served_graphs(files_url):
    g = Graph().parse(data=httpx.get(files_url + "/sparql").text, format="turtle")
    names = set(g.objects(None, URIRef(SD + "name")))
    assert {URIRef(EX + "graph-one"), URIRef(EX + "graph-two"), URIRef(EX + "graph-nquads")} <= names


# --- HTTP: errors, caching, CORS --------------------------------------------------------------

def test_protocol_errors_are_400_with_plain_messages(files_url):
    url = files_url + "/sparql"
    r = httpx.get(url, params={"query": "SELECT * WHERE {\n  ?s ?p \n}"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/plain")
    assert "malformed query" in r.text and "3:" in r.text  # the parser's line:column
    r = httpx.get(url + "?query=ASK%7B%7D&query=ASK%7B%7D")
    assert r.status_code == 400 and "2 queries" in r.text
    r = httpx.post(url, data={"query": "ASK {}", "update": "CLEAR ALL"})
    assert r.status_code == 400 and "read-only" in r.text
    r = httpx.post(url, content="INSERT DATA { <a:b> <a:c> <a:d> }", headers={"content-type": "application/sparql-query"})
    assert r.status_code == 400 and "read-only" in r.text
    r = httpx.post(url, content="ASK {}", headers={"content-type": "text/plain"})
    assert r.status_code == 400 and "Content-Type" in r.text
    r = httpx.post(url, data={"default-graph-uri": EX + "graph-one"})
    assert r.status_code == 400 and "missing" in r.text


def test_from_a_graph_outside_the_dataset_is_refused(files_url):
    for query in ("SELECT * FROM <http://example.com/elsewhere.ttl> { ?s ?p ?o }",
                  "SELECT * FROM NAMED <file:///etc/passwd> { GRAPH ?g { ?s ?p ?o } }",
                  "PREFIX r: <https://dbpedia.org/resource/> SELECT * FROM r:Moon { ?s ?p ?o }"):
        r = sparql(files_url, query)
        assert r.status_code == 400, query
        assert "not in this dataset" in r.text
    r = sparql(files_url, "ASK {}", params={"default-graph-uri": "http://example.com/remote.ttl"})
    assert r.status_code == 400 and "not in this dataset" in r.text
    # the words in a comment or a string are not a FROM clause
    r = sparql(files_url, 'ASK { # FROM <http://example.com/x>\n FILTER("FROM <http://example.com/y>" != "") }')
    assert r.status_code == 200 and r.json()["boolean"] is True


def test_etag_and_not_modified(files_url):
    query = PREFIX + "SELECT ?p { ?p a ex:Probe }"
    first = sparql(files_url, query)
    etag = first.headers["etag"]
    assert etag and "max-age" in first.headers["cache-control"]
    again = sparql(files_url, query, headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other_format = sparql(files_url, query, headers={"if-none-match": etag, "accept": "text/csv"})
    assert other_format.status_code == 200 and other_format.headers["etag"] != etag
    other_query = sparql(files_url, query + " LIMIT 1", headers={"if-none-match": etag})
    assert other_query.status_code == 200


def test_cors(files_url):
    r = sparql(files_url, "ASK {}", headers={"origin": "https://example.net"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "etag" in r.headers["access-control-expose-headers"].lower()
    pre = httpx.options(files_url + "/sparql", headers={
        "origin": "https://example.net", "access-control-request-method": "POST",
        "access-control-request-headers": "content-type"})
    assert pre.status_code == 200
    assert "POST" in pre.headers["access-control-allow-methods"]


@pytest.fixture(scope="module")
def inferred_server():
    """One server for the two tests below: neither option changes what the other test checks."""
    with start_server(str(FIXTURES / "launches.ttl"), str(FIXTURES / "ontology-bits.ttl"), "--inferred",
                      "--max-query-bytes", "2000") as server:
        yield server


def test_query_size_limit_413(inferred_server):
    url = inferred_server.url
    padding = "#" + "x" * 3000 + "\n"
    r = httpx.post(url + "/sparql", content=padding + "ASK {}", headers={"content-type": "application/sparql-query"})
    assert r.status_code == 413 and "2000" in r.text
    r = httpx.post(url + "/sparql", data={"query": padding + "ASK {}"})
    assert r.status_code == 413
    r = httpx.post(url + "/sparql", data={"query": "ASK {}"})
    assert r.status_code == 200


def test_inferred_graph(inferred_server):
    url = inferred_server.url
    q = PREFIX + f"ASK {{ GRAPH <{INFERRED_GRAPH}> {{ ex:probe-a a ex:Spacecraft }} }}"
    assert sparql(url, q).json()["boolean"] is True
    # the asserted graph does not hold it
    q = PREFIX + f"ASK {{ GRAPH ?g {{ ex:probe-a a ex:Spacecraft }} FILTER(?g != <{INFERRED_GRAPH}>) }}"
    assert sparql(url, q).json()["boolean"] is False


# --- loading failures: clear message, nothing fetched ------------------------------------------

def serve_and_fail(*files: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "explore_kg", "serve", "--port", "1", *files],
                          capture_output=True, text=True, timeout=120)


def test_unparsable_file_names_file_and_line():
    result = serve_and_fail(str(FIXTURES / "broken.ttl"))
    assert result.returncode == 2
    assert "broken.ttl:3" in result.stderr


def test_remote_jsonld_context_is_not_fetched(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    connections: list[bytes] = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            connections.append(conn.recv(200))
            conn.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    doc = tmp_path / "remote.jsonld"
    doc.write_text(json.dumps({"@context": f"http://127.0.0.1:{port}/context.jsonld",
                               "@id": EX + "remote", "name": "x"}))
    try:
        result = serve_and_fail(str(doc))
        time.sleep(0.3)
    finally:
        done.set()
        watcher.join()
        listener.close()
    assert result.returncode == 2
    assert "remote.jsonld" in result.stderr and "never fetches" in result.stderr
    assert connections == []


def test_large_results_concurrently(live_server):
    """Answers larger than a socket buffer, many at once, come back whole (the worker-to-server transport
    reads them in pieces under uvloop as under asyncio)."""
    from concurrent.futures import ThreadPoolExecutor

    queries = [f"SELECT * WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} ORDER BY ?s ?p ?o OFFSET {i} LIMIT 100000" for i in range(8)]

    def ask(query: str) -> httpx.Response:
        return httpx.get(live_server + "/sparql", params={"query": query}, timeout=60)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, queries * 2))
    for r in answers:
        assert r.status_code == 200, r.text
    sizes = [len(r.json()["results"]["bindings"]) for r in answers[:8]]
    assert len(answers[0].content) > 256 * 1024
    assert sizes == sorted(sizes, reverse=True) and sizes[0] - sizes[7] == 7
    assert httpx.get(live_server + "/health").json()["stats"]["crashes"] == 0
