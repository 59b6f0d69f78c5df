"""Validation of shipped and new facts: the real loader, owlrl, pyshacl and CLI on real files.

The fixture corpus in tests/fixtures/validation/ holds one wrong fact per file under bad/, each stating
what it must produce in a header line ``# expect: <rule> line <n>``; good/ holds files that must pass.
The whole bad corpus is validated in one run (every file has IRIs of its own), then each file's results
are compared with its expectations, so adding a case is adding a file.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, Graph, URIRef
from rdflib.namespace import OWL, SH, SKOS

from explore_kg.loading import ONTOLOGY_DIR, PROJECT_ROOT, shipped_data_files
from explore_kg.namespaces import EKG, SHAPES
from explore_kg.validation import SHAPES_FILE, VIOLATION, WARNING, display_path, render_github, validate

FIXTURES = Path(__file__).parent / "fixtures" / "validation"
BAD = sorted((FIXTURES / "bad").glob("*.ttl"))
GOOD = sorted((FIXTURES / "good").glob("*.ttl"))
UNPARSABLE = FIXTURES / "unparsable" / "missing-dot.ttl"
EXPECT = re.compile(r"^# expect: (?P<rule>[\w:-]+) line (?P<line>\d+)$", re.M)


def expectations(path: Path) -> set[tuple[str, int]]:
    return {(m["rule"], int(m["line"])) for m in EXPECT.finditer(path.read_text(encoding="utf-8"))}


def key(r) -> tuple:
    return (r.rule, r.file, r.line, r.focus, r.path, r.value)


def cli(*args: str) -> subprocess.CompletedProcess:
    """The installed ``explore-kg`` command, run from the project root as a contributor or CI would."""
    script = Path(sys.executable).with_name("explore-kg")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "explore_kg"]
    return subprocess.run([*command, "validate", *args], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def shipped():
    return validate()


@pytest.fixture(scope="module")
def bad():
    return validate(BAD)


# --- the shipped graph -------------------------------------------------------------------------


def test_shipped_data_conforms(shipped):
    problems = "\n".join(f"{r.file}:{r.line} {r.rule} {r.focus} {r.value or ''}: {r.message}"
                         for r in shipped.results if r.severity == VIOLATION)
    assert shipped.status == 0, f"the shipped graph has violations:\n{problems}"
    assert shipped.triples > 1000
    assert set(shipped.files) == {display_path(p) for p in shipped_data_files()}


def test_validating_a_shipped_file_reads_it_once(shipped):
    first = shipped_data_files()[0]
    report = validate([first])
    assert report.files == [display_path(first)]
    assert report.triples == shipped.triples  # not loaded twice under two graphs
    assert report.count(VIOLATION) == shipped.count(VIOLATION)


# --- the bad corpus -----------------------------------------------------------------------------


def test_corpus_covers_at_least_fifteen_kinds_of_wrong_fact():
    rules = {rule for path in BAD for rule, _ in expectations(path)}
    assert len(BAD) >= 15 and len(rules) >= 15, rules
    for path in BAD:
        assert expectations(path), f"{path.name} states no '# expect:' line"


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_file_reports_exact_rule_and_line(bad, path):
    mine = [r for r in bad.results if r.file == display_path(path)]
    assert {(r.rule, r.line) for r in mine} == expectations(path), [(r.rule, r.line, r.message) for r in mine]
    for r in mine:
        assert r.severity in (VIOLATION, WARNING)
        assert r.message and r.focus
        assert r.graph  # the named graph the offending facts went to


def test_bad_corpus_adds_no_problem_outside_its_files(bad, shipped):
    bad_files = {display_path(p) for p in BAD}
    elsewhere = {key(r) for r in bad.results if r.file not in bad_files}
    assert elsewhere <= {key(r) for r in shipped.results}
    # warnings about shipped files are counted, not shown, when new files are reviewed
    assert all(r.severity == VIOLATION for r in bad.results if r.file not in bad_files)
    assert bad.omitted == shipped.count(WARNING)


def test_bad_corpus_fails(bad):
    assert bad.status == 1
    assert bad.count(VIOLATION) >= 15


def test_focus_path_and_value_are_reported(bad):
    by_rule = {r.rule: r for r in bad.results}
    party = by_rule["party-wrong-class"]
    assert party.focus == "https://w3id.org/explore-kg/id/agreement/fixture-city-party"
    assert party.path == str(EKG.party)
    assert party.value == "<https://w3id.org/explore-kg/id/place/fixture-city>"
    assert party.graph == "https://w3id.org/explore-kg/source/fixture-party-not-organisation"
    date = by_rule["signing-date-malformed"]
    assert date.value == '"2019-02-30"^^<http://www.w3.org/2001/XMLSchema#date>'
    dangling = [r for r in bad.results if r.rule == "reference-dangling"]
    assert {r.value for r in dangling} == {
        "<https://w3id.org/explore-kg/id/mission/fixture-never-described>", f"<{EKG}leadAgencyy>"}
    owl = by_rule["owl-inconsistency"]
    assert "disjoint" in owl.message.lower() and owl.focus.endswith("/person/fixture-agency-person")


def test_range_checks_are_not_defeated_by_inference(bad):
    """ekg:party has range ekg:Organisation, so OWL RL infers that the city is an organisation; the
    shapes run on asserted data, so the city is still reported as a wrong party."""
    assert any(r.rule == "party-wrong-class" and r.value.endswith("/place/fixture-city>") for r in bad.results)


def test_warnings_fail_only_when_strict():
    files = [FIXTURES / "bad" / "fact-without-source.ttl", FIXTURES / "bad" / "duplicate-agency.ttl"]
    relaxed = validate(files)
    strict = replace(relaxed, strict=True)  # the same results judged strictly (the CLI test runs --strict)
    assert relaxed.count(VIOLATION) == 0 and relaxed.count(WARNING) >= 2
    assert {r.rule for r in relaxed.results if r.file in relaxed.files} == {"source-missing", "duplicate-entity"}
    assert relaxed.status == 0 and strict.status == 1


# --- good files ---------------------------------------------------------------------------------


def test_good_files_conform():
    report = validate(GOOD)
    mine = [r for r in report.results if r.file in report.files]
    assert mine == []
    assert report.status == 0, [(r.file, r.line, r.rule) for r in report.results if r.severity == VIOLATION]
    assert replace(report, strict=True).status == 0  # warnings about shipped files do not fail a contributor


# --- could not run ------------------------------------------------------------------------------


def test_unparsable_file_stops_the_run_with_file_and_line():
    report = validate([FIXTURES / "bad" / "agreement-one-party.ttl", UNPARSABLE])
    assert report.status == 2 and report.could_not_run
    assert [(r.rule, r.file, r.line) for r in report.results] == [("syntax", display_path(UNPARSABLE), 30)]
    assert "dot is expected" in report.results[0].message


def test_missing_file_cannot_run(tmp_path):
    report = validate([tmp_path / "nowhere.ttl"])
    assert report.status == 2
    assert report.results[0].rule == "syntax" and "nowhere.ttl" in report.results[0].file


# --- the command line ---------------------------------------------------------------------------


def test_cli_text_report_groups_by_file_with_file_and_line():
    path = "tests/fixtures/validation/bad/agreement-one-party.ttl"
    run = cli(path)
    assert run.returncode == 1, run.stderr
    assert f"{path}:28" in run.stdout and "agreement-parties-too-few" in run.stdout
    assert run.stdout.splitlines()[0] == path  # the group heading
    assert "Does not conform" in run.stdout


def test_cli_github_annotations():
    run = cli("--format", "github", "tests/fixtures/validation/bad/party-not-organisation.ttl",
              "tests/fixtures/validation/bad/duplicate-agency.ttl")
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert ("::error file=tests/fixtures/validation/bad/party-not-organisation.ttl,line=28,"
            "title=explore-kg party-wrong-class::A party of an agreement must be an organisation") in run.stdout
    assert any(line.startswith("::warning file=tests/fixtures/validation/bad/duplicate-agency.ttl,line=28,"
                               "title=explore-kg duplicate-entity::") for line in lines)
    for line in lines[:-1]:
        assert re.match(r"^::(error|warning|notice) (file=[^,]+,line=\d+,)?(col=\d+,)?title=[^:]+::\S", line), line


def test_cli_json_report_and_strict():
    path = "tests/fixtures/validation/bad/fact-without-source.ttl"
    relaxed = cli("--format", "json", path)
    strict = cli("--format", "json", "--strict", path)
    assert (relaxed.returncode, strict.returncode) == (0, 1)
    report = json.loads(strict.stdout)
    assert report["schema_version"] == 1 and report["status"] == 1 and report["strict"] is True
    assert isinstance(report["omitted"], int)
    assert report["files"] == [path]
    assert report["counts"]["violation"] == 0
    [result] = [r for r in report["results"] if r["file"] == path]
    assert all(r["file"] == path for r in report["results"])  # shipped-file warnings are not shown
    assert set(result) == {"rule", "severity", "message", "file", "line", "column", "graph", "focus", "path",
                           "value", "constraint"}
    assert (result["rule"], result["severity"], result["line"]) == ("source-missing", "warning", 24)
    assert result["graph"].startswith("file://")  # no source document: a graph named after the file


def test_cli_unparsable_exits_2_naming_file_and_line():
    run = cli("tests/fixtures/validation/unparsable/missing-dot.ttl")
    assert run.returncode == 2
    assert "tests/fixtures/validation/unparsable/missing-dot.ttl:30:5" in run.stdout
    assert "Could not validate" in run.stdout


def test_cli_github_format_for_unparsable_file():
    run = cli("--format", "github", "tests/fixtures/validation/unparsable/missing-dot.ttl")
    assert run.returncode == 2
    assert run.stdout.startswith(
        "::error file=tests/fixtures/validation/unparsable/missing-dot.ttl,line=30,col=5,title=explore-kg syntax::")


def test_github_escaping():
    from explore_kg.validation import Report, Result

    report = Report(results=[Result("x", VIOLATION, "50% done\nnext", file="a,b:c.ttl", line=3)])
    first = render_github(report).splitlines()[0]
    assert first == "::error file=a%2Cb%3Ac.ttl,line=3,title=explore-kg x::50%25 done%0Anext"


# --- the shapes themselves ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(SHAPES_FILE, format="turtle")


def test_shapes_graph_is_described(shapes):
    me = URIRef("https://w3id.org/explore-kg/shapes")
    assert (me, RDF.type, OWL.Ontology) in shapes
    assert shapes.value(me, OWL.versionInfo) and shapes.value(me, OWL.versionIRI)
    assert any(label.language == "en" for label in shapes.objects(me, RDFS.label))


def test_every_rule_shape_has_one_message_and_one_severity(shapes):
    rule_shapes = {s for s in shapes.subjects() if isinstance(s, URIRef) and str(s).startswith(str(SHAPES))
                   and (s, RDF.type, SH.SPARQLTarget) not in shapes}
    assert len(rule_shapes) > 60
    for shape in rule_shapes:
        assert len(list(shapes.objects(shape, SH.message))) == 1, shape
        assert len(list(shapes.objects(shape, SH.severity))) == 1, shape


def test_every_ranged_property_has_a_class_shape(shapes):
    """Each property whose range is one of our classes or a SKOS concept is checked by a shape on it."""
    ontology = Graph().parse(ONTOLOGY_DIR / "explore-kg.ttl", format="turtle")
    ranged = {p for p, r in ontology.subject_objects(RDFS.range)
              if (str(r).startswith(str(EKG)) or r == SKOS.Concept) and str(p).startswith(str(EKG))}
    checked = {p for shape in shapes.subjects(SH.path, None) for p in [shapes.value(shape, SH.path)]
               if (shape, SH["class"], None) in shapes or (shape, SH["or"], None) in shapes}
    assert ranged and ranged <= checked, ranged - checked


def test_every_date_property_is_checked_for_precision(shapes):
    ontology = Graph().parse(ONTOLOGY_DIR / "explore-kg.ttl", format="turtle")
    dates = {p for p in ontology.subjects(RDF.type, OWL.DatatypeProperty)
             if str(p).endswith(("Date", "#date", "#published"))}
    checked = {shapes.value(s, SH.path) for s in shapes.subjects(SH.node, SHAPES.DateAtPrecision)}
    assert len(dates) >= 7 and dates <= checked, dates - checked


def test_shapes_are_not_validated_as_data():
    """shapes.ttl sits in ontology/, but its triples must not reach the data graph."""
    from explore_kg.validation import _plan

    _review, _data, ontology_files = _plan([])
    assert SHAPES_FILE.resolve() not in ontology_files
    assert any(p.name == "explore-kg.ttl" for p in ontology_files)


def test_every_rule_is_documented(shapes):
    doc = (PROJECT_ROOT / "docs" / "validation-report.md").read_text(encoding="utf-8")
    rules = {str(s)[len(str(SHAPES)):] for s in shapes.subjects(SH.message, None) if str(s).startswith(str(SHAPES))}
    rules = {r for r in rules if not r[0].isupper()}  # value forms (Text, DateAtPrecision) are not rules
    own = {"syntax", "validator-error", "owl-inconsistency", "literal-ill-typed", "reference-dangling",
           "duplicate-entity", "source-missing"}
    missing = sorted(r for r in rules | own if f"| `{r}` |" not in doc)
    assert not missing, missing
