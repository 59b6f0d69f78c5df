"""The obvious query is the right one (issue 9): RDFS-level entailments served by default.

Real stores, a real server and the real command line; the fixture (tests/fixtures/claims/entailment.ttl)
declares its own sub-class, sub-property, inverse and equivalence axioms.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from conftest import start_server

import explore_kg
from explore_kg.entailment import ENTAILED_GRAPH, materialise
from explore_kg.export import Exporter
from explore_kg.loading import load, shipped_ontology_files

FIXTURE = Path(__file__).parent / "fixtures" / "claims" / "entailment.ttl"
PREFIXES = """PREFIX ekg: <https://w3id.org/explore-kg/ontology#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX mission: <https://w3id.org/explore-kg/id/mission/>
PREFIX agency: <https://w3id.org/explore-kg/id/agency/>
PREFIX t: <https://example.org/entailment-test#>
"""
ENTAILED = f"<{ENTAILED_GRAPH}>"
# MMX's lead agency is JAXA; no document states JAXA as a participant of MMX in so many words
LEAD_AGENCIES = PREFIXES + "SELECT ?a WHERE { mission:mmx ekg:leadAgency ?a ; ekg:participant ?a }"


def rows(store: ox.Store, sparql: str) -> list[tuple]:
    return sorted(tuple(v.value for v in row) for row in store.query(PREFIXES + sparql))


def ask(store: ox.Store, sparql: str) -> bool:
    return bool(store.query(PREFIXES + sparql))


@pytest.fixture(scope="module")
def shipped() -> ox.Store:
    loaded = load()
    store = loaded.to_store(entailed=True)
    assert loaded.entailed and loaded.entailed > 0
    return store


@pytest.fixture(scope="module")
def fixture_store() -> ox.Store:
    return load([FIXTURE], shipped=False, ontology_paths=shipped_ontology_files()).to_store(entailed=True)


# --- what is entailed -----------------------------------------------------------------------------

def test_participant_finds_lead_agencies(shipped):
    """ekg:leadAgency rdfs:subPropertyOf ekg:participant: the plain query gets the lead agencies too."""
    lupex = rows(shipped, "SELECT ?a WHERE { mission:mmx ekg:participant ?a }")
    assert ("https://w3id.org/explore-kg/id/agency/jaxa",) in lupex
    asserted = load().to_store()
    assert ("https://w3id.org/explore-kg/id/agency/jaxa",) not in rows(
        asserted, "SELECT ?a WHERE { mission:mmx ekg:participant ?a }")
    assert len(rows(shipped, "SELECT ?m ?a WHERE { ?m ekg:leadAgency ?a ; ekg:participant ?a }")) == len(
        rows(shipped, "SELECT ?m ?a WHERE { ?m ekg:leadAgency ?a }"))


def test_type_finds_every_subclass(shipped, fixture_store):
    rover = ("https://w3id.org/explore-kg/id/spacecraft/lupex-rover",)
    assert rover in rows(shipped, "SELECT ?x WHERE { ?x a ekg:Spacecraft }")
    missions = rows(fixture_store, "SELECT ?x WHERE { ?x a ekg:Mission }")
    assert missions == [(f"https://w3id.org/explore-kg/id/mission/fixture-{s}",) for s in ("lander", "landing", "older")]
    # the sub-class closure itself is there for `?c rdfs:subClassOf ekg:Mission`
    assert ask(fixture_store, "ASK { t:LunarLanderMission rdfs:subClassOf ekg:Mission }")
    assert ask(fixture_store, "ASK { t:MoonLanding rdfs:subClassOf ekg:Mission }")


def test_inverse_then_super_property_reaches_a_fixpoint(fixture_store):
    """A precursorOf B gives B buildsOnPrecursor A (inverse), then B buildsOn A (its super-property)."""
    assert rows(fixture_store, "SELECT ?b ?a WHERE { ?b t:buildsOn ?a }") == [
        ("https://w3id.org/explore-kg/id/mission/fixture-lander", "https://w3id.org/explore-kg/id/mission/fixture-older")]
    assert ask(fixture_store, "ASK { mission:fixture-lander t:buildsOnPrecursor mission:fixture-older }")
    assert ask(fixture_store, "ASK { t:precursorOf owl:inverseOf t:buildsOnPrecursor }")


def test_equivalent_property_and_sub_property_chain(fixture_store):
    """t:sameAsLeads = t:leads, t:leads below ekg:leadAgency below ekg:participant."""
    for prop in ("t:leads", "ekg:leadAgency", "ekg:participant"):
        assert ask(fixture_store, f"ASK {{ mission:fixture-lander {prop} agency:fixture-agency }}"), prop


def test_no_tautologies(shipped):
    assert not ask(shipped, "ASK { ?c rdfs:subClassOf ?c }")
    assert not ask(shipped, "ASK { ?p rdfs:subPropertyOf ?p }")
    assert not ask(shipped, "ASK { ?x a owl:Thing }")
    assert not ask(shipped, "ASK { ?x a rdfs:Resource }")
    assert not ask(shipped, f"ASK {{ GRAPH {ENTAILED} {{ ?s ?p ?o . FILTER(isBlank(?o) || isLiteral(?s)) }} }}")


def test_domain_and_range_type_nothing(fixture_store):
    """rdfs:domain / rdfs:range would type every subject and value, right or wrong: not entailed."""
    assert not ask(fixture_store, "ASK { ?x a t:Leader }")
    assert not ask(fixture_store, "ASK { ?x a t:Led }")


# --- kept apart -------------------------------------------------------------------------------------

def test_source_graphs_hold_only_asserted_triples(shipped):
    """GRAPH <source> { ... } never sees an entailed triple: the entailed graph shares none with any other."""
    assert not ask(shipped, f"ASK {{ GRAPH {ENTAILED} {{ ?s ?p ?o }} GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != {ENTAILED}) }}")
    source = "<https://w3id.org/explore-kg/source/jaxa-mmx-international-collaboration>"
    assert not ask(shipped, f"ASK {{ GRAPH {source} {{ mission:mmx ekg:participant agency:jaxa }} }}")
    assert ask(shipped, "ASK { mission:mmx ekg:participant agency:jaxa }")


def test_default_graph_is_the_merge_plus_the_entailed_graph(shipped):
    """No duplicated solutions: the default graph is a set, the asserted merge plus the entailed graph."""
    def count(store, sparql):
        return int(next(iter(store.query(sparql)))["n"].value)

    asserted = load().to_store()
    merge = count(asserted, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    entailed = count(shipped, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {ENTAILED} {{ ?s ?p ?o }} }}")
    assert count(shipped, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == merge + entailed
    answers = [r for r in shipped.query(PREFIXES + "SELECT ?a WHERE { mission:lupex ekg:participant ?a }")]
    assert len(answers) == len({r["a"] for r in answers})


def test_materialising_twice_adds_nothing(fixture_store):
    assert materialise(fixture_store) == 0


def test_exports_leave_the_entailed_graph_out():
    loaded = load()
    plain = Exporter(loaded).document("trig").data
    loaded.to_store(entailed=True)
    assert Exporter(loaded).document("trig").data == plain
    assert str(ENTAILED_GRAPH).encode() not in plain


# --- on by default, one option away -----------------------------------------------------------------

def test_open_serves_entailments_unless_asked_not_to():
    assert explore_kg.open().query(LEAD_AGENCIES).rows
    asserted = explore_kg.open(entailed=False)
    assert not asserted.query(LEAD_AGENCIES).rows
    assert str(ENTAILED_GRAPH) not in {g.value for g in asserted.store.named_graphs()}


def test_command_line_sparql_entails_by_default_and_not_with_asserted():
    def run(*extra: str) -> str:
        return subprocess.run([sys.executable, "-m", "explore_kg", "sparql", LEAD_AGENCIES, "-f", "csv", *extra],
                              capture_output=True, text=True, check=True).stdout

    assert len(run().splitlines()) > 1
    assert run("--asserted").splitlines() == ["a"]
    refused = subprocess.run([sys.executable, "-m", "explore_kg", "sparql", LEAD_AGENCIES, "--asserted", "--inferred"],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "exclude each other" in refused.stderr


def test_server_entails_by_default_and_serve_asserted_turns_it_off(live_server):
    def lead_agencies(url: str) -> list:
        r = httpx.post(url + "/sparql", data={"query": LEAD_AGENCIES},
                       headers={"Accept": "application/sparql-results+json"}, timeout=30)
        r.raise_for_status()
        return r.json()["results"]["bindings"]

    assert lead_agencies(live_server)
    assert httpx.get(live_server + "/health", timeout=10).json()["entailed_triples"] > 0
    with start_server("--asserted") as server:
        assert lead_agencies(server.url) == []
        assert httpx.get(server.url + "/health", timeout=10).json()["entailed_triples"] is None
        graph = httpx.post(server.url + "/sparql", data={"query": f"ASK {{ GRAPH {ENTAILED} {{ ?s ?p ?o }} }}"},
                           headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert graph.json()["boolean"] is False
