"""The web pages over plain HTTP, against a real server: IRI dereferencing with content negotiation,
404s, the saved-query gallery, escaping of data in pages, and that pages ask for nothing remote."""

from __future__ import annotations

import json
import re
import textwrap

import httpx
import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDF

from explore_kg.namespaces import EKG, ID
from explore_kg.web import compact, href, json_for_script, local_path, negotiate

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}  # what browsers send
MMX = ID["mission/mmx"]


def get(base: str, path: str, **headers: str) -> httpx.Response:
    r = httpx.get(base + path, headers=headers or HTML, timeout=30)
    if r.status_code >= 500:
        print("SERVER ERROR", path, re.findall(r"<pre class=.error.>(.*?)</pre>", r.text, re.S))
    return r


# --- pure helpers -------------------------------------------------------------------------------

def test_links_stay_local_and_only_http_iris_become_links():
    assert local_path(str(MMX)) == "/id/mission/mmx"
    assert local_path(str(EKG.Mission)) == "/ontology#Mission"
    assert local_path("https://w3id.org/explore-kg/vocab/agreement-type/joint-statement") == \
        "/vocab/agreement-type/joint-statement"
    assert href("http://www.wikidata.org/entity/Q1") == "http://www.wikidata.org/entity/Q1"
    assert href("javascript:alert(1)") is None
    assert href("data:text/html,<b>x</b>") is None
    assert compact(str(MMX)) == "mission:mmx"


def test_negotiation_prefers_what_the_client_ranks_higher():
    offers = ["text/html", "text/turtle"]
    assert negotiate(HTML["Accept"], offers) == "text/html"
    assert negotiate("text/turtle, text/html;q=0.5", offers) == "text/turtle"
    assert negotiate("*/*", offers) == "text/html"
    assert negotiate("image/png", offers) is None


