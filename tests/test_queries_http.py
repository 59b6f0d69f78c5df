"""Saved queries over HTTP, against a real server (the shared ``live_server`` fixture) with httpx."""

from __future__ import annotations

import csv
import io

import pytest
from rdflib.query import Result

from explore_kg.saved_queries import load_saved_queries

LUPEX = "https://w3id.org/explore-kg/id/mission/lupex"


def test_catalogue_as_json_lists_every_query_with_its_parameters(http):
    response = http.get("/queries")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    queries = {q["name"]: q for q in response.json()["queries"]}
    assert set(queries) == {q.name for q in load_saved_queries()} and len(queries) >= 15
    mission = queries["partners-of-mission"]["parameters"][0]
    assert mission["name"] == "mission" and mission["type"] == "label"
    assert mission["classes"] == ["ekg:Mission", "ekg:Programme"]
    assert (mission["default"], mission["example"], mission["required"]) == ("MMX", "LUPEX", False)
    text = queries["search-entities"]["parameters"][0]
    assert text["datatype"] == "xsd:string" and text["required"] is True
    assert queries["planned-launches"]["url"] == "/queries/planned-launches"


def test_catalogue_as_html_for_a_browser(http):
    response = http.get("/queries", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.headers["content-type"].startswith("text/html")
    assert "Partners of a mission" in response.text and "/queries/search-entities?text=lunar" in response.text


def test_each_query_is_its_own_route_in_the_openapi_document(http):
    paths = http.get("/openapi.json").json()["paths"]
    for q in load_saved_queries():
        operation = paths[f"/queries/{q.name}"]["get"]
        assert operation["summary"] == q.title
        names = [p["name"] for p in operation.get("parameters", [])]
        assert names == [p.name for p in q.parameters] + ["_shape", "_format"], q.name
    mission = paths["/queries/partners-of-mission"]["get"]["parameters"][0]
    assert mission["schema"] == {"type": "string", "default": "MMX"} and mission["example"] == "LUPEX"
    assert mission["required"] is False
    text = paths["/queries/search-entities"]["get"]["parameters"][0]
    assert text["required"] is True and text["schema"] == {"type": "string"}
    year = paths["/queries/planned-launches"]["get"]["parameters"][0]
    assert year["schema"] == {"type": "integer"} and year["required"] is False


def test_datasette_json_shapes(http):
    arrays = http.get("/queries/partners-of-mission", params={"mission": "LUPEX"},
                      headers={"Accept": "application/json"}).json()
    assert arrays["columns"] == ["mission", "partner", "involvement", "role", "item", "commitment", "source"]
    assert arrays["parameters"] == {"mission": LUPEX} and arrays["query_ms"] >= 0
    assert [LUPEX, "https://w3id.org/explore-kg/id/agency/isro", "contributor",
            "https://w3id.org/explore-kg/vocab/contribution-role/lander",
            "https://w3id.org/explore-kg/id/spacecraft/lupex-lander",
            "https://w3id.org/explore-kg/vocab/commitment/possible",
            "https://w3id.org/explore-kg/source/lupex-mission-overview"] in arrays["rows"]
    objects = http.get("/queries/agency-cooperation-network", params={"_shape": "objects"}).json()
    assert objects["rows"][0] == {"agency1": "https://w3id.org/explore-kg/id/agency/esa",
                                  "agency2": "https://w3id.org/explore-kg/id/agency/jaxa",
                                  "sharedMissions": 11, "sharedAgreements": 1, "weight": 12}


def test_sparql_formats_are_negotiated_like_the_endpoint(http):
    srj = http.get("/queries/signatories")
    assert srj.headers["content-type"].startswith("application/sparql-results+json")
    people = {b["signatory"]["value"] for b in srj.json()["results"]["bindings"]}
    assert people == {"https://w3id.org/explore-kg/id/person/hiroshi-yamakawa",
                      "https://w3id.org/explore-kg/id/person/josef-aschbacher"}
    csv_text = http.get("/queries/planned-launches", params={"from_year": "2026"}, headers={"Accept": "text/csv"}).text
    table = list(csv.DictReader(io.StringIO(csv_text)))
    assert [(r["mission"].rsplit("/", 1)[1], r["plannedLaunch"], r["precision"]) for r in table] == [
        ("mmx", "2026", "Japanese fiscal year"), ("athena", "2037", "year")]
    xml = http.get("/queries/signatories", params={"_format": "xml"})
    assert xml.headers["content-type"].startswith("application/sparql-results+xml")
    refused = http.get("/queries/signatories", headers={"Accept": "image/png"})
    assert refused.status_code == 406


def test_html_result_shows_labels(http):
    page = http.get("/queries/partners-of-mission", params={"mission": "LUPEX"}, headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert ">ISRO</a>" in page.text and ">LUPEX lander</a>" in page.text and "mission = LUPEX" in page.text


def test_rdflib_parses_a_saved_query_result(http):
    body = http.get("/queries/source-disagreements", params={"output": "json"}).content
    bindings = list(Result.parse(io.BytesIO(body), format="json"))
    assert {(str(b["property"]).rsplit("#", 1)[1], str(b["value"])) for b in bindings} == {
        ("missionStatus", "https://w3id.org/explore-kg/vocab/mission-status/under-development"),
        ("missionStatus", "https://w3id.org/explore-kg/vocab/mission-status/planning"),
        ("plannedLaunchDate", "2025"), ("plannedLaunchDate", "2024"),
        ("agreementType", "https://w3id.org/explore-kg/vocab/agreement-type/joint-statement"),
        ("agreementType", "https://w3id.org/explore-kg/vocab/agreement-type/cooperation-agreement")}


@pytest.mark.parametrize(("path", "params", "parameter", "message"), [
    ("search-entities", {}, "text", "missing required parameter 'text'"),
    ("planned-launches", {"from_year": "soon"}, "from_year", "must be a xsd:integer"),
    ("partners-of-mission", {"mission": "Hayabusa9"}, "mission", "unknown label 'Hayabusa9'"),
    ("sources-of-facts", {"entity": "Kaguya"}, "entity", "ambiguous label 'Kaguya'"),
    ("sources-of-facts", {"entity": "LUPEX", "property": "not an iri"}, "property", "must be an IRI"),
    ("partners-of-mission", {"mission": "MMX", "colour": "blue"}, "colour", "has no parameter 'colour'"),
    ("partners-of-mission", {"mission": 'MMX" } UNION { ?s ?p ?o } #'}, "mission", "unknown label"),
])
def test_bad_parameters_are_400_naming_the_parameter(http, path, params, parameter, message):
    response = http.get(f"/queries/{path}", params=params)
    assert response.status_code == 400
    assert response.headers["x-parameter"] == parameter and message in response.text


def test_unknown_names_are_404_and_never_reach_files(http):
    for path in ("/queries/no-such-query", "/queries/..%2F..%2Fpyproject.toml", "/queries/%2E%2E%2Fsrc",
                 "/queries/partners-of-mission.rq"):
        response = http.get(path)
        assert response.status_code == 404, path
        assert "[project]" not in response.text and "SELECT" not in response.text


def test_the_server_keeps_serving_after_errors(http):
    http.get("/queries/search-entities")
    assert http.get("/queries/search-entities", params={"text": "Phobos"}, headers={"Accept": "application/json"}
                    ).json()["rows"][0][:2] == ["Phobos", "https://w3id.org/explore-kg/id/body/phobos"]


def test_cli_runs_saved_and_adhoc_queries_against_a_server(live_server):
    from typer.testing import CliRunner

    from explore_kg.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["query", "planned-launches", "--endpoint", live_server, "-p", "from_year=2026",
                              "-f", "csv"])
    assert out.exit_code == 0, out.output
    assert [line.split(",")[1].rsplit("/", 1)[1] for line in out.stdout.strip().splitlines()[1:]] == ["mmx", "athena"]
    table = runner.invoke(app, ["query", "signatories", "--endpoint", live_server], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "Josef Aschbacher" in table.stdout and "Tsukuba" in table.stdout
    bad = runner.invoke(app, ["query", "search-entities", "--endpoint", live_server])
    assert bad.exit_code == 2 and "missing required parameter 'text'" in bad.output
    adhoc = runner.invoke(app, ["sparql", "--endpoint", live_server, "-f", "tsv",
                                "SELECT ?n WHERE { <https://w3id.org/explore-kg/id/agency/esa> "
                                "<https://w3id.org/explore-kg/ontology#acronym> ?n } LIMIT 1"])
    assert adhoc.exit_code == 0 and adhoc.stdout.split() == ["?n", '"ESA"']
