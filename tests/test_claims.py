"""The claim model's loader side (issue 9): every date gets a claim with precision and bounds.

Real loads of small fixture files (tests/fixtures/claims/) and of the shipped graph, queried with the
engine the server uses: no mocks.
"""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

import pandas as pd
import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF

import explore_kg
from explore_kg.claims import CLAIM, CLAIM_COLUMNS, PRECISION, claim_iri, date_bounds
from explore_kg.export import Exporter
from explore_kg.loading import load, shipped_ontology_files
from explore_kg.namespaces import EKG, SOURCE

FIXTURES = Path(__file__).parent / "fixtures" / "claims"
DATES = FIXTURES / "dates.ttl"
GRAPH = ox.NamedNode(str(SOURCE["fixture-dates"]))
PREFIXES = """PREFIX ekg: <https://w3id.org/explore-kg/ontology#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX mission: <https://w3id.org/explore-kg/id/mission/>
PREFIX event: <https://w3id.org/explore-kg/id/event/>
PREFIX claim: <https://w3id.org/explore-kg/id/claim/>
PREFIX src: <https://w3id.org/explore-kg/source/>
"""
XSD_NS = "http://www.w3.org/2001/XMLSchema#"
JFY = str(EKG.japaneseFiscalYear)


def fixture_store(*paths: Path) -> ox.Store:
    return load(list(paths), shipped=False, ontology_paths=shipped_ontology_files()).to_store()


def select(store: ox.Store, sparql: str) -> list[tuple]:
    return [tuple(None if v is None else v.value for v in row) for row in store.query(PREFIXES + sparql)]


@pytest.fixture(scope="module")
def store() -> ox.Store:
    return fixture_store(DATES)


# --- the bounds function ----------------------------------------------------------------------------

@pytest.mark.parametrize(("lexical", "datatype", "precision", "earliest", "latest"), [
    ("2019-07-16", XSD_NS + "date", "day", "2019-07-16", "2019-07-16"),
    ("2019-07-16Z", XSD_NS + "date", "day", "2019-07-16", "2019-07-16"),
    ("2017-12", XSD_NS + "gYearMonth", "month", "2017-12-01", "2017-12-31"),
    ("2024-02", XSD_NS + "gYearMonth", "month", "2024-02-01", "2024-02-29"),
    ("2023-02", XSD_NS + "gYearMonth", "month", "2023-02-01", "2023-02-28"),
    ("2018", XSD_NS + "gYear", "year", "2018-01-01", "2018-12-31"),
    ("2025", JFY, "fiscal-year", "2025-04-01", "2026-03-31"),
])
def test_date_bounds_of_each_datatype(lexical, datatype, precision, earliest, latest):
    assert date_bounds(lexical, datatype) == (str(PRECISION[precision]), datetime.date.fromisoformat(earliest),
                                              datetime.date.fromisoformat(latest))


@pytest.mark.parametrize(("lexical", "datatype"), [
    ("2024-13", XSD_NS + "gYearMonth"), ("2023-02-29", XSD_NS + "date"), ("24", XSD_NS + "gYear"),
    ("FY2025", JFY), ("2025", XSD_NS + "string"), ("2025-01-01T10:00:00", XSD_NS + "date"),
])
def test_ill_typed_or_other_literals_have_no_bounds(lexical, datatype):
    assert date_bounds(lexical, datatype) is None


# --- claims the loader adds -------------------------------------------------------------------------