def test_json_in_a_script_element_cannot_close_it():
    text = json_for_script({"label": "</script><script>alert(1)</script> & <!--"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"label": "</script><script>alert(1)</script> & <!--"}


# --- the editor at "/" and SPARQL clients at "/" --------------------------------------------------

def test_home_is_the_editor_for_browsers(live_server):
    r = get(live_server, "/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<script src="/static/vendor/yasqe.min.js">' in r.text
    assert "PREFIX mission: &lt;https://w3id.org/explore-kg/id/mission/&gt;" in r.text  # prefixes pre-filled
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_home_still_answers_sparql_clients(live_server):
    r = httpx.get(live_server + "/", params={"query": "ASK { ?s a ?o }"},
                  headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert r.status_code == 200 and r.json() == {"head": {}, "boolean": True}
    r = httpx.post(live_server + "/", data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                   headers={"Accept": "text/csv"}, timeout=30)
    assert r.status_code == 200 and r.text.splitlines()[0] == "n" and int(r.text.splitlines()[1]) > 100
    r = httpx.get(live_server + "/", headers={"Accept": "text/turtle"}, timeout=30)  # service description
    assert r.status_code == 200 and "sparql-service-description" in r.text


def test_pages_load_nothing_from_elsewhere(live_server):
    for path in ("/", "/gallery", "/id/mission/mmx", "/sources", "/gallery/partners-of-mission?mission=MMX"):
        r = get(live_server, path)
        assert r.status_code == 200, (path, r.text[-600:])
        for attr in re.findall(r'<(?:script|link|img|iframe)\b[^>]*>', r.text):
            assert not re.search(r'(src|href)="(https?:)?//', attr), (path, attr)
    for asset in ("vendor/yasqe.min.js", "vendor/yasqe.min.css", "vendor/cytoscape.min.js", "web.js", "web.css"):
        r = httpx.get(f"{live_server}/static/{asset}", timeout=30)
        assert r.status_code == 200, asset
        assert "fonts.googleapis" not in r.text and "sourceMappingURL" not in r.text
    licences = httpx.get(live_server + "/static/vendor/THIRD-PARTY-LICENSES.txt", timeout=30).text
    assert "@zazuko/yasqe" in licences and "cytoscape" in licences and "codemirror" in licences


# --- entity pages ---------------------------------------------------------------------------------

def test_entity_page_for_a_browser(live_server):
    r = get(live_server, "/id/mission/mmx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "<h1>Martian Moons eXploration</h1>" in page
    assert ">lead agency<" in page  # a property shown by its label
    assert 'href="/id/agency/jaxa"' in page and "Japan Aerospace Exploration Agency" in page
    assert 'href="/ontology#Mission"' in page  # its type, linked to the ontology page
    assert "Referenced by" in page  # inbound links
    assert re.search(r'<li id="source-1"><a href="/source/[a-z0-9-]+"', page)  # the documents behind facts
    assert re.search(r'<sup class="cite"><a href="#source-\d">', page)
    assert "JFY 2026" in page or "JFY" in page  # a fiscal-year date shown with its precision


def test_entity_page_links_wikidata_where_an_exact_match_exists(live_server):
    r = httpx.get(live_server + "/sparql", params={"query": """
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?x ?wd WHERE { ?x skos:exactMatch ?wd
          FILTER(STRSTARTS(STR(?x), "https://w3id.org/explore-kg/id/")
                 && STRSTARTS(STR(?wd), "http://www.wikidata.org/entity/")) } LIMIT 1"""},
        headers={"Accept": "application/sparql-results+json"}, timeout=30)
    rows = r.json()["results"]["bindings"]
    if not rows:
        pytest.skip("the data has no Wikidata links yet")
    entity, wikidata = rows[0]["x"]["value"], rows[0]["wd"]["value"]
    page = get(live_server, local_path(entity)).text
    assert f'class="external" href="{wikidata}"' in page and "Same as on Wikidata" in page


@pytest.mark.parametrize("accept,fmt", [
    ("text/turtle", "turtle"),
    ("application/ld+json", "json-ld"),
    ("application/n-triples", "nt"),
    ("application/rdf+xml", "xml"),
])
def test_same_iri_gives_rdf_to_rdf_clients(live_server, accept, fmt):
    r = get(live_server, "/id/mission/mmx", Accept=accept)
    assert r.status_code == 200 and r.headers["content-type"].startswith(accept)
    assert "accept" in r.headers.get("vary", "").lower()
    g = Graph().parse(data=r.text, format=fmt)
    assert (MMX, RDF.type, EKG.Mission) in g
    assert (MMX, EKG.leadAgency, ID["agency/jaxa"]) in g
    assert any(o == MMX for o in g.objects()), "inbound links are part of the description"


def test_format_parameter_and_w3id_path(live_server):
    r = get(live_server, "/explore-kg/id/mission/mmx?format=turtle")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    assert (MMX, RDF.type, EKG.Mission) in Graph().parse(data=r.text, format="turtle")
    assert "<h1>Martian Moons eXploration</h1>" in get(live_server, "/explore-kg/id/mission/mmx").text


def test_unknown_entity_is_404_in_every_format(live_server):
    r = get(live_server, "/id/mission/no-such-mission")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert "https://w3id.org/explore-kg/id/mission/no-such-mission" in r.text
    r = get(live_server, "/id/mission/no-such-mission", Accept="text/turtle")
    assert r.status_code == 404 and not r.headers["content-type"].startswith("text/turtle")
    assert get(live_server, "/vocab/agreement-type/no-such-concept").status_code == 404
    assert get(live_server, "/gallery/no-such-query").status_code == 404


def test_vocab_source_and_ontology_pages(live_server):
    r = httpx.get(live_server + "/sparql", params={"query": """
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        PREFIX ekg: <https://w3id.org/explore-kg/ontology#>
        SELECT ?c ?s WHERE { ?c a skos:Concept . ?s a ekg:SourceDocument } LIMIT 1"""},
        headers={"Accept": "application/sparql-results+json"}, timeout=30)
    row = r.json()["results"]["bindings"][0]
    concept = get(live_server, local_path(row["c"]["value"]))
    assert concept.status_code == 200 and "<h1>" in concept.text
    source = get(live_server, local_path(row["s"]["value"]))
    assert source.status_code == 200 and "Referenced by" in source.text  # the entities it describes
    onto = get(live_server, "/ontology")
    assert onto.status_code == 200
    assert 'id="Mission"' in onto.text and 'id="leadAgency"' in onto.text and 'id="japaneseFiscalYear"' in onto.text
    ttl = get(live_server, "/ontology", Accept="text/turtle")
    assert (EKG.Mission, RDF.type, URIRef("http://www.w3.org/2002/07/owl#Class")) in \
        Graph().parse(data=ttl.text, format="turtle")
    sources = get(live_server, "/sources")
    assert sources.status_code == 200 and sources.text.count('href="/source/') >= 3


# --- gallery --------------------------------------------------------------------------------------

def test_gallery_lists_every_saved_query(live_server):
    catalogue = httpx.get(live_server + "/queries", headers={"Accept": "application/json"}, timeout=30).json()
    names = [q["name"] for q in (catalogue["queries"] if isinstance(catalogue, dict) else catalogue)]
    page = get(live_server, "/gallery").text
    for name in names:
        assert f'href="/gallery/{name}"' in page


def test_gallery_form_offers_entities_of_the_parameter_class(live_server):
    page = get(live_server, "/gallery/partners-of-mission").text
    select = re.search(r'<select name="mission">(.*?)</select>', page, re.S)
    assert select, "a dropdown for a parameter whose values are missions"
    options = dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1)))
    assert "mission:mmx" in options and "mission:lupex" in options
    assert re.search(r'<option value="mission:mmx" selected>', select.group(1))  # the default, MMX
    assert "<table" not in page  # nothing is run before the form is submitted


def test_gallery_runs_the_query_with_the_submitted_value(live_server):
    r = get(live_server, "/gallery/partners-of-mission?mission=mission:lupex&run=1")
    assert r.status_code == 200
    assert 'href="/id/agency/isro"' in r.text  # ISRO is a partner of LUPEX
    assert 'id="result-json"' in r.text and "/queries/partners-of-mission?" in r.text  # downloads
    bad = get(live_server, "/gallery/partners-of-mission?mission=no-such-mission&run=1")
    assert bad.status_code == 400 and "no-such-mission" in bad.text


# --- data is escaped --------------------------------------------------------------------------------

EVIL = textwrap.dedent("""\
    @prefix ekg: <https://w3id.org/explore-kg/ontology#> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
    <https://w3id.org/explore-kg/source/evil> a ekg:SourceDocument ; rdfs:label "evil <b>source</b>" .
    <https://w3id.org/explore-kg/id/mission/evil> a ekg:Mission ;
        rdfs:label "<script>alert('label')</script>" ;
        ekg:description "\\"><img src=x onerror=alert(1)>" ;
        skos:exactMatch <javascript:alert(2)> .
    """)


def test_labels_from_data_cannot_inject_markup(tmp_path):
    from conftest import start_server

    path = tmp_path / "evil.ttl"
    path.write_text(EVIL, encoding="utf-8")
    Dataset().parse(data=EVIL, format="turtle")  # the fixture itself is valid Turtle
    with start_server(str(path)) as server:
        page = get(server.url, "/id/mission/evil").text
        results = get(server.url, "/sources").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;label&#39;)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'href="javascript:' not in page
    assert "<b>source</b>" not in page + results


# --- a browser opening /sparql?query= (issue 14), and SPARQL clients that must not notice -------------

from explore_kg.web import prefers_html_results  # noqa: E402
from explore_kg.web_gallery import SparqlResultsPage  # noqa: E402

FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
SPARQLWRAPPER_JSON = "application/sparql-results+json,application/json,text/javascript,application/javascript"


@pytest.mark.parametrize("accept,html", [
    (HTML["Accept"], True), (FIREFOX, True), ("text/html", True),
    ("*/*", False), ("", False), (None, False), ("text/*", False),
    ("text/html, application/sparql-results+json", False),  # a tie keeps the result format
    ("text/html;q=0.5, application/sparql-results+xml", False),
    ("application/sparql-results+json, text/html;q=0.9", False),
    (SPARQLWRAPPER_JSON, False), ("application/sparql-results+xml", False), ("text/turtle, */*;q=0.1", False),
    ("text/html;q=0, */*", False), ("text/html, text/*;q=0.9", True),
])
def test_html_results_only_when_text_html_is_explicitly_preferred(accept, html):
    """Issue 14: a browser's GET /sparql?query= downloaded XML; SPARQL clients must get their formats."""
    assert prefers_html_results(accept) is html


def test_the_html_results_check_reads_the_request_as_sent():
    def scope(qs: bytes, accept: bytes | None, method: str = "GET"):
        return {"method": method, "query_string": qs, "headers": [(b"accept", accept)] if accept else []}

    assert SparqlResultsPage.wanted(scope(b"query=ASK%7B%7D", HTML["Accept"].encode()))
    assert not SparqlResultsPage.wanted(scope(b"query=ASK%7B%7D", b"*/*"))
    assert not SparqlResultsPage.wanted(scope(b"query=ASK%7B%7D", HTML["Accept"].encode(), "POST"))
    assert SparqlResultsPage.wanted(scope(b"", HTML["Accept"].encode()))  # a browser at /sparql: the editor
    assert not SparqlResultsPage.wanted(scope(b"", b"text/turtle"))  # a client: the service description
    assert not SparqlResultsPage.wanted(scope(b"query=ASK%7B%7D&format=json", HTML["Accept"].encode()))
    assert SparqlResultsPage.wanted(scope(b"query=ASK%7B%7D&format=html", b"*/*"))


def test_a_browser_gets_the_editor_with_the_answer(live_server):
    query = "PREFIX ekg: <https://w3id.org/explore-kg/ontology#> SELECT ?m WHERE { ?m a ekg:Mission } ORDER BY ?m"
    r = httpx.get(live_server + "/sparql", params={"query": query}, headers=HTML, timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "SELECT ?m WHERE { ?m a ekg:Mission }" in r.text  # the query, in the editor
    assert 'href="/id/mission/mmx"' in r.text and 'id="result-json"' in r.text  # and its answer
    assert httpx.get(live_server + "/", params={"query": query}, headers=HTML, timeout=30).text.count(
        'href="/id/mission/mmx"') >= 1
    editor = httpx.get(live_server + "/sparql", headers=HTML, timeout=30)
    assert editor.status_code == 200 and 'id="query-form"' in editor.text
    described = httpx.get(live_server + "/sparql", headers={"Accept": "*/*"}, timeout=30)
    assert "sparql-service-description" in described.text
    bad = httpx.get(live_server + "/sparql", params={"query": "SELECT ?x WHERE { ?x ?p }"}, headers=HTML, timeout=30)
    assert bad.status_code == 400 and '<pre class="error">' in bad.text and "text/html" in bad.headers["content-type"]


@pytest.mark.parametrize("accept,media", [
    ("*/*", "application/sparql-results+json"),  # curl
    (None, "application/sparql-results+json"),
    (SPARQLWRAPPER_JSON, "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/html, application/sparql-results+json", "application/sparql-results+json"),
])
def test_sparql_clients_still_get_their_formats(live_server, accept, media):
    headers = {"Accept": accept} if accept else {}
    with httpx.Client(timeout=30) as client:
        request = client.build_request("GET", live_server + "/sparql", params={"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"},
                                       headers=headers)
        if accept is None:
            del request.headers["accept"]
        r = client.send(request)
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)


def test_sparqlwrapper_and_rdflib_are_unaffected(live_server):
    from rdflib.plugins.stores.sparqlstore import SPARQLStore
    from SPARQLWrapper import JSON, XML, SPARQLWrapper

    for fmt in (JSON, XML):
        sw = SPARQLWrapper(live_server + "/sparql")
        sw.setReturnFormat(fmt)
        sw.setQuery("ASK { ?s ?p ?o }")
        converted = sw.query().convert()
        assert converted["boolean"] is True if fmt == JSON else converted.documentElement is not None
    store = SPARQLStore(live_server + "/sparql")
    assert list(store.query("ASK { ?s ?p ?o }")) == [True]


# --- /docs and Content-Security-Policy on every HTML page -------------------------------------------

HTML_PAGES = ["/", "/gallery", "/gallery/partners-of-mission?mission=mission:mmx&run=1", "/id/agency/jaxa",
              "/sources", "/source/lupex-mission-overview", "/ontology", "/vocab/agreement-type/joint-statement",
              "/queries", "/queries/partners-of-mission?mission=MMX", "/docs",
              "/sparql?query=ASK%20%7B%7D", "/id/mission/no-such-mission", "/gallery/no-such-query"]


def test_docs_are_served_from_the_package(live_server):
    """Issue 14: /docs was blank offline (Swagger UI from a CDN)."""
    r = get(live_server, "/docs")
    assert r.status_code == 200
    assert '<script src="/static/vendor/swagger-ui-bundle.js">' in r.text and "/static/vendor/swagger-ui.css" in r.text
    assert "cdn" not in r.text.lower()
    for asset in ("vendor/swagger-ui-bundle.js", "vendor/swagger-ui.css", "docs.js"):
        assert httpx.get(f"{live_server}/static/{asset}", timeout=30).status_code == 200
    licences = httpx.get(live_server + "/static/vendor/THIRD-PARTY-LICENSES.txt", timeout=30).text
    assert "swagger-ui-dist 5.35.0" in licences and "Apache" in licences
    assert httpx.get(live_server + "/redoc", timeout=30).status_code == 404  # ReDoc, from a CDN, is gone


@pytest.mark.parametrize("path", HTML_PAGES)
def test_every_html_page_has_a_strict_csp(live_server, path):
    """Issue 15: a strict CSP on every HTML page, /queries included; no inline script or style."""
    r = get(live_server, path)
    assert r.headers["content-type"].startswith("text/html"), (path, r.status_code)
    csp = r.headers.get("content-security-policy", "")
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "object-src 'none'" in csp, path
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for script in re.findall(r"<script\b[^>]*>", r.text):
        assert ' src="/static/' in script or 'type="application/json"' in script, (path, script)
    assert "<style" not in r.text and " style=" not in r.text, path
    assert " on" not in " ".join(re.findall(r"<[a-z]+\b[^>]*\son[a-z]+=", r.text)), path  # no inline handlers
