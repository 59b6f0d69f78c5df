"""The token-stream reader that tells the validator where each triple is written (explore_kg.positions).

The real parser (pyoxigraph) is the oracle: on every file the project ships and on a document using every
Turtle/TriG feature, the reader finds exactly the triples the parser finds, and puts each term where the
text has it.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Literal, URIRef

from explore_kg.loading import SHAPES_FILE, parse_file, shipped_data_files, shipped_ontology_files, to_rdflib
from explore_kg.positions import Position, read_file, read_text

FIXTURES = Path(__file__).parent / "fixtures" / "validation"
EX = "http://example.org/"

TRICKY = r'''# a comment with "quotes" ; and . and ,
@prefix : <http://example.org/> .
PREFIX ex: <http://example.org/>
@base <http://example.org/base/> .
:a :p "x" , 'y' , """long "quoted"
text"""@en-GB ;
   :q 12 , -3.5 , 1e3 , true ;
   :r <rel> , ex:b\-c , :d.e ;
   :s [ :t "in" ; :u [ :v :w ] ] ;
   :l ( :x "two" ( :y ) ) ;
   :esc "a\"b\\c\u00e9" ;
   :dt "2024"^^<http://www.w3.org/2001/XMLSchema#gYear> .
[ :anon "top" ] :p :z .
_:lab :p :a .
'''

TRIG = """@prefix : <http://example.org/> .
:g1 { :a :p :b . :c :p "d" }
GRAPH :g2 { :e :p [ :q :f ] }
{ :h :p :i }
"""


def triples_of_parser(text: str, fmt: ox.RdfFormat) -> set[tuple]:
    return {(to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object))
            for q in ox.parse(text.encode(), format=fmt, base_iri="http://example.org/doc")}


def without_bnodes(triples) -> set[tuple]:
    return {t for t in triples if not isinstance(t[0], BNode) and not isinstance(t[2], BNode)}


@pytest.mark.parametrize("text,fmt", [(TRICKY, ox.RdfFormat.TURTLE), (TRIG, ox.RdfFormat.TRIG)], ids=["turtle", "trig"])
def test_reader_finds_what_the_parser_finds(text, fmt):
    written = read_text(text, "http://example.org/doc")
    mine = [(t.subject, t.predicate, t.object) for t in written.triples]
    theirs = triples_of_parser(text, fmt)
    assert len(mine) == len(theirs)  # (no triple is written twice here)
    assert without_bnodes(mine) == without_bnodes(theirs)


def test_positions_of_terms():
    w = read_text(TRICKY, "http://example.org/doc")
    [long] = w.find(URIRef(EX + "a"), URIRef(EX + "p"), Literal('long "quoted"\ntext', lang="en-gb"))
    assert long.object_at == Position(5, 19) and long.subject_at == Position(5, 1)
    [number] = w.find(URIRef(EX + "a"), URIRef(EX + "q"), Literal("-3.5", datatype=URIRef("http://www.w3.org/2001/XMLSchema#decimal")))
    assert number.object_at == Position(7, 12) and number.predicate_at == Position(7, 4)
    [escaped] = w.find(URIRef(EX + "a"), URIRef(EX + "r"), URIRef(EX + "b-c"))
    assert escaped.object_at == Position(8, 15)
    inner = (URIRef(EX + "a"), (URIRef(EX + "s"), URIRef(EX + "u")))
    [deep] = w.find(None, URIRef(EX + "v"), URIRef(EX + "w"), subject_anchor=inner)
    assert deep.object_at.line == 9


@pytest.mark.parametrize("path", [*shipped_data_files(), *shipped_ontology_files(), SHAPES_FILE,
                                  *sorted((FIXTURES / "good").glob("*.t*"))], ids=lambda p: p.name)
def test_reader_agrees_with_the_parser_on_every_shipped_file(path):
    written = read_file(path)
    theirs = [(to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)) for q in parse_file(path)]
    assert len(written.triples) == len(theirs)  # as written, a triple stated twice counted twice
    assert without_bnodes((t.subject, t.predicate, t.object) for t in written.triples) == without_bnodes(theirs)


def test_reader_never_raises_on_broken_text():
    """It only runs on files the parser accepted, but a half-typed file must not crash a report."""
    w = read_text('@prefix : <http://example.org/> .\n:a :p "open ;\n:b :p :c .\n:d :p [ :q ( :e .\n', "")
    assert isinstance(w.triples, list)


@pytest.mark.parametrize("path", [*shipped_data_files(), *shipped_ontology_files(), SHAPES_FILE,
                                  *sorted((FIXTURES / "good").glob("*.t*")), FIXTURES / "large" / "offending-triples.ttl"],
                         ids=lambda p: p.name)
def test_streamed_statements_read_as_the_whole_file(path):
    """positions_stream.read_subjects (the large validate path: statement by statement, only the wanted
    ones) gives every triple of a whole-file read, with the same positions and blank-node anchors, when
    every subject is wanted; and none of the others when one subject is."""
    from explore_kg.positions_stream import read_subjects

    def written(wf):
        return [(("bnode", wf.anchors[t.subject][1]) if isinstance(t.subject, BNode) else t.subject, t.predicate,
                 "bnode" if isinstance(t.object, BNode) else t.object, t.subject_at, t.predicate_at, t.object_at)
                for t in wf.triples]

    whole = read_file(path)
    assert written(read_subjects(path, lambda _iri: True, blank=lambda _w: True)) == written(whole)
    one = next(t.subject for t in whole.triples if isinstance(t.subject, URIRef))
    assert written(read_subjects(path, {str(one)}.__contains__)) == [t for t in written(whole) if t[0] == one]


@pytest.mark.parametrize("text", [TRICKY, TRIG, TRIG.replace("\n", " ") + "\n"], ids=["turtle", "trig", "trig-one-line"])
def test_streamed_statements_of_tricky_text(tmp_path, text):
    """Long strings over lines with '.' and a subject-like line inside, escapes, comments, nested lists
    and blank nodes, graph blocks (also all on one line): the statement scan splits where the reader does."""
    from explore_kg.positions_stream import read_subjects

    path = tmp_path / ("t.trig" if "{" in text else "t.ttl")
    path.write_text(text, encoding="utf-8")
    whole = read_file(path)
    streamed = read_subjects(path, lambda _iri: True, blank=lambda _w: True)
    assert [(t.predicate, t.object_at, t.subject_at) for t in streamed.triples] == \
        [(t.predicate, t.object_at, t.subject_at) for t in whole.triples]
    assert len(whole.triples) >= 5


def test_an_n_quads_line_names_its_graph():
    """The graph after an N-Quads triple is the triple's graph (a result names the graph that holds the
    offending triple, not the file's first graph)."""
    written = read_text(f'<{EX}a> <{EX}p> "x" <{EX}g1> .\n<{EX}b> <{EX}p> <{EX}c> <{EX}g2> .\n<{EX}b> <{EX}q> _:n .\n')
    assert [(str(t.subject), t.graph) for t in written.triples] == [
        (EX + "a", URIRef(EX + "g1")), (EX + "b", URIRef(EX + "g2")), (EX + "b", None)]
    assert written.subject_graph(URIRef(EX + "b")) == URIRef(EX + "g2")
    [c] = written.find(URIRef(EX + "b"), URIRef(EX + "p"), URIRef(EX + "c"))
    assert c.graph == URIRef(EX + "g2") and c.object_at == Position(2, 47)


def test_a_byte_order_mark_and_crlf_line_ends_change_no_position(tmp_path):
    """A file saved with a byte order mark and CRLF line ends: its @prefix is still read (the mark was a
    token of its own, and the whole first statement was skipped), columns count from the first character,
    and the statement scan reads it as the whole-file reader does."""
    from explore_kg.positions_stream import read_subjects

    path = tmp_path / "bom.ttl"
    path.write_bytes("\ufeff@prefix : <http://example.org/> .\r\n:a :p :b ;\r\n   :q \"x\" .\r\n".encode())
    whole = read_file(path)
    [q] = whole.find(URIRef(EX + "a"), URIRef(EX + "q"))
    assert q.object_at == Position(3, 7) and whole.subject_position(URIRef(EX + "a")) == Position(2, 1)
    streamed = read_subjects(path, {EX + "a"}.__contains__)
    assert [(t.predicate, t.object_at) for t in streamed.triples] == [(t.predicate, t.object_at) for t in whole.triples]