def test_every_date_triple_has_a_claim_with_bounds_in_its_graph(store):
    rows = select(store, """SELECT ?s ?p ?v ?precision ?earliest ?latest WHERE { GRAPH src:fixture-dates {
        ?s ?p ?v . FILTER(isLiteral(?v) && DATATYPE(?v) IN (xsd:date, xsd:gYearMonth, xsd:gYear, ekg:japaneseFiscalYear))
        FILTER(?p != ekg:claimValue && ?p != ekg:earliestDate && ?p != ekg:latestDate)
        ?s ekg:claim ?c . ?c ekg:claimSubject ?s ; ekg:claimProperty ?p ; ekg:claimValue ?v ;
           ekg:datePrecision ?precision ; ekg:earliestDate ?earliest ; ekg:latestDate ?latest ; ekg:statedIn src:fixture-dates } }
        ORDER BY ?earliest""")
    got = {(s.rsplit("/", 1)[-1], p.rsplit("#", 1)[-1], v, prec.rsplit("/", 1)[-1], e, la) for s, p, v, prec, e, la in rows}
    assert got == {
        ("fixture-month", "date", "2017-12", "month", "2017-12-01", "2017-12-31"),
        ("fixture-year", "date", "2018", "year", "2018-01-01", "2018-12-31"),
        ("fixture-day", "date", "2019-07-16", "day", "2019-07-16", "2019-07-16"),
        ("fixture-launch", "launchDate", "2023-09-07", "day", "2023-09-07", "2023-09-07"),
        ("fixture-dates", "published", "2024-02", "month", "2024-02-01", "2024-02-29"),
        ("fixture-by", "plannedLaunchDate", "2024", "year", "2024-01-01", "2024-12-31"),
        ("fixture-fy", "plannedLaunchDate", "2025", "fiscal-year", "2025-04-01", "2026-03-31"),
        ("fixture-linked", "plannedDate", "2030-06", "month", "2030-06-01", "2030-06-30"),
    }


def test_year_filter_and_order_by_work_across_precisions(store):
    """The analyst's plain query: FILTER and ORDER BY on earliestDate, YEAR() on every date, fiscal years included."""
    rows = select(store, """SELECT ?s (YEAR(?e) AS ?year) WHERE {
        ?s ekg:claim ?c . ?c ekg:earliestDate ?e . FILTER(?e >= "2018-01-01"^^xsd:date && ?e < "2026-01-01"^^xsd:date) }
        ORDER BY ?e""")
    assert [(s.rsplit("/", 1)[-1], int(y)) for s, y in rows] == [
        ("fixture-year", 2018), ("fixture-day", 2019), ("fixture-launch", 2023), ("fixture-by", 2024),
        ("fixture-dates", 2024), ("fixture-fy", 2025)]


def test_ill_typed_dates_get_no_claim_and_do_not_stop_the_load(store):
    assert select(store, "SELECT ?c WHERE { event:fixture-bad ekg:claim ?c }") == []


def test_authored_claim_is_filled_in_not_duplicated(store):
    rows = select(store, """SELECT ?c ?precision ?e ?l ?q WHERE { GRAPH src:fixture-dates {
        ?c ekg:claimSubject mission:fixture-by ; ekg:claimProperty ekg:plannedLaunchDate .
        OPTIONAL { ?c ekg:datePrecision ?precision } OPTIONAL { ?c ekg:earliestDate ?e }
        OPTIONAL { ?c ekg:latestDate ?l } OPTIONAL { ?c ekg:qualifier ?q } } }""")
    assert rows == [(str(CLAIM["fixture-by-2024"]), str(PRECISION["year"]), "2024-01-01", "2024-12-31",
                     "https://w3id.org/explore-kg/vocab/date-qualifier/by")]
    assert len(select(store, "SELECT ?c WHERE { mission:fixture-by ekg:claim ?c }")) == 1


def test_claim_linked_from_its_subject_only_gets_the_other_links_and_keeps_its_precision(store):
    rows = select(store, """SELECT ?s ?precision ?type WHERE { GRAPH src:fixture-dates {
        claim:fixture-linked-2030 ekg:claimSubject ?s ; ekg:datePrecision ?precision ; a ?type ; ekg:statedIn ?g } }""")
    assert rows == [(str(mission_iri("fixture-linked")), str(PRECISION["month"]), str(EKG.Claim))]
    assert len(select(store, "SELECT ?c WHERE { mission:fixture-linked ekg:claim ?c }")) == 1


def mission_iri(slug: str) -> URIRef:
    return URIRef(f"https://w3id.org/explore-kg/id/mission/{slug}")


