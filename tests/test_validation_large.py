"""The large validate path (validation/large.py, for inputs of 16 MB or more) names the same file:line:column
as the small (rdflib) path, for the same facts: the offending triple, also on ';' and ',' continuation
lines, after a literal over several lines, inside nested '[ ... ]', and for blank-node focus nodes, in
Turtle, TriG, N-Triples and N-Quads. The small path is the oracle (its locations come from a whole-file
token reader, explore_kg.positions); the large path is forced the way tests/test_store.py forces it.

Takes ~10 s: seven validations (three on the small path, four large), each once (module fixtures).
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "validation" / "large" / "offending-triples.ttl"
_COMPONENT = {"sh:minCount": "MinCount", "sh:maxCount": "MaxCount", "sh:class": "Class", "sh:datatype": "Datatype",
              "sh:nodeKind": "NodeKind"}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """The fixture in four syntaxes, with the same line for each triple: the TriG file opens its graph on
    the source document's first line and closes it on a line of its own at the end; N-Quads is the
    N-Triples with a graph name after each triple."""
    where = tmp_path_factory.mktemp("large-inputs")
    text = FIXTURE.read_text(encoding="utf-8")
    ttl = where / "offending.ttl"
    ttl.write_text(text, encoding="utf-8")
    trig = where / "offending.trig"
    trig.write_text(text.replace("\nsrc:fixture-offending-triples a", "\nsrc:fixture-offending-triples { "
                                 "src:fixture-offending-triples a", 1) + "}\n", encoding="utf-8")
    quads = list(ox.parse(path=str(ttl), base_iri=ttl.resolve().as_uri()))
    nt, nq = where / "offending.nt", where / "offending.nq"
    ox.serialize(quads, str(nt), format=ox.RdfFormat.N_TRIPLES)
    graph = ox.NamedNode("https://w3id.org/explore-kg/source/fixture-offending-triples")
    other = ox.NamedNode("https://w3id.org/explore-kg/source/fixture-offending-triples-position")  # a second graph
    ox.serialize([ox.Quad(q.subject, q.predicate, q.object, other if "position/" in q.subject.value else graph)
                  for q in quads], str(nq), format=ox.RdfFormat.N_QUADS)
    return {"ttl": ttl, "trig": trig, "nt": nt, "nq": nq}


def _places(report, name: str, kinds: set | None = None) -> set[tuple]:
    """(rule, line, column, focus: the IRI or '_:' for a blank node, graph) of each result about the file
    (of the kinds the large path checks: ``kinds``, (rule, constraint component) pairs)."""
    out = set()
    for r in report.results:
        if r.file is None or not r.file.endswith(name):
            continue
        if kinds is not None and (r.rule, r.constraint) not in kinds:
            continue
        focus = r.focus if r.focus and r.focus.startswith("http") else "_:"
        out.add((r.rule, r.line, r.column, focus, r.graph))
    return out


def _large_kinds() -> set[tuple]:
    """The (rule, SHACL constraint component) pairs the large path checks, as the small path names them."""
    from explore_kg.loading import SHAPES_FILE
    from explore_kg.validation.large import checks, named_classes, shape_rows

    shapes = ox.Store()
    shapes.load(path=str(SHAPES_FILE), format=ox.RdfFormat.TURTLE, base_iri=SHAPES_FILE.resolve().as_uri())
    rows = shape_rows(shapes)
    return {(c.rule, f"sh:{_COMPONENT[c.constraint]}ConstraintComponent")
            for c in checks(rows, {c: [c] for c in named_classes(rows)})}


@pytest.fixture(scope="module")
def small(inputs) -> dict[str, set]:
    from explore_kg.validation import validate

    kinds = _large_kinds()
    return {fmt: _places(validate([inputs[fmt]]), inputs[fmt].name, kinds) for fmt in ("ttl", "nt", "nq")}


@pytest.fixture(scope="module")
def large(inputs, tmp_path_factory) -> dict[str, object]:
    import explore_kg.large_inputs as large_inputs
    from explore_kg.validation import validate

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        mp.setattr(large_inputs, "LARGE_BYTES", 0)
        return {fmt: validate([path]) for fmt, path in inputs.items()}


@pytest.mark.parametrize("fmt", ["ttl", "trig", "nt", "nq"])
def test_large_path_names_the_same_places_as_the_small_path(inputs, small, large, fmt):
    """Every result the large path gives has a line, and the same (rule, line, column, focus, graph) as
    the small path's result for that fact; none is missing. (In N-Quads the position's facts are in a
    graph of their own: the result names the graph that holds the offending triple.)"""
    report = large[fmt]
    assert "sh:" in " ".join(r.constraint or "" for r in report.results)  # (the large path's results)
    got = _places(report, inputs[fmt].name)
    assert all(line is not None for _, line, *_ in got), got
    expected = small["ttl" if fmt in ("ttl", "trig") else fmt]
    assert got == expected
    if fmt == "nq":
        assert {graph for rule, *_, graph in got if rule == "holder-multiple"} == {
            "https://w3id.org/explore-kg/source/fixture-offending-triples-position"}


def test_the_fixture_has_what_the_comparison_is_about(small):
    """The places, read off the fixture: a ',' continuation line, a ';' continuation after a literal over
    three lines, a '[ ... ]' inside a block, a '_:x' subject, a top-level '[ ... ]', the line where a
    blank node opens for a property it lacks, and two blank nodes with the same offending triple."""
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()

    def place(text: str, column_of: str) -> tuple[int, int]:
        number = next(i for i, line in enumerate(lines, start=1) if text in line)
        return number, lines[number - 1].index(column_of) + 1

    expected = {
        ("party-is-text", *place('"JAXA" ;', '"JAXA"'), "https://w3id.org/explore-kg/id/agreement/probe-comma"),
        ("signing-place-wrong-class", *place("ekg:signingPlace agency:esa", "agency:esa ."),
         "https://w3id.org/explore-kg/id/agreement/probe-long"),
        ("party-is-text", *place('"ESA in words"', '"ESA'), "_:"),
        ("party-is-text", *place('"text party"', '"text'), "_:"),
        ("party-is-text", *place('"another text party"', '"another'), "_:"),
        ("agreement-type-missing", *place("Blank agreement of no type", "["), "_:"),
        ("party-is-text", *place('ekg:party agency:esa , "Same words"', '"Same'), "_:"),
        ("party-is-text", *place('        "Same words" ] .', '"Same'), "_:"),
    }
    assert expected <= {place[:4] for place in small["ttl"]}, small["ttl"]


def test_the_file_that_holds_the_offending_triple_is_blamed(tmp_path, monkeypatch):
    """Two files describe one agreement, the second gives it a party in words: both paths name the second
    file's line (the large path chose the file by the focus node, which the first file describes first)."""
    import explore_kg.large_inputs as large_inputs
    from explore_kg.validation import validate

    prefixes = "\n".join(line for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.startswith("@prefix"))
    first, second = tmp_path / "first.ttl", tmp_path / "second.ttl"
    first.write_text(prefixes + """
agency:esa a ekg:SpaceAgency ; rdfs:label "ESA"@en .
agency:jaxa a ekg:SpaceAgency ; rdfs:label "JAXA"@en .
agreement:two-files a ekg:Agreement ; rdfs:label "Described in two files"@en ;
    ekg:agreementType agreementtype:joint-statement ; ekg:signingDate "2024-11-15"^^xsd:date ;
    ekg:party agency:esa , agency:jaxa .
""", encoding="utf-8")
    second.write_text(prefixes + '\n\nagreement:two-files ekg:party\n    "NASA" .\n', encoding="utf-8")
    line = prefixes.count("\n") + 4

    def blamed(report):
        return {(r.file.rsplit("/", 1)[-1], r.line, r.column) for r in report.results if r.rule == "party-is-text"}

    assert blamed(validate([first, second])) == {("second.ttl", line, 5)}
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(large_inputs, "LARGE_BYTES", 0)
    assert blamed(validate([first, second])) == {("second.ttl", line, 5)}
