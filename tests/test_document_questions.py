"""Issue 9's "Done when" questions, asked the way a competent analyst would: plain SPARQL over the default
graph, no UNION over property variants, no knowledge of which sub-property a fact was stated with.

Two of the answers rest on machinery built beside the data: the entailments served by default (sub-class,
sub-property and inverse closure, materialised into https://w3id.org/explore-kg/graph/entailed) and the
earliest/latest day the loader derives for every date claim. Where a question needs one of them and the store
does not have it yet, the test is skipped with that reason, so it switches on by itself once they are merged.
"""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef
from typer.testing import CliRunner

import explore_kg
from explore_kg.cli import app

EKG = "https://w3id.org/explore-kg/ontology#"
ID = "https://w3id.org/explore-kg/id/"
SRC = "https://w3id.org/explore-kg/source/"
ENTAILED = "https://w3id.org/explore-kg/graph/entailed"
GYEAR = URIRef("http://www.w3.org/2001/XMLSchema#gYear")
PROLOGUE = f"""PREFIX ekg: <{EKG}>
PREFIX mission: <{ID}mission/>
PREFIX agency: <{ID}agency/>
PREFIX status: <https://w3id.org/explore-kg/vocab/mission-status/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


@pytest.fixture(scope="module")
def kg():
    return explore_kg.open()


def local(term) -> str | None:
    return None if term is None else str(term).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def answer(kg, query: str) -> list[tuple]:
    return [tuple(local(v) for v in row) for row in kg.query(PROLOGUE + query).rows]


def has_entailments(kg) -> bool:
    return bool(kg.query(f"ASK {{ GRAPH <{ENTAILED}> {{ ?s ?p ?o }} }}").boolean)


def has_date_bounds(kg) -> bool:
    return bool(kg.query(f"ASK {{ ?claim <{EKG}earliestDate> ?day }}").boolean)


def needs_entailments(kg):
    if not has_entailments(kg):
        pytest.skip(f"the store has no graph {ENTAILED}: the entailments served by default are not built on this "
                    "branch yet (issue 9, loader)")


def needs_date_bounds(kg):
    if not has_date_bounds(kg):
        pytest.skip("no claim in the store has an ekg:earliestDate: the loader on this branch does not derive date "
                    "bounds yet (issue 9, loader)")


# --- which missions launch before 2026, fiscal years included? ------------------------------------------------

def test_missions_launching_before_2026_fiscal_years_included(kg):
    """JFY 2025 starts on 1 April 2025, so JAXA's LUPEX target counts; MMX's JFY 2026 does not."""
    needs_date_bounds(kg)
    rows = answer(kg, """
        SELECT DISTINCT ?m ?e ?src WHERE {
          ?m a ekg:Mission ; ekg:claim ?c .
          ?c ekg:claimProperty ekg:plannedLaunchDate ; ekg:earliestDate ?e ; ekg:statedIn ?src .
          FILTER(?e < "2026-01-01"^^xsd:date)
        } ORDER BY ?e ?src""")
    assert rows == [
        ("lupex", "2024-01-01", "lupex-mission-overview"),
        ("lupex", "2025-04-01", "jaxa-international-space-exploration"),
    ]


def test_year_works_on_every_planned_launch_date(kg):
    needs_date_bounds(kg)
    rows = answer(kg, """
        SELECT DISTINCT ?m (YEAR(?e) AS ?year) ?src WHERE {
          ?m ekg:claim ?c . ?c ekg:claimProperty ekg:plannedLaunchDate ; ekg:earliestDate ?e ; ekg:statedIn ?src .
        } ORDER BY ?year ?m""")
    assert [(m, y) for m, y, _ in rows] == [("lupex", "2024"), ("lupex", "2025"), ("mmx", "2026"), ("athena", "2037")]


# --- which agencies take part in LUPEX (lead agency included)? -------------------------------------------------

def test_agencies_taking_part_in_lupex(kg):
    rows = answer(kg, """
        SELECT DISTINCT ?agency WHERE { mission:lupex ekg:participant ?agency . ?agency a ekg:SpaceAgency }
        ORDER BY ?agency""")
    assert rows == [("isro",), ("jaxa",)]


def test_lead_agencies_are_participants(kg):
    """JAXA leads MMX in both JAXA pages, and no page calls it a mere participant: only entailment finds it."""
    needs_entailments(kg)
    rows = answer(kg, """
        SELECT DISTINCT ?agency WHERE { mission:mmx ekg:participant ?agency . ?agency a ekg:SpaceAgency }
        ORDER BY ?agency""")
    assert rows == [("cnes",), ("jaxa",), ("nasa",)]


# --- which missions are flying or completed? ------------------------------------------------------------------

def test_missions_flying_or_completed(kg):
    rows = answer(kg, """
        SELECT DISTINCT ?m ?status WHERE {
          ?m a ekg:Mission ; ekg:missionStatus ?status .
          ?status skos:broader* ?stage .
          VALUES ?stage { status:in-operation status:completed }
        } ORDER BY ?m""")
    assert rows == [("bepicolombo", "in-operation"), ("earthcare", "in-operation")]


def test_nothing_is_completed_and_the_iss_is_in_use(kg):
    """The ISS was built (JAXA's page), not finished with: it is in use, so it is not among completed things."""
    assert answer(kg, "SELECT DISTINCT ?x WHERE { ?x ekg:missionStatus status:completed }") == []
    assert answer(kg, """SELECT DISTINCT ?x WHERE { ?x ekg:missionStatus/skos:broader* status:in-operation ;
                                             a ekg:SpaceStation }""") == [("iss",)]


# --- which missions build on another's heritage, in date order? -----------------------------------------------

def test_missions_building_on_heritage_in_date_order(kg):
    """usesDataFrom, usesTechnologyFrom and precursors (through ekg:buildsOnPrecursor) are all ekg:buildsOn."""
    needs_entailments(kg)
    needs_date_bounds(kg)
    rows = answer(kg, """
        SELECT ?m ?earlier (MIN(?e) AS ?first) WHERE {
          ?m a ekg:Mission ; ekg:buildsOn ?earlier .
          ?earlier a ekg:Mission .
          OPTIONAL { ?m ekg:claim/ekg:earliestDate ?e }
        } GROUP BY ?m ?earlier ORDER BY (!BOUND(?first)) ?first ?m ?earlier""")
    assert rows == [
        ("lupex", "chandrayaan-3", "2024-01-01"),
        ("lupex", "slim", "2024-01-01"),
        ("slim", "selene", None),
    ]


def test_precursors_are_in_the_builds_on_family(kg):
    """The ontology puts ekg:precursorOf in the family by its inverse, so owl:inverseOf closure is enough."""
    assert kg.query(f"""ASK {{ <{EKG}buildsOnPrecursor> <http://www.w3.org/2000/01/rdf-schema#subPropertyOf>
        <{EKG}buildsOn> ; <http://www.w3.org/2002/07/owl#inverseOf> <{EKG}precursorOf> }}""").boolean
    needs_entailments(kg)
    assert kg.query(PROLOGUE + "ASK { mission:lupex ekg:buildsOn mission:chandrayaan-3 }").boolean


# --- a flat Turtle export keeps each LUPEX launch claim with its document and qualifier ------------------------

def test_a_flat_turtle_export_ties_each_lupex_launch_claim_to_its_document_and_qualifier(tmp_path):
    out = tmp_path / "kg.ttl"
    result = CliRunner().invoke(app, ["export", "-f", "turtle", "-o", str(out)])
    assert result.exit_code == 0, result.output
    graph = Graph().parse(out, format="turtle")
    rows = graph.query(PROLOGUE + """
        SELECT ?value ?qualifier ?doc WHERE {
          mission:lupex ekg:claim ?c .
          ?c ekg:claimSubject mission:lupex ; ekg:claimProperty ekg:plannedLaunchDate ; ekg:claimValue ?value ;
             ekg:qualifier ?qualifier ; ekg:statedIn ?doc .
        }""")
    found = {(v, local(q), local(d)) for v, q, d in rows}
    assert found == {
        (Literal("2024", datatype=GYEAR), "by", "lupex-mission-overview"),
        (Literal("2025", datatype=URIRef(EKG + "japaneseFiscalYear")), "target", "jaxa-international-space-exploration"),
    }
    # the direct triples stay, for easy queries
    assert (URIRef(ID + "mission/lupex"), URIRef(EKG + "plannedLaunchDate"), Literal("2024", datatype=GYEAR)) in graph
    assert (URIRef(SRC + "lupex-mission-overview"), None, None) in graph
