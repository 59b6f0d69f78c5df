"""The writable server over the shipped graph: tokens, the validation gate, atomic refusal, the change log.

One real ``serve --writable`` (shipped graph, shipped shapes) for the module; each invalid write is
refused whole with the validation report and leaves the store as it was.
"""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from conftest import start_server

from explore_kg.namespaces import sparql_prefixes

TOKEN = "gate-test-token-0123456789"
AUTH = {"authorization": f"Bearer {TOKEN}"}
UPDATE = {**AUTH, "content-type": "application/sparql-update"}
SOURCE = "https://w3id.org/explore-kg/source/esa-jaxa-cooperation-news"
PREFIXES = sparql_prefixes("ekg", "rdfs", "xsd", "agreement", "agency", "agreementtype")
ALL_QUADS = "SELECT ?g ?s ?p ?o WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("write-gate")
    (tmp / "tokens").write_text(f"# curators\ncurator:{TOKEN}\n")
    with start_server("--writable", "--store-dir", str(tmp / "store"), "--token-file", str(tmp / "tokens")) as s:
        with httpx.Client(base_url=s.url, timeout=60) as client:
            yield client


def agreement(name: str, *, parties: str = "agency:esa, agency:jaxa", date: str = "ekg:dateNotGiven true",
              graph: str | None = SOURCE) -> str:
    body = (f"agreement:{name} a ekg:Agreement ; rdfs:label \"Agreement {name}\"@en ; "
            f"ekg:agreementType agreementtype:letter-of-intent ; ekg:party {parties} ; {date} .")
    return PREFIXES + (f"INSERT DATA {{ GRAPH <{graph}> {{ {body} }} }}" if graph else f"INSERT DATA {{ {body} }}")


def dump(client: httpx.Client) -> list:
    r = client.post("/sparql", content=ALL_QUADS, headers={"content-type": "application/sparql-query",
                                                          "accept": "application/n-triples, text/csv"})
    assert r.status_code == 200
    return sorted(r.text.splitlines())


