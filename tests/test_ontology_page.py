"""The ontology IRI dereferenced (issue 13): documentation generated from the ontology for a browser,
the ontology graph for an RDF client (Accept or ?format=), the version IRI answering the same, other
versions a clear 404, and the diagram."""

from __future__ import annotations

import re

import httpx
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF

from explore_kg import ontology_docs
from explore_kg.diagram import ontology_graph
from explore_kg.namespaces import EKG, ONTOLOGY_IRI

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
FORMATS = {"turtle": ("text/turtle", "turtle"), "jsonld": ("application/ld+json", "json-ld"),
           "rdfxml": ("application/rdf+xml", "xml"), "ntriples": ("application/n-triples", "nt")}


def get(base: str, path: str, **headers) -> httpx.Response:
    return httpx.get(base + path, headers=headers or BROWSER, timeout=60)


def test_documentation_is_generated_from_the_ontology():
    context = ontology_docs.document(ontology_graph())
    sections = {s["anchor"]: {t.anchor: t for t in s["terms"]} for s in context["sections"]}
    mission = sections["classes"]["Mission"]
    assert mission.definition.startswith("A space mission")
    assert ("sub-class of", "schema.org") in {(w, lk.vocabulary) for w, lk in mission.alignment}
    lead = sections["object-properties"]["leadAgency"]
    assert [lk.href for lk in lead.supers] == ["#participant"] and [lk.href for lk in lead.range] == ["#Organisation"]
    assert "japaneseFiscalYear" in sections["datatypes"]
    assert context["about"]["version_iri"] == ONTOLOGY_IRI + "/0.2.0"
    assert dict(context["alignment"]).keys() >= {"schema.org", "PROV-O", "W3C ORG", "DCTERMS", "SKOS"}


def test_browser_gets_html_with_an_anchor_per_term(live_server):
    for path in ("/ontology", "/explore-kg/ontology", "/ontology?format=html"):
        r = get(live_server, path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
    page = r.text
    for anchor in ("Mission", "leadAgency", "japaneseFiscalYear", "claimValue", "singleValuedPerSource"):
        assert f'id="{anchor}"' in page, anchor
    mission = page[page.index('id="Mission"'):]
    mission = mission[:mission.index("</section>")]
    assert "A space mission" in mission and "schema:Project" in mission and "PROV-O" in mission
    assert re.search(r'href="/id/mission/[a-z0-9-]+"', mission), "examples from the data link to entity pages"
    assert 'src="/ontology/diagram.svg"' in page and "creativecommons.org/licenses/by/4.0" in page
    svg = get(live_server, "/ontology/diagram.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml") and "<svg" in svg.text


@pytest.mark.parametrize("name", FORMATS)
def test_rdf_clients_get_the_ontology(live_server, name):
    media, rdflib_format = FORMATS[name]
    for path, headers in (("/ontology", {"Accept": media}), (f"/ontology?format={name}", {"Accept": "*/*"}),
                          ("/ontology/0.2.0", {"Accept": media})):
        r = get(live_server, path, **headers)
        assert r.status_code == 200 and r.headers["content-type"].startswith(media), (path, r.headers)
        graph = Graph().parse(data=r.text, format=rdflib_format)
        assert (URIRef(ONTOLOGY_IRI), OWL.versionIRI, URIRef(ONTOLOGY_IRI + "/0.2.0")) in graph
        assert (EKG.Mission, RDF.type, OWL.Class) in graph


def test_other_versions_are_a_clear_404(live_server):
    r = get(live_server, "/ontology/0.1.0")
    assert r.status_code == 404 and "Ontology version not found" in r.text and "0.2.0" in r.text
    r = get(live_server, "/ontology/0.1.0", Accept="text/turtle")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/plain") and "0.2.0" in r.text
