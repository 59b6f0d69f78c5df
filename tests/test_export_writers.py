"""The deterministic writers on awkward input: every format parses back to the same dataset."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from explore_kg import writers
from explore_kg.export import WRITE_PREFIXES

EX = "https://w3id.org/explore-kg/id/test/"
G1, G2 = ox.NamedNode("https://w3id.org/explore-kg/source/g1"), ox.NamedNode("https://w3id.org/explore-kg/source/g2")


def nn(local: str) -> ox.NamedNode:
    return ox.NamedNode(EX + local)


def awkward_quads() -> list[ox.Quad]:
    p, q = nn("p"), ox.NamedNode("http://example.org/vocab#q")
    b1, b2, b3, shared = ox.BlankNode("x1"), ox.BlankNode("x2"), ox.BlankNode("x3"), ox.BlankNode("shared")
    cyc_a, cyc_b = ox.BlankNode("cycA"), ox.BlankNode("cycB")
    first = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#first")
    rest = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#rest")
    nil = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#nil")
    l1, l2 = ox.BlankNode("l1"), ox.BlankNode("l2")
    return [
        ox.Quad(nn("a"), p, ox.Literal('quote " backslash \\ newline\nand tab\t', language="en"), G1),
        ox.Quad(nn("a"), p, ox.Literal("日本語の名前", language="ja"), G1),
        ox.Quad(nn("a"), p, ox.Literal("42", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")), G1),
        ox.Quad(nn("a"), p, ox.Literal("2025", datatype=ox.NamedNode("https://w3id.org/explore-kg/ontology#japaneseFiscalYear")), G1),
        ox.Quad(nn("a"), p, ox.Literal("x", datatype=ox.NamedNode("http://example.org/dt(odd)")), G1),
        ox.Quad(nn("with(parens)"), q, nn("trailing."), G1),  # not writable as prefixed names
        ox.Quad(nn("a"), q, ox.NamedNode("http://example.org/"), G1),
        ox.Quad(nn("a"), p, b1, G1),  # nested blank nodes, written inline
        ox.Quad(b1, p, b2, G1),
        ox.Quad(b2, q, ox.Literal("deep"), G1),
        ox.Quad(nn("a"), q, b3, G1),  # an empty blank node
        ox.Quad(nn("b"), p, b3, G1),  # ...used twice: keeps a label
        ox.Quad(nn("a"), p, shared, G1),  # a blank node in two graphs
        ox.Quad(shared, q, ox.Literal("in g2"), G2),
        ox.Quad(cyc_a, p, cyc_b, G2),  # a cycle of blank nodes
        ox.Quad(cyc_b, p, cyc_a, G2),
        ox.Quad(nn("c"), p, l1, G2),  # a list
        ox.Quad(l1, first, ox.Literal("one"), G2),
        ox.Quad(l1, rest, l2, G2),
        ox.Quad(l2, first, nn("two"), G2),
        ox.Quad(l2, rest, nil, G2),
        ox.Quad(nn("d"), p, ox.Literal(""), ox.DefaultGraph()),
    ]


def canonical(quads, merge: bool) -> set:
    if merge:
        quads = [ox.Quad(q.subject, q.predicate, q.object) for q in quads]
    return set(writers.canonical_quads(quads))


FORMATS = {
    "turtle": (lambda qs: writers.write_turtle(qs, WRITE_PREFIXES, "a\nheader"), ox.RdfFormat.TURTLE, True),
    "trig": (lambda qs: writers.write_trig(qs, WRITE_PREFIXES), ox.RdfFormat.TRIG, False),
    "ntriples": (writers.write_ntriples, ox.RdfFormat.N_TRIPLES, True),
    "nquads": (writers.write_nquads, ox.RdfFormat.N_QUADS, False),
    "jsonld": (lambda qs: writers.write_jsonld(qs, WRITE_PREFIXES), ox.RdfFormat.JSON_LD, True),
    "jsonld-vocab": (lambda qs: writers.write_jsonld(qs, WRITE_PREFIXES, vocab="https://schema.org/"),
                     ox.RdfFormat.JSON_LD, True),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_awkward_terms_round_trip(name):
    write, fmt, merge = FORMATS[name]
    quads = writers.canonical_quads(awkward_quads())
    data = write(quads)
    parsed = list(ox.parse(data, format=fmt))
    assert canonical(parsed, merge) == canonical(quads, merge)


def test_rdfxml_round_trips_what_rdfxml_can_hold():
    quads = [q for q in writers.canonical_quads(awkward_quads())
             if not q.predicate.value.endswith("#q") or "parens" not in q.subject.value]
    parsed = list(ox.parse(writers.write_rdfxml(quads, WRITE_PREFIXES), format=ox.RdfFormat.RDF_XML))
    assert canonical(parsed, True) == canonical(quads, True)


def test_labels_do_not_depend_on_input_labels_or_order():
    quads = awkward_quads()
    renamed = [ox.Quad(*(ox.BlankNode("z" + t.value) if isinstance(t, ox.BlankNode) else t
                         for t in (q.subject, q.predicate, q.object)), q.graph_name) for q in reversed(quads)]
    for name, (write, _, _) in FORMATS.items():
        assert write(writers.canonical_quads(quads)) == write(writers.canonical_quads(renamed)), name


def test_turtle_is_readable():
    text = writers.write_turtle(writers.canonical_quads(awkward_quads()), WRITE_PREFIXES).decode()
    assert '( "one" test:two )' not in text  # 'test' is no project prefix: full IRIs are used
    assert '( "one" <https://w3id.org/explore-kg/id/test/two> )' in text
    assert "<https://w3id.org/explore-kg/id/test/with(parens)>" in text
    header = [line for line in text.splitlines() if line.startswith("@prefix")]
    assert header == sorted(header)


def test_jsonld_context_is_inline_and_minimal():
    doc = json.loads(writers.write_jsonld(writers.canonical_quads(awkward_quads()), WRITE_PREFIXES))
    assert isinstance(doc["@context"], dict)
    assert set(doc["@context"]) <= set(WRITE_PREFIXES) | {"@vocab"}
    assert "schema" not in doc["@context"]  # only the prefixes used