def test_a_write_needs_a_token(server):
    r = server.post("/update", content=agreement("no-token"), headers={"content-type": "application/sparql-update"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    r = server.post("/update", content=agreement("bad-token"),
                    headers={"content-type": "application/sparql-update", "authorization": "Bearer not-the-token"})
    assert r.status_code == 403
    r = server.post(f"/update?access_token={TOKEN}", content=agreement("url-token"),
                    headers={"content-type": "application/sparql-update"})
    assert r.status_code == 400
    r = server.put(f"/store?graph={SOURCE}", content=b"", headers={"content-type": "text/turtle"})
    assert r.status_code == 401


def test_cross_origin_writes_are_never_allowed(server):
    r = server.options("/update", headers={"origin": "https://evil.example", "access-control-request-method": "POST",
                                           "access-control-request-headers": "authorization"})
    assert r.status_code == 403
    assert "access-control-allow-methods" not in r.headers


@pytest.mark.parametrize("update, rule", [
    (agreement("one-party", parties="agency:esa"), "agreement-parties-too-few"),
    (agreement("bad-date", date='ekg:signingDate "yesterday"'), "date-plain-string"),
    (agreement("no-source", graph=None), "source-missing"),
])
def test_an_invalid_write_is_refused_whole(server, update, rule):
    before = dump(server)
    changes = server.get("/changes").json()["changes"]
    r = server.post("/update", content=update, headers=UPDATE)
    assert r.status_code == 422, r.text
    report = r.json()
    assert report["conforms"] is False and rule in {x["rule"] for x in report["results"]}
    assert all(x["message"] and x["focus"] for x in report["results"])
    assert dump(server) == before
    assert server.get("/changes").json()["changes"] == changes
    text = server.post("/update", content=update, headers={**UPDATE, "accept": "text/plain"})
    assert text.status_code == 422 and rule in text.text and text.headers["content-type"].startswith("text/plain")


def test_a_valid_write_is_committed_logged_and_visible(server):
    ask = PREFIXES + "ASK { GRAPH ?g { agreement:accepted a ekg:Agreement } }"
    query = {"content-type": "application/sparql-query", "accept": "application/sparql-results+json"}
    first = server.post("/sparql", content=ask, headers=query)
    assert first.json()["boolean"] is False
    r = server.post("/update", content=agreement("accepted"), headers={**UPDATE, "x-change-message": "Add a test agreement"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "committed"
    after = server.post("/sparql", content=ask, headers=query)
    assert after.json()["boolean"] is True
    assert after.headers["etag"] != first.headers["etag"]
    # the default graph stays the merge of the named graphs
    merged = server.post("/sparql", content=PREFIXES + "ASK { agreement:accepted a ekg:Agreement }", headers=query)
    assert merged.json()["boolean"] is True
    change = server.get("/changes").json()["changes"][0]
    assert change["who"] == "curator" and change["message"] == "Add a test agreement" and SOURCE in change["sources"]
    assert "<feed" in server.get("/changes?format=atom").text
    assert "<table>" in server.get("/changes", headers={"accept": "text/html"}).text


def test_a_turtle_body_sent_by_gsp_is_reported_by_line(server):
    body = PREFIXES.replace("PREFIX ", "@prefix ").replace(">\n", "> .\n") + """
agreement:gsp a ekg:Agreement ;
    rdfs:label "GSP agreement"@en ;
    ekg:agreementType agreementtype:letter-of-intent ;
    ekg:party agency:esa ;
    ekg:dateNotGiven true .
"""
    before = dump(server)
    r = server.post(f"/store?graph={SOURCE}", content=body, headers={**AUTH, "content-type": "text/turtle"})
    assert r.status_code == 422, r.text
    result = next(x for x in r.json()["results"] if x["rule"] == "agreement-parties-too-few")
    assert result["file"] == "request body" and result["line"] == 11
    assert dump(server) == before


def test_gsp_round_trip(server):
    graph = "https://w3id.org/explore-kg/source/esa-jaxa-cooperation-news"
    r = server.get(f"/store?graph={graph}", headers={"accept": "application/n-triples"})
    assert r.status_code == 200 and "<https://w3id.org/explore-kg/id/agreement/" in r.text
    assert server.head(f"/store?graph={graph}").status_code == 200
    assert server.get("/store?graph=https://example.org/none").status_code == 404


def test_sparql_still_refuses_updates(server):
    r = server.post("/sparql", content=agreement("via-sparql"), headers=UPDATE)
    assert 400 <= r.status_code < 500


def test_writable_without_a_token_file_is_a_usage_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "explore_kg", "serve", "--port", "1", "--writable", "--store-dir",
                           str(tmp_path / "s")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--token-file" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_editor_offers_writing_only_when_writable(server, live_server):
    page = server.get("/", headers={"accept": "text/html"}).text
    assert 'id="write"' in page and "/static/write.js" in page and TOKEN not in page
    assert server.get("/static/write.js").status_code == 200
    read_only = httpx.get(live_server + "/", headers={"accept": "text/html"}, timeout=60).text
    assert 'id="write"' not in read_only


def test_a_violation_through_an_untouched_neighbour_is_caught(server):
    # Only the new agreement changes; that mission:lupex is a mission, not an organisation, is read from
    # the store's description of the neighbour the write points at (the gate validates the neighbourhood).
    update = agreement("mission-party", parties="agency:esa, <https://w3id.org/explore-kg/id/mission/lupex>")
    before = dump(server)
    r = server.post("/update", content=update, headers=UPDATE)
    assert r.status_code == 422, r.text
    rules = {x["rule"] for x in r.json()["results"]}
    assert {"party-wrong-class", "owl-inconsistency"} <= rules
    assert dump(server) == before


ASK = {"content-type": "application/sparql-query", "accept": "application/sparql-results+json"}


def test_a_written_date_gets_its_claim_and_source_as_the_loader_gives_them(server):
    r = server.post("/update", content=agreement("dated", date='ekg:signingDate "2024-05-01"^^xsd:date'), headers=UPDATE)
    assert r.status_code == 200, r.text
    ask = PREFIXES + f"""ASK {{ GRAPH <{SOURCE}> {{
      agreement:dated ekg:claim ?c ; ekg:statedIn <{SOURCE}> .
      ?c a ekg:Claim ; ekg:claimSubject agreement:dated ; ekg:claimProperty ekg:signingDate ;
         ekg:claimValue "2024-05-01"^^xsd:date ; ekg:earliestDate "2024-05-01"^^xsd:date ;
         ekg:latestDate "2024-05-01"^^xsd:date ; ekg:datePrecision ?precision ; ekg:statedIn <{SOURCE}> }} }}"""
    assert server.post("/sparql", content=ask, headers=ASK).json()["boolean"] is True
    # removing the date removes the claim the loader would have minted for it
    remove = PREFIXES + f'DELETE DATA {{ GRAPH <{SOURCE}> {{ agreement:dated ekg:signingDate "2024-05-01"^^xsd:date }} }} ;' \
        + f' INSERT DATA {{ GRAPH <{SOURCE}> {{ agreement:dated ekg:dateNotGiven true }} }}'
    r = server.post("/update", content=remove, headers=UPDATE)
    assert r.status_code == 200, r.text
    gone = PREFIXES + f"ASK {{ GRAPH <{SOURCE}> {{ ?c ekg:claimSubject agreement:dated }} }}"
    assert server.post("/sparql", content=gone, headers=ASK).json()["boolean"] is False


def test_entity_pages_show_each_fact_s_change_history(server):
    r = server.post("/update", content=agreement("historic"), headers={**UPDATE, "x-change-message": "Add a historic one"})
    assert r.status_code == 200, r.text
    seq = r.json()["seq"]
    page = server.get("/id/agreement/historic", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "Change history" in page.text and "Add a historic one" in page.text and "curator" in page.text
    assert f'href="/changes/{seq}"' in page.text and "added" in page.text
    entry = server.get(f"/changes/{seq}")
    assert entry.status_code == 200 and entry.json()["who"] == "curator" and entry.json()["seq"] == seq
    assert "<h1>Change" in server.get(f"/changes/{seq}", headers={"accept": "text/html"}).text
    assert server.get("/changes/99999").status_code == 404
    # an entity nobody wrote to has no history section
    untouched = server.get("/id/agency/esa", headers={"accept": "text/html"})
    assert untouched.status_code == 200 and "Change history" not in untouched.text


def test_validate_checks_a_body_against_the_graph_served(server, live_server):
    # an agency that only the live store holds: the shipped graph does not describe it
    new_agency = PREFIXES + f"""INSERT DATA {{ GRAPH <{SOURCE}> {{ agency:written-agency a ekg:SpaceAgency ;
      rdfs:label "Written Agency"@en }} }}"""
    r = server.post("/update", content=new_agency, headers=UPDATE)
    assert r.status_code == 200, r.text
    body = PREFIXES.replace("PREFIX ", "@prefix ").replace(">\n", "> .\n") + """
agreement:validated a ekg:Agreement ;
    rdfs:label "Validated agreement"@en ;
    ekg:agreementType agreementtype:letter-of-intent ;
    ekg:party agency:esa, agency:written-agency ;
    ekg:dateNotGiven true .
"""
    dangling = "https://w3id.org/explore-kg/id/agency/written-agency"
    served = server.post("/validate", content=body, headers={"content-type": "text/turtle"}).json()
    assert served["files"] == ["request body"]
    assert not [x for x in served["results"] if x["rule"] == "reference-dangling"], served
    assert "source-missing" in {x["rule"] for x in served["results"]}  # the body names no source document
    shipped = httpx.post(live_server + "/validate", content=body, headers={"content-type": "text/turtle"},
                         timeout=120).json()
    assert any(x["rule"] == "reference-dangling" and dangling in (x.get("value") or "") for x in shipped["results"])
    before = dump(server)
    one_party = body.replace("agency:esa, agency:written-agency", "agency:written-agency")
    report = server.post("/validate", content=one_party, headers={"content-type": "text/turtle"}).json()
    parties = next(x for x in report["results"] if x["rule"] == "agreement-parties-too-few")
    assert parties["file"] == "request body" and parties["line"] == 11
    assert dump(server) == before  # validating writes nothing


def test_an_empty_graph_created_and_dropped_is_seen_by_every_reader(server):
    graph = "https://example.org/empty-graph"
    listed = "SELECT ?g WHERE { GRAPH ?g { } }"
    csv = {"content-type": "application/sparql-query", "accept": "text/csv"}
    r = server.put(f"/store?graph={graph}", content=b"", headers={**AUTH, "content-type": "text/turtle"})
    assert r.status_code == 201, r.text
    assert server.get(f"/store?graph={graph}", headers={"accept": "application/n-triples"}).status_code == 200
    assert graph in server.post("/sparql", content=listed, headers=csv).text  # the query workers follow the log
    r = server.delete(f"/store?graph={graph}", headers=AUTH)
    assert r.status_code in (200, 204), r.text
    assert server.get(f"/store?graph={graph}").status_code == 404
    assert graph not in server.post("/sparql", content=listed, headers=csv).text
