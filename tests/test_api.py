"""The Python API: one call to load, typed DataFrames, graphs and booleans, and the same API over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ignores_sigint
from rdflib import Graph, Literal, URIRef

import explore_kg
from explore_kg import ParameterError, UnknownQuery
from explore_kg.engine import QueryError

EKG = "PREFIX ekg: <https://w3id.org/explore-kg/ontology#>\n"
LUPEX = URIRef("https://w3id.org/explore-kg/id/mission/lupex")


@pytest.fixture(scope="module")
def kg():
    return explore_kg.open()


def test_open_loads_the_shipped_graph_in_one_call(kg):
    assert isinstance(kg, explore_kg.KnowledgeGraph)
    assert kg.query("ASK { GRAPH <https://w3id.org/explore-kg/source/lupex-mission-overview> { ?s ?p ?o } }").boolean
    assert explore_kg.load_graph is not None and "open" in dir(explore_kg)


def test_result_keeps_rdf_terms_and_gives_python_values(kg):
    result = kg.query("partners-of-mission", mission="LUPEX")
    assert result.query == "partners-of-mission" and result.parameters == {"mission": LUPEX}
    assert result.columns[:3] == ["mission", "partner", "involvement"]
    assert all(isinstance(row[1], URIRef) for row in result.rows)
    assert {"JAXA", "ISRO", "NASA"} <= set(result.labels().values())
    assert kg.query(EKG + "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a a ekg:Agreement }").value() == 5


def test_dataframe_dates_at_mixed_precision_become_start_days_with_a_precision_column(kg):
    df = kg.df("planned-launches")
    assert list(df["mission"]) == ["LUPEX", "LUPEX", "MMX", "Athena"]
    assert list(df["plannedLaunch_precision"]) == ["year", "Japanese fiscal year", "Japanese fiscal year", "year"]
    assert df["plannedLaunch"][0] == pd.Timestamp("2024-01-01")
    # JFY 2025 runs from 1 April 2025 to 31 March 2026: it must never read as 2026
    assert df["plannedLaunch"][1] == pd.Timestamp("2025-04-01") and df["plannedLaunch"][2] == pd.Timestamp("2026-04-01")
    assert df.attrs["precision"]["plannedLaunch"] == ["Japanese fiscal year", "year"]
    assert df.attrs["query"] == "planned-launches"


def test_dataframe_day_dates_become_datetimes_and_numbers_numbers(kg):
    df = kg.df("signatories")
    assert str(df["date"].dtype).startswith("datetime64")
    assert set(df["date"]) == {pd.Timestamp("2024-11-20")}
    assert "date_precision" not in df.columns and df.attrs["precision"] == {"date": ["day"]}
    assert set(df["signatory"]) == {"Hiroshi Yamakawa", "Josef Aschbacher"}
    network = kg.df("agency-cooperation-network")
    assert network["weight"].dtype.kind == "i" and network["weight"].iloc[0] == 12


def test_dataframe_years_become_integers(kg):
    df = kg.df(EKG + """SELECT ?review ?year WHERE { ?review a ekg:Review ; ekg:date ?year .
                         FILTER(DATATYPE(?year) = <http://www.w3.org/2001/XMLSchema#gYear>) } ORDER BY ?year""")
    assert str(df["year"].dtype) == "Int64" and list(df["year"]) == [2018, 2019, 2021]
    assert set(df["year_precision"]) == {"year"}


def test_dataframe_labels_can_be_turned_off(kg):
    df = kg.df("planned-launches", labels=False)
    assert df["mission"][0] == str(LUPEX)


def test_decimals_and_months(kg):
    df = kg.df(EKG + "SELECT ?kg ?m WHERE { ?x ekg:minimumPayloadMassKg ?kg . "
                     "?e ekg:date ?m FILTER(DATATYPE(?m) = <http://www.w3.org/2001/XMLSchema#gYearMonth>) } ORDER BY ?m")
    assert set(df["kg"].tolist()) == {350.0}  # one lander; one row per month-precision event (2017-05, 2017-12)
    assert df["m"][0] == pd.Timestamp("2017-05-01") and df["m_precision"][0] == "month"


def test_construct_gives_an_rdflib_graph_and_ask_a_boolean(kg):
    result = kg.query(EKG + "CONSTRUCT { ?m ekg:leadAgency ?a } WHERE { ?m ekg:leadAgency ?a }")
    assert result.kind == "graph" and isinstance(result.graph, Graph)
    assert (LUPEX, URIRef("https://w3id.org/explore-kg/ontology#leadAgency"),
            URIRef("https://w3id.org/explore-kg/id/agency/isro")) in result.graph
    assert kg.query(EKG + "ASK { ?m ekg:plannedLaunchDate 2037 }").boolean is False
    assert kg.query(EKG + 'ASK { ?m ekg:plannedLaunchDate "2037"^^<http://www.w3.org/2001/XMLSchema#gYear> }').value()


def test_adhoc_sparql_parameters_are_bound_as_terms(kg):
    result = kg.query(EKG + "SELECT ?m ?d WHERE { ?m ekg:plannedLaunchDate ?d }", m=LUPEX)
    assert {str(d) for _, d in result.rows} == {"2024", "2025"}
    assert kg.query(EKG + "SELECT DISTINCT ?t WHERE { ?x ekg:acronym ?t }", t="MMX").rows == [(Literal("MMX"),)]


def test_run_gives_any_serialization(kg):
    answer = kg.run("source-disagreements", media_type="text/csv")
    assert answer.media_type.startswith("text/csv")
    assert answer.body.decode().splitlines()[0] == "subject,property,value,precision,source"


def test_errors_name_the_parameter(kg):
    with pytest.raises(ParameterError) as e:
        kg.df("cooperation-between-agencies", second="Atlantis Space Agency")
    assert e.value.parameter == "second"
    with pytest.raises(UnknownQuery):
        kg.query("partners-of-missions")


def test_open_with_inferred_triples_adds_the_inferred_graph():
    kg = explore_kg.open(inferred=True)
    assert kg.query("""ASK { GRAPH <https://w3id.org/explore-kg/graph/inferred> {
        <https://w3id.org/explore-kg/id/mission/mmx> a <http://www.w3.org/ns/prov#Activity> } }""").boolean
    assert not explore_kg.open().query("""ASK { GRAPH <https://w3id.org/explore-kg/graph/inferred> { ?s ?p ?o } }""").boolean


# --- the deadline: in-process queries are bounded like the server's, and interruptible ---------------

# Three copies of the graph joined with each other: ~3e10 rows to count, far beyond any deadline here.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _children() -> list[str]:
    """This process's child processes (Linux), to see that no query process is left behind."""
    import glob

    return [c for path in glob.glob(f"/proc/{os.getpid()}/task/*/children") for c in open(path).read().split()]


def test_in_process_queries_get_the_servers_time_limit_by_default(kg):
    from explore_kg.engine import DEFAULT_TIMEOUT

    assert kg.timeout == DEFAULT_TIMEOUT == 5.0


def test_kg_query_past_its_timeout_raises_and_leaves_nothing_running(kg):
    """Issue 14: `kg.query()` ran with no time limit (pyoxigraph cannot cancel a query)."""
    from explore_kg.engine import QueryTimeout

    short = explore_kg.KnowledgeGraph(kg.store, kg.loaded, timeout=0.5)
    before = set(_children())  # servers other test modules started (session fixtures) are not the query's
    started = time.monotonic()
    with pytest.raises(QueryTimeout) as e:
        short.query(RUNAWAY)
    assert time.monotonic() - started < 10 and "time limit of 0.5 s" in e.value.message
    if sys.platform.startswith("linux"):
        assert set(_children()) - before == set()
    assert short.query("ASK { ?s ?p ?o }").boolean  # the next query runs as usual


def test_a_query_may_name_the_stores_graphs_and_no_other(kg):
    """FROM is checked against the store's graphs one IRI at a time (explore_kg.engine.StoreGraphs: no
    listing of every graph before each query, 1.4 s at 60k graphs)."""
    from explore_kg.engine import StoreGraphs

    doc = "https://w3id.org/explore-kg/source/lupex-mission-overview"
    answer = kg.query(f"SELECT (COUNT(*) AS ?n) FROM <{doc}> WHERE {{ ?s ?p ?o }}")
    assert int(answer.rows[0][0]) > 100
    with pytest.raises(QueryError, match="not in this dataset"):
        kg.query("SELECT * FROM <http://example.org/elsewhere> WHERE { ?s ?p ?o }")
    graphs = StoreGraphs(kg.store)
    assert doc in graphs and "http://example.org/elsewhere" not in graphs and "no iri" not in graphs
    assert doc in list(graphs) and len(graphs) == len(set(graphs))


def test_errors_from_the_query_process_keep_their_kind(kg):
    from explore_kg.engine import QueryRefused, QuerySyntaxError

    with pytest.raises(QuerySyntaxError):
        kg.query("SELECT WHERE {")
    with pytest.raises(QueryRefused):
        kg.query("SELECT * WHERE { SERVICE <http://example.com/sparql> { ?s ?p ?o } }")
    deep = "SELECT * WHERE { " + "{ " * 200 + "?s ?p ?o " + "} " * 200 + "} LIMIT 1"
    assert kg.query(deep).kind == "bindings"  # on a big stack in the query process too


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to see the query's process")
def test_keyboard_interrupt_stops_a_runaway_query_and_its_process():
    """A notebook's interrupt (SIGINT to the kernel process) ends kg.query() at once, nothing left running."""
    script = f"""
import glob, os, explore_kg
kg = explore_kg.open(timeout=None)
print("ready", flush=True)
try:
    kg.query({RUNAWAY!r})
except KeyboardInterrupt:
    left = [c for p in glob.glob(f"/proc/{{os.getpid()}}/task/*/children") for c in open(p).read().split()]
    print("interrupted, left:", left, flush=True)
"""
    ignored_here = ignores_sigint(os.getpid())  # (said if the test fails; conftest un-ignores it: the CI hangs)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout.readline().strip() == "ready", process.stderr.read()
        deadline = time.monotonic() + 60
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        while not any(ignores_sigint(int(c)) for c in children.read_text().split()):
            assert time.monotonic() < deadline, "the query never started"
            time.sleep(0.05)
        time.sleep(0.3)  # (into the query itself)
        stopped = time.monotonic()
        process.send_signal(signal.SIGINT)
        try:
            out, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"SIGINT did not stop kg.query() within 60 s (SIGINT ignored by the test process: "
                        f"{ignored_here})")
    finally:
        if process.poll() is None:
            process.kill()
    assert time.monotonic() - stopped < 30
    assert out.strip() == "interrupted, left: []", (out, err)
    assert process.returncode == 0 and "Traceback" not in err, err


# --- the same API against a running server ---------------------------------------------------------

@pytest.fixture(scope="module")
def remote(live_server):
    with explore_kg.connect(live_server) as kg:
        yield kg


def test_connect_gives_the_same_answers_as_in_process(kg, remote):
    for name, params in [("partners-of-mission", {"mission": "LUPEX"}), ("source-disagreements", {}),
                         ("planned-launches", {"from_year": 2025}), ("sources-of-facts", {"entity": LUPEX})]:
        local, over_http = kg.query(name, **params), remote.query(name, **params)
        assert over_http.columns == local.columns
        assert sorted(map(repr, over_http.rows)) == sorted(map(repr, local.rows)), name
    assert remote.df("planned-launches").equals(kg.df("planned-launches"))


def test_connect_runs_sparql_and_keeps_errors(remote):
    assert remote.query(EKG + "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m ekg:plannedLaunchDate ?d }").value() == 3
    assert isinstance(remote.query(EKG + "CONSTRUCT { ?m ekg:leadAgency ?a } WHERE { ?m ekg:leadAgency ?a }").graph,
                      Graph)
    with pytest.raises(ParameterError) as e:
        remote.query("partners-of-mission", mission="Hayabusa9")
    assert e.value.parameter == "mission" and "unknown label" in e.value.message
    with pytest.raises(UnknownQuery):
        remote.query("no-such-query")
    from explore_kg.engine import QueryError

    with pytest.raises(QueryError) as err:
        remote.query("SELECT * WHERE {")
    assert err.value.status == 400
