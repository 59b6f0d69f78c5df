"""The query checks and content negotiation, without a server: what is refused, what is not mistaken for it."""

from __future__ import annotations

import random

import pyoxigraph as ox
import pytest
from rdflib import Literal, URIRef

from explore_kg.engine import NotAcceptable, negotiate, run_query
from explore_kg.loading import load
from explore_kg.safety import QueryRefused, QueryTooLarge, _nothing_to_refuse, check_query, scan

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
    "SELECT * FROMNAMED <http://example.com/remote.ttl> WHERE { GRAPH ?g { ?s ?p ?o } }",  # Oxigraph reads it
])
def test_from_outside_the_dataset_is_refused(query):
    with pytest.raises(QueryRefused, match="not in this dataset"):
        check_query(query, known_graphs=KNOWN)


@pytest.mark.parametrize("query", [
    "SELECT * FROM <http://example.org/g1> FROM NAMED <http://example.org/g2> WHERE { ?s ?p ?o }",
    "PREFIX ex: <http://example.org/> SELECT * FROM ex:g1 WHERE { ?s ?p ?o }",
    "BASE <http://example.org/> SELECT * FROM <g2> WHERE { ?s ?p ?o }",
    "SELECT * FROMNAMED <http://example.org/g2> WHERE { GRAPH ?g { ?s ?p ?o } }",
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


GLUED_SERVICE = [
    # Oxigraph needs no space around the keyword: each of these would make it fetch the URL
    "SELECT * WHERE { ?s ?p 1SERVICE <http://example.com/> { ?a ?b ?c } }",
    "PREFIX ex: <http://example.com/> SELECT * WHERE { ?s ?p ?o SERVICEex:a { ?a ?b ?c } }",
    "PREFIX ex: <http://example.com/> SELECT * WHERE { ?s ?p ?o SERVICEex: { ?a ?b ?c } }",
    "SELECT * WHERE { ?s ?p ?o SERVICESILENT <http://example.com/> { ?a ?b ?c } }",
    "SELECT * WHERE { ?s ?p 1e0SERVICE <http://example.com/> { ?a ?b ?c } }",
    "SELECT * WHERE { ?s ?p trueSERVICE <http://example.com/> { ?a ?b ?c } }",
    "# from a comment, with words\nSELECT * WHERE { ?s ?p 1service <http://example.com/> { ?a ?b ?c } }",
]


@pytest.mark.parametrize("query", GLUED_SERVICE)
def test_service_glued_to_other_text_is_refused(query):
    with pytest.raises(QueryRefused, match="SERVICE"):
        check_query(query, known_graphs=KNOWN)


def test_oxigraph_does_read_glued_service_as_service():
    """Why the glued forms above matter: with allow_remote the same texts reach pyoxigraph's SERVICE
    evaluation (port 9 is one it refuses to call, so nothing leaves the machine)."""
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://example.com/s"), ox.NamedNode("http://example.com/p"),
                      ox.Literal("1", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))))
    for query in (GLUED_SERVICE[0], GLUED_SERVICE[1]):
        query = query.replace("http://example.com/", "http://127.0.0.1:9/")
        with pytest.raises(OSError, match="port 9"):
            list(store.query(query))


@pytest.mark.parametrize("query", [
    # refused keywords in comments and names do not stop the quick path...
    "# missions from an agency, with their targets\nSELECT * WHERE { ?s <http://example.org/from> ?o }",
    "SELECT * WHERE { ?s ?p ?o } # created from data loaded with care",
])
def test_quick_path_passes_keywords_in_comments(query):
    assert _nothing_to_refuse(query, 256)
    check_query(query, known_graphs=KNOWN)


@pytest.mark.parametrize("query", [
    # ...but anything the full scan could refuse goes to the full scan
    "SELECT * FROM <http://example.com/x> WHERE { ?s ?p ?o } # with a comment",
    "# SERVICE only in a comment\nSELECT * WHERE { ?s ?p ?o }",  # any SERVICE: scanned (and passes)
    "SELECT * WHERE { ?s ?p ?o \\u0053ERVICE <http://example.com/> { } }",
    "SELECT * WHERE { ?s ?p ?o \\U00000053ERVICE <http://example.com/> { } }",
    "SELECT * WHERE { ?s ?p ?o } # from\nFROM <http://example.com/x>",
    "SELECT * WHERE " + "{" * 300 + "}" * 300,
])
def test_quick_path_defers_to_the_full_scan(query):
    assert not _nothing_to_refuse(query, 256)


def test_quick_path_never_passes_what_the_scan_refuses():
    """Random texts from SPARQL-ish pieces (keywords split by comments, strings, escapes, glued names):
    whenever the quick path passes a text, the full scan finds nothing to refuse in it either."""
    pieces = ["SERVICE", "service", "SER", "VICE", "from", "FROM", "insert", "with", "LOAD", "ex:", "ex:a",
              "<http://x/>", "{", "}", "(", ")", "#", "\n", "'", '"', '"""', "1", "true", "?x", " ", ".", "\\",
              "ADD", "addr", "SERVICEex:", "\\u0053", "NAMED", "SELECT", "*", "WHERE", "\u00e9", "\u00df",
              "\u017fervice:"]
    rnd = random.Random(20261121)
    passed = 0
    for _ in range(20_000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 16)))
        if _nothing_to_refuse(text, 256):
            passed += 1
            info, updates, remote = scan(text)
            assert not updates and not remote and not info.has_dataset_clause and info.depth <= 256, text
    assert passed > 1000  # the property was exercised


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
