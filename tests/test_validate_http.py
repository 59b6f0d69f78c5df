"""POST /validate on the read-only server: a Turtle body checked as ``explore-kg validate`` checks a file."""

from __future__ import annotations

BODY = """@prefix ekg: <https://w3id.org/explore-kg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix agreement: <https://w3id.org/explore-kg/id/agreement/> .
@prefix agency: <https://w3id.org/explore-kg/id/agency/> .

agreement:validate-test a ekg:Agreement ;
    rdfs:label "Validate test"@en ;
    ekg:party agency:esa .
"""


def test_validate_reports_the_body_lines(http):
    r = http.post("/validate", content=BODY, headers={"content-type": "text/turtle"})
    assert r.status_code == 200
    report = r.json()
    assert report["conforms"] is False and report["files"] == ["request body"]
    parties = next(x for x in report["results"] if x["rule"] == "agreement-parties-too-few")
    assert parties["file"] == "request body" and parties["line"] == 8


def test_validate_text_and_syntax_error(http):
    r = http.post("/validate", content=BODY, headers={"content-type": "text/turtle", "accept": "text/plain"})
    assert r.headers["content-type"].startswith("text/plain") and "request body:8:" in r.text
    bad = http.post("/validate", content=BODY.replace("ekg:party agency:esa .", "ekg:party agency:esa"),
                    headers={"content-type": "text/turtle"})
    report = bad.json()
    assert report["status"] == 2 and report["results"][0]["rule"] == "syntax"
    assert report["results"][0]["file"] == "request body"


def test_validate_refuses_other_media_types(http):
    assert http.post("/validate", content="{}", headers={"content-type": "application/json"}).status_code == 415


def test_validate_writes_nothing(http):
    ask = "ASK { <https://w3id.org/explore-kg/id/agreement/validate-test> ?p ?o }"
    r = http.post("/sparql", content=ask, headers={"content-type": "application/sparql-query",
                                                  "accept": "application/sparql-results+json"})
    assert r.json()["boolean"] is False


def test_validate_on_a_server_of_other_files_uses_its_shapes_and_data(tmp_path):
    import httpx
    from conftest import start_server

    (tmp_path / "data.ttl").write_text("@prefix ex: <http://example.org/> .\nex:known a ex:Thing ; ex:name \"Known\" .\n")
    (tmp_path / "shapes.ttl").write_text("""@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:ThingShape a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:message "A thing needs a name" ] ;
    sh:property [ sh:path ex:likes ; sh:class ex:Thing ; sh:message "A thing likes things" ] .
""")
    good = "@prefix ex: <http://example.org/> .\nex:new a ex:Thing ; ex:name \"New\" ; ex:likes ex:known .\n"
    # ex:known is a thing only in the served data: the shipped graph knows nothing of it
    bad = "@prefix ex: <http://example.org/> .\n\nex:nameless a ex:Thing ;\n    ex:likes ex:unknown .\n"
    with start_server("--shapes", str(tmp_path / "shapes.ttl"), str(tmp_path / "data.ttl")) as server:
        ok = httpx.post(server.url + "/validate", content=good, headers={"content-type": "text/turtle"}, timeout=60)
        assert ok.status_code == 200 and ok.json()["conforms"] is True, ok.text
        report = httpx.post(server.url + "/validate", content=bad, headers={"content-type": "text/turtle"},
                            timeout=60).json()
        messages = {x["message"]: x for x in report["results"]}
        assert report["conforms"] is False and {"A thing needs a name", "A thing likes things"} <= set(messages)
        assert messages["A thing likes things"]["file"] == "request body" and messages["A thing likes things"]["line"] == 4
