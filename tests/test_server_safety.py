"""The query checks and content negotiation, without a server: what is refused, what is not mistaken for it."""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef

from explore_kg.engine import NotAcceptable, negotiate, run_query
from explore_kg.loading import load
from explore_kg.safety import QueryRefused, QueryTooLarge, check_query

KNOWN = {"http://example.org/g1", "http://example.org/g2"}


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <http://example.com/sparql> { ?s ?p ?o } }",
    "select * where { service silent <http://example.com/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { ?x ?y ?z . SERVICE ?endpoint { ?s ?p ?o } }",
    "PREFIX e: <http://example.com/>\nSELECT * WHERE {\n  # a comment with { and }\n  SERVICE e:sparql { ?s ?p ?o }\n}",
    'SELECT * WHERE { FILTER("#") SERVICE <http://example.com/> { ?s ?p ?o } }',
    "SELECT * WHERE { \\u0053ERVICE <http://example.com/> { ?s ?p ?o } }",  # a codepoint escape
])
def test_service_is_refused(query):
    with pytest.raises(QueryRefused, match="SERVICE"):
        check_query(query, known_graphs=KNOWN)
    assert check_query(query, known_graphs=KNOWN, allow_remote=True) is not None


@pytest.mark.parametrize("query", [
    "INSERT DATA { <http://a> <http://b> <http://c> }",
    "PREFIX ex: <http://example.org/> DELETE WHERE { ?s ex:p ?o }",
    "WITH <http://example.org/g1> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "CLEAR ALL",
    "LOAD <http://example.com/data.ttl>",
    "DROP GRAPH <http://example.org/g1>",
])
def test_updates_are_refused(query):
    with pytest.raises(QueryRefused, match="read-only"):
        check_query(query, known_graphs=KNOWN)


@pytest.mark.parametrize("query", [
    "SELECT * FROM <http://example.com/remote.ttl> WHERE { ?s ?p ?o }",
    "SELECT * FROM NAMED <file:///etc/passwd> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "PREFIX ex: <http://example.org/> SELECT * FROM ex:g3 WHERE { ?s ?p ?o }",
    "BASE <http://example.org/> SELECT * FROM <g3> WHERE { ?s ?p ?o }",
])
def test_from_outside_the_dataset_is_refused(query):
    with pytest.raises(QueryRefused, match="not in this dataset"):
        check_query(query, known_graphs=KNOWN)


@pytest.mark.parametrize("query", [
    "SELECT * FROM <http://example.org/g1> FROM NAMED <http://example.org/g2> WHERE { ?s ?p ?o }",
    "PREFIX ex: <http://example.org/> SELECT * FROM ex:g1 WHERE { ?s ?p ?o }",
    "BASE <http://example.org/> SELECT * FROM <g2> WHERE { ?s ?p ?o }",
])
def test_from_inside_the_dataset_is_fine(query):
    info = check_query(query, known_graphs=KNOWN)
    assert info.has_dataset_clause and info.kind == "bindings"


@pytest.mark.parametrize("query", [
    'SELECT * WHERE { ?s ?p "SERVICE <http://example.com/> { }" }',
    "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://example.com/> { } and FROM <http://example.com/>",
    "SELECT ?service ?from WHERE { ?service <http://example.org/from> ?from }",
    "PREFIX ex: <http://example.org/> SELECT * WHERE { ?s ex:service ex:load ; ex:add ?x }",
    "SELECT * WHERE { ?s ?p '''multi\nline SERVICE <http://x/> { } '''}",
    "ASK { <http://example.org/with#insert> ?p ?o }",
])
def test_words_in_strings_comments_names_are_not_keywords(query):
    check_query(query, known_graphs=KNOWN)


def test_size_and_nesting_limits():
    with pytest.raises(QueryTooLarge) as big:
        check_query("ASK {}" + " " * 70_000)
    assert big.value.status == 413
    with pytest.raises(QueryTooLarge, match="nested") as deep:
        check_query("SELECT * WHERE " + "{" * 300 + "}" * 300)
    assert deep.value.status == 400
    check_query("SELECT * WHERE " + "{" * 200 + "}" * 200)
    # braces inside strings do not count
    check_query('SELECT * WHERE { ?s ?p "' + "{" * 1000 + '" }')


@pytest.mark.parametrize(("accept", "kind", "expected"), [
    (None, "bindings", "application/sparql-results+json"),
    ("", "graph", "text/turtle; charset=utf-8"),
    ("text/csv", "bindings", "text/csv; charset=utf-8"),
    ("text/*;q=0.5, application/sparql-results+xml;q=0.6", "bindings", "application/sparql-results+xml; charset=utf-8"),
    ("application/rdf+xml;q=0.5, text/turtle;q=0.4", "graph", "application/rdf+xml; charset=utf-8"),
    ("*/*", "boolean", "application/sparql-results+json"),
    ("application/n-quads", "graph", "application/n-quads"),
    ("text/turtle;q=0, */*", "graph", "application/n-triples"),
])
def test_negotiate(accept, kind, expected):
    assert negotiate(accept, kind)[1] == expected


def test_negotiate_refuses_what_cannot_be_given():
    with pytest.raises(NotAcceptable):
        negotiate("text/turtle", "bindings")
    with pytest.raises(NotAcceptable):
        negotiate("text/csv", "graph")
    with pytest.raises(NotAcceptable):
        negotiate("application/sparql-results+json;q=0", "boolean")


def test_run_query_in_process_binds_terms_and_refuses_the_same():
    """The CLI/API path: substitutions bind RDF terms (never text), and the same refusals apply."""
    store = load().to_store()
    onto = "https://w3id.org/explore-kg/graph/ontology"
    r = run_query(store, "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 1", media_type="text/csv",
                  substitutions={"g": URIRef(onto)})
    assert r.kind == "bindings" and r.media_type == "text/csv; charset=utf-8"
    assert r.body.decode().splitlines() == ["g", onto]
    # a value that looks like query text stays a value
    tricky = Literal('a " } SERVICE <http://example.com/> {')
    r = run_query(store, "SELECT ?x WHERE { }", substitutions={"x": tricky})
    assert b"SERVICE" in r.body
    # a variable the query does not project (pyoxigraph substitutes only projected ones) is bound too
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    every = int(run_query(store, count, media_type="text/csv").body.split()[1])
    in_onto = int(run_query(store, count, media_type="text/csv", substitutions={"g": URIRef(onto)}).body.split()[1])
    assert 0 < in_onto < every
    r = run_query(store, count, substitutions={"g": tricky})
    assert b'"0"' in r.body
    with pytest.raises(QueryRefused):
        run_query(store, "SELECT * WHERE { SERVICE <http://example.com/sparql> { ?s ?p ?o } }")
    deep = "SELECT * WHERE " + "{" * 250 + " ?s ?p ?o " + "}" * 250 + " LIMIT 1"
    assert run_query(store, deep).kind == "bindings"  # parsed on a big stack: no overflow