def test_minted_claim_iris_are_deterministic_across_loads():
    first = {q for q in load([DATES], shipped=False).quads if q.subject.value.startswith(str(CLAIM))}
    second = {q for q in load([DATES], shipped=False).quads if q.subject.value.startswith(str(CLAIM))}
    assert first == second and first
    # the spec's formula: claim: + first 16 hex of sha256("{s}|{p}|{d.n3()}|{G}")
    d = Literal("2025", datatype=URIRef(JFY))
    key = f"{mission_iri('fixture-fy')}|{EKG.plannedLaunchDate}|{d.n3()}|{GRAPH.value}"
    expected = str(CLAIM) + hashlib.sha256(key.encode()).hexdigest()[:16]
    assert claim_iri(ox.NamedNode(str(mission_iri("fixture-fy"))), ox.NamedNode(str(EKG.plannedLaunchDate)),
                     ox.Literal("2025", datatype=ox.NamedNode(JFY)), GRAPH).value == expected
    assert expected in {q.subject.value for q in first}


def test_reloading_an_export_adds_no_second_claim(tmp_path):
    """A flat export already holds the derived claims: loading it again completes nothing and mints nothing."""
    loaded = load([DATES], shipped=False)
    out = tmp_path / "dates.ttl"
    out.write_bytes(Exporter(loaded).document("turtle").data)
    again = load([out], shipped=False)
    claims = lambda quads: {q.triple for q in quads if q.subject.value.startswith(str(CLAIM))}  # noqa: E731
    assert claims(again.quads) == claims(loaded.quads)


def test_trig_graphs_each_get_their_own_claim():
    rows = select(fixture_store(FIXTURES / "graphs.trig"),
                  "SELECT ?g ?c WHERE { GRAPH ?g { event:fixture-trig ekg:claim ?c . ?c ekg:earliestDate ?e } }")
    assert sorted(g for g, _ in rows) == ["https://example.org/graph/one", "https://example.org/graph/two"]
    assert len({c for _, c in rows}) == 2


def test_loading_a_large_file_of_dates_stays_fast(tmp_path):
    """One pass over the quads: 20,000 date triples load in seconds (measured here, not a benchmark)."""
    lines = ["@prefix ekg: <https://w3id.org/explore-kg/ontology#> .", "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> ."]
    lines += [f'<https://w3id.org/explore-kg/id/event/e{i}> ekg:date "{2000 + i % 30}-{1 + i % 12:02d}"^^xsd:gYearMonth .'
              for i in range(20000)]
    big = tmp_path / "big.ttl"
    big.write_text("\n".join(lines))
    loaded = load([big], shipped=False)
    assert sum(1 for q in loaded.quads if q.predicate.value == str(EKG.earliestDate)) == 20000


# --- the shipped graph ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kg():
    return explore_kg.open()


def test_missions_that_launch_before_2026_fiscal_years_included(kg):
    """The analyst query of the spec, plain SPARQL with no UNION: LUPEX by both sources (2024; JFY 2025
    starts 2025-04-01), MMX (JFY 2026) not."""
    rows = kg.query(PREFIXES + """SELECT ?m ?e ?src WHERE {
        ?m a ekg:Mission ; ekg:claim ?c . ?c ekg:claimProperty ekg:plannedLaunchDate ; ekg:earliestDate ?e ;
        ekg:statedIn ?src . FILTER(?e < "2026-01-01"^^xsd:date) } ORDER BY ?e""").rows
    assert [(str(m).rsplit("/", 1)[-1], str(e), str(s).rsplit("/", 1)[-1]) for m, e, s in rows] == [
        ("lupex", "2024-01-01", "lupex-mission-overview"),
        ("lupex", "2025-04-01", "jaxa-international-space-exploration"),
    ]


