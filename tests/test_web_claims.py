"""Entity pages over a small fixture (tests/fixtures/web/claims.trig): claims with their qualifier,
precision, bounds and source (the spec's ekg:Claim), facts read from the entity's side, and IRIs from
the data whose scheme is not http(s), which must never become links (issue 15)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, URIRef

FIXTURE = Path(__file__).parent / "fixtures" / "web" / "claims.trig"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
NOT_HTTP = ("javascript:", "data:", "vbscript:")


@pytest.fixture(scope="module")
def fixture_server():
    from conftest import start_server

    with start_server(str(FIXTURE)) as server:
        yield server.url


def page(base: str, path: str) -> str:
    r = httpx.get(base + path, headers=HTML, timeout=30)
    assert r.status_code == 200, (path, r.status_code, r.text[-500:])
    return r.text


def facts_row(html: str, label: str) -> str:
    m = re.search(rf'<th scope="row"[^>]*>(?:(?!</th>).)*>{re.escape(label)}</(?:a|span)></th>\s*<td>(.*?)</td>',
                  html, re.S)
    assert m, f"no row {label!r}"
    return m.group(1)


def test_each_claim_shows_its_value_qualifier_precision_and_source(fixture_server):
    html = page(fixture_server, "/id/mission/lupex")
    row = facts_row(html, "planned launch date")
    values = re.findall(r"<li>(.*?)</li>", row, re.S)
    assert len(values) == 2  # two sources, two values: both kept
    overview = next(v for v in values if ">2024<" in v)
    assert '<span class="qualifier"' in overview and ">by<" in overview
    assert "2024-01-01 to 2024-12-31" in overview
    assert 'per <a href="/source/lupex-mission-overview"' in overview and "LUPEX Mission (overview article)" in overview
    assert overview.count("LUPEX Mission (overview article)") == 1  # each source once
    assert 'href="/id/claim/lupex-planned-launch-lupex-overview"' in overview
    jaxa = next(v for v in values if "JFY 2025" in v)
    assert "2025-04-01 to 2026-03-31" in jaxa and "JAXA: About International Space Exploration" in jaxa
    assert 'class="qualifier"' not in jaxa
    assert ">claim<" not in facts_row(html, "lead agency")
    assert not re.search(r'<th scope="row"[^>]*><a[^>]*>claim</a>', html)  # ekg:claim is not a row of its own


def test_a_curation_claim_shows_its_basis_and_note(fixture_server):
    row = facts_row(page(fixture_server, "/id/agency/jaxa"), "skos:exactMatch")
    assert "basis:" in row and "identifier match" in row and "Label and description compared" in row
    assert 'href="https://www.wikidata.org/wiki/Q193181"' in row


def test_a_claim_page_exists(fixture_server):
    html = page(fixture_server, "/id/claim/lupex-planned-launch-lupex-overview")
    assert "2024-12-31" in html and 'href="/id/mission/lupex"' in html


def test_facts_naming_the_entity_are_read_from_its_side(fixture_server):
    """Issue 14: JAXA's page said "parent organisation: ISAS", the wrong way round."""
    jaxa = page(fixture_server, "/id/agency/jaxa")
    inbound = jaxa.split("<h2>Referenced by</h2>", 1)[1]
    assert "Institute of Space and Astronautical Science" in facts_row(inbound, "unit")
    assert ">parent organisation<" not in inbound
    assert "Lunar Polar Exploration" in facts_row(inbound, "leads")
    isas = page(fixture_server, "/id/agency/isas")
    assert "Japan Aerospace Exploration Agency" in facts_row(isas, "parent organisation")


def test_an_iri_that_is_not_http_is_never_a_link(fixture_server):
    """Issue 15: a javascript: (or any non-http(s)) IRI from served data is never a live link."""
    pages = [page(fixture_server, p) for p in ("/id/mission/lupex", "/id/agency/isas")]
    query = "SELECT ?s ?o WHERE { ?s ?p ?o FILTER(isIRI(?o) && !STRSTARTS(STR(?o), 'http')) }"
    pages.append(httpx.get(fixture_server + "/sparql", params={"query": query}, headers=HTML, timeout=30).text)
    pages.append(page(fixture_server, "/queries/search-entities?text=Lunar"))
    for html in pages:
        for scheme in NOT_HTTP:
            assert not re.search(rf'(href|src|action)="\s*{scheme}', html, re.I), scheme
    assert "javascript:alert(1)" in pages[0]  # shown as text, not dropped
    assert "vbscript:msgbox(3)" in pages[1]
    assert "javascript:alert(1)" in pages[2]  # the editor's table, rendered by the server


def test_rdf_descriptions_read_like_the_exports(fixture_server):
    """Issue 14: dereferenced JSON-LD had no @context and Turtle no prefixes; the same writer as export now."""
    from explore_kg.export import WRITE_PREFIXES

    ttl = httpx.get(fixture_server + "/id/mission/lupex", headers={"Accept": "text/turtle"}, timeout=30).text
    declared = dict(re.findall(r"@prefix (\w+): <([^>]+)> \.", ttl))
    assert declared and all(WRITE_PREFIXES[p] == ns for p, ns in declared.items())
    assert "mission:lupex" in ttl
    doc = httpx.get(fixture_server + "/id/mission/lupex", headers={"Accept": "application/ld+json"}, timeout=30).json()
    assert isinstance(doc["@context"], dict) and doc["@context"]["mission"] == WRITE_PREFIXES["mission"]
    assert all(WRITE_PREFIXES[p] == ns for p, ns in doc["@context"].items())
    g = Graph().parse(data=json.dumps(doc), format="json-ld")
    assert (URIRef("https://w3id.org/explore-kg/id/mission/lupex"), None, None) in g
    assert len(g) == len(Graph().parse(data=ttl, format="turtle"))


def test_entailed_triples_are_folded_away_and_never_repeat_a_source(fixture_server):
    """The loader's entailed graph (sub-classes, sub-properties, inverses) must not clutter a page: what a
    source states is shown once, with that source; what only the ontology entails is shown apart."""
    html = page(fixture_server, "/id/mission/lupex")
    facts, rest = html.split("<h2>Facts</h2>", 1)[1].split('<details class="derived">', 1)
    lead = facts_row(facts, "lead agency")
    assert lead.count("Japan Aerospace Exploration Agency") == 1 and lead.count('href="#source-') == 1
    precursor = facts_row(facts, "builds on precursor")  # "SLIM precursor of LUPEX", read from LUPEX's side
    assert "Smart Lander for Investigating the Moon" in precursor and precursor.count('href="#source-') == 1
    assert "entailed by the ontology" not in facts
    assert "Referenced by" not in facts  # the inverse joined the facts: nothing left to list as inbound
    derived = rest.split("</details>", 1)[0]
    assert "Japan Aerospace Exploration Agency" in facts_row(derived, "participant")
    assert "prov:Activity" in derived or "Activity" in derived
    assert "builds on precursor" not in derived and "lead agency" not in derived
    kicker = re.search(r'<p class="kicker">(.*?)</p>', html, re.S).group(1)
    assert "Activity" not in kicker
    slim = page(fixture_server, "/id/mission/slim")
    assert "Lunar Polar Exploration" in facts_row(slim, "precursor of") and '<details class="derived">' not in slim
