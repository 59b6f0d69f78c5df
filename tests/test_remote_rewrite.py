"""The Virtuoso adapter's query rewrite keeps SPARQL's answers: each saved query, and queries a user
might write with ``*`` / ``+`` / ``?`` paths, rewritten (its closures read from the embedded store, as
they are read from Virtuoso) gives the same result set on the embedded store as the query itself.
(On the real Virtuoso: tests/test_remote_serve.py and tests/test_remote_dialects.py.)"""

from __future__ import annotations

import pytest

from explore_kg.saved_queries import load_saved_queries
from explore_kg.store.dialects import Virtuoso
from explore_kg.store.dialects.virtuoso_booleans import cast_booleans
from explore_kg.store.dialects.virtuoso_filters import filters_last, plain_sameterm
from explore_kg.store.dialects.virtuoso_paths import MAX_EDGES, PathRefused, drop_helpers, rewrite_paths

P = ("PREFIX ekg: <https://w3id.org/explore-kg/ontology#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
     "PREFIX id: <https://w3id.org/explore-kg/id/>\n")
USER_QUERIES = [
    "SELECT ?x ?c WHERE { ?x a/rdfs:subClassOf* ?c . ?x ekg:leadAgency ?l }",
    "SELECT ?a ?b WHERE { ?a ekg:parentOrganisation+ ?b }",
    "SELECT * WHERE { ?a ekg:parentOrganisation* ?b . ?b a ekg:SpaceAgency }",
    "SELECT ?m WHERE { ?m (ekg:spacecraft|^ekg:partOf)* id:instrument\\/megane }",
    "SELECT ?t ?b WHERE { ?m ekg:target ?t . ?t ekg:onBody? ?b }",
    "ASK { id:organisation\\/isas ekg:parentOrganisation* id:agency\\/jaxa }",
    "SELECT ?m WHERE { ?m a ekg:Mission FILTER NOT EXISTS { ?m ekg:leadAgency/ekg:parentOrganisation* id:agency\\/jaxa } }",
    "SELECT ?x WHERE { ?x ^ekg:parentOrganisation/ekg:parentOrganisation* ?x }",
    "SELECT ?k (COUNT(*) AS ?n) WHERE { ?e a ?k . ?k rdfs:subClassOf+ ekg:Event } GROUP BY ?k",
    "SELECT ?x WHERE { { SELECT ?x WHERE { ?x a/rdfs:subClassOf* ekg:Organisation } LIMIT 1000 } }",
    "SELECT DISTINCT * WHERE { ?x a/rdfs:subClassOf* ekg:Organisation }",
    "SELECT ?c ?k ?w WHERE { ?c a/rdfs:subClassOf* ekg:Organisation ; a ?k . ?w ekg:developer ?c "
    "FILTER NOT EXISTS { ?c ekg:parentOrganisation+ ?p } }",
]


@pytest.fixture(scope="module")
def kg():
    from explore_kg.api import KnowledgeGraph

    return KnowledgeGraph.load(timeout=60)


def _select(kg):
    def select(sparql: str) -> list[dict]:
        solutions = kg.store.query(sparql)
        names = [v.value for v in solutions.variables]
        return [{n: s[n] for n in names if s[n] is not None} for s in solutions]
    return select


def _answer(kg, sparql: str, original: str | None = None):
    """The result set (rows in any order; a boolean for ASK), as explore-kg passes a rewritten
    query's answer on (without the rewrite's fresh variables)."""
    import json

    data = json.loads(kg.run(sparql, media_type="application/sparql-results+json").body)
    if original is not None:
        drop_helpers(data, original)
    if "boolean" in data:
        return data["boolean"]
    return sorted(json.dumps(row, sort_keys=True) for row in data["results"]["bindings"])


def _rewritten(kg, sparql: str) -> str:
    return Virtuoso("http://127.0.0.1:8890/sparql").rewrite(sparql, _select(kg))


@pytest.mark.parametrize("sparql", [q.sparql for q in load_saved_queries() if q.name != "search-entities"]
                         + [P + q for q in USER_QUERIES])
def test_the_rewrite_keeps_the_answer(kg, sparql):
    text = _rewritten(kg, sparql)
    assert _answer(kg, text, sparql) == _answer(kg, sparql)


def test_paths_are_rewritten_and_others_left_alone(kg):
    text = _rewritten(kg, P + "SELECT ?a WHERE { ?a ekg:parentOrganisation* id:agency\\/jaxa . ?a ekg:leadAgency|ekg:host ?x }")
    assert "parentOrganisation*" not in text and "VALUES" in text and "ekg:leadAgency|ekg:host" in text
    plain = P + "SELECT ?a WHERE { ?a ekg:leadAgency/ekg:participant ?x FILTER(?a != ?x) }"
    assert _rewritten(kg, plain) == plain


def test_what_cannot_be_made_right_is_refused(kg):
    with pytest.raises(PathRefused, match="inside GRAPH"):
        _rewritten(kg, P + "SELECT * WHERE { GRAPH ?g { ?a ekg:parentOrganisation* ?b } }")
    with pytest.raises(PathRefused, match="nests"):
        _rewritten(kg, P + "SELECT * WHERE { ?a (ekg:parentOrganisation*/ekg:member)+ ?b }")
    assert PathRefused.status == 400
    many = [{"a": object(), "b": object()}] * (MAX_EDGES + 1)
    with pytest.raises(PathRefused, match="more than"):
        rewrite_paths(P + "SELECT * WHERE { ?a ekg:parentOrganisation+ ?b }", lambda _: many)


def test_booleans_filters_and_sameterm():
    assert cast_booleans("SELECT * { BIND(!BOUND(?a) AS ?b) BIND(?c AS ?d) }") == \
        "SELECT * { BIND(<http://www.w3.org/2001/XMLSchema#boolean>(!BOUND(?a)) AS ?b) BIND(?c AS ?d) }"
    assert "IF(?x, <http://www.w3.org/2001/XMLSchema#boolean>(true), ?none)" in cast_booleans(
        "SELECT (IF(?x, true, ?none) AS ?y) {}")
    assert cast_booleans("SELECT (COUNT(*) AS ?n) {}") == "SELECT (COUNT(*) AS ?n) {}"
    moved = filters_last("SELECT * { ?s ?p ?o FILTER(?s != ?o) BIND(?p AS ?q) }")
    assert moved.index("BIND") < moved.index("FILTER")
    assert filters_last("SELECT * { BIND(1 AS ?q) FILTER(?q) }") == "SELECT * { BIND(1 AS ?q) FILTER(?q) }"
    assert plain_sameterm("FILTER(sameTerm(?w, <https://x/m>))") == 'FILTER((isIRI(?w) && STR(?w) = STR(<https://x/m>)))'
    assert plain_sameterm("FILTER(sameTerm(?w, ?v))") == "FILTER(sameTerm(?w, ?v))"