def test_claims_dataframe_has_one_row_per_claim(kg):
    df = kg.claims()
    assert list(df.columns) == list(CLAIM_COLUMNS)
    assert df["claim"].is_unique
    assert str(df["earliest"].dtype).startswith("datetime64") and str(df["latest"].dtype).startswith("datetime64")
    lupex = kg.claims("LUPEX", "ekg:plannedLaunchDate")
    assert sorted(zip(lupex["value"], lupex["precision"], lupex["earliest"], strict=True)) == [
        ("2024", "year", pd.Timestamp("2024-01-01")), ("2025", "fiscal-year", pd.Timestamp("2025-04-01"))]
    assert set(lupex["subject"]) == {"LUPEX"} and lupex["source"].notna().all()
    by_iri = kg.claims(mission_iri("lupex"), EKG.plannedLaunchDate, labels=False)
    assert set(by_iri["subject"]) == {str(mission_iri("lupex"))} and len(by_iri) == 2


def test_claims_dataframe_shows_the_qualifier_of_an_authored_claim():
    kg = explore_kg.open([DATES])
    df = kg.claims("mission:fixture-by")
    # the fixture alone: no vocabulary to name the qualifier, so its prefixed name
    assert df[["value", "precision", "qualifier"]].values.tolist() == [["2024", "year", "datequal:by"]]


def test_flat_turtle_export_ties_each_claim_to_its_document():
    """Derived claims are asserted data of their source graph: a flat Turtle export keeps them, with
    ekg:statedIn, so a reader can tell which document gave which LUPEX launch date."""
    g = Graph().parse(data=Exporter(load()).document("turtle").data.decode(), format="turtle")
    lupex = mission_iri("lupex")
    found = set()
    for c in g.objects(lupex, EKG.claim):
        if (c, EKG.claimProperty, EKG.plannedLaunchDate) in g:
            assert (c, RDF.type, EKG.Claim) in g
            found.add((str(g.value(c, EKG.claimValue)), str(g.value(c, EKG.statedIn)).rsplit("/", 1)[-1],
                       g.value(c, EKG.earliestDate)))
    assert found == {
        ("2024", "lupex-mission-overview", Literal("2024-01-01", datatype=URIRef(XSD_NS + "date"))),
        ("2025", "jaxa-international-space-exploration", Literal("2025-04-01", datatype=URIRef(XSD_NS + "date"))),
    }


def test_claims_minted_in_a_quad_file_are_stated_in_their_source_graph(tmp_path):
    """N-Quads and TriG keep their graphs; a claim minted in a source document's graph gets ekg:statedIn."""
    doc = "https://w3id.org/explore-kg/source/fixture-nq"
    event = "https://w3id.org/explore-kg/id/event/fixture-nq"
    nq = tmp_path / "doc.nq"
    nq.write_text(f"<{doc}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EKG.SourceDocument}> <{doc}> .\n"
                  f'<{event}> <{EKG.date}> "2020"^^<{XSD_NS}gYear> <{doc}> .\n')
    rows = select(fixture_store(nq), f"SELECT ?c ?g WHERE {{ GRAPH <{doc}> {{ <{event}> ekg:claim ?c . ?c ekg:statedIn ?g }} }}")
    assert [g for _, g in rows] == [doc]


def test_claims_dataframe_is_the_same_from_a_server(kg, live_server):
    remote = explore_kg.connect(live_server)
    try:
        pd.testing.assert_frame_equal(remote.claims("LUPEX"), kg.claims("LUPEX"))
    finally:
        remote.close()


def test_date_properties_are_ekg_date_and_its_sub_properties_plus_plans_and_publication():
    from explore_kg.claims import date_properties

    n = lambda local: ox.NamedNode(str(EKG[local]))  # noqa: E731
    found = date_properties([(n("launchDate"), n("date")), (n("landingDate"), n("launchDate")),
                             (n("startDate"), ox.NamedNode("https://schema.org/startDate"))])
    assert {n("date"), n("launchDate"), n("landingDate"), n("plannedLaunchDate"), n("plannedDate"),
            n("published")} <= found
    assert n("startDate") not in found  # not (yet) below ekg:date in this list of axioms
