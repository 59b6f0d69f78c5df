"""The FOOPS!-style, OntPub (pySHACL) and OOPS!-style checks of the ontology, offline (issue 13): the
shipped ontology passes every one, a deliberately broken one fails every one with a message naming
the term, and docs/ontology-checks.md is the module's own report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from explore_kg import ontology_checks
from explore_kg.namespaces import PROJECT_ROOT

ONTOLOGY = PROJECT_ROOT / "ontology" / "explore-kg.ttl"
BROKEN = Path(__file__).parent / "fixtures" / "ontology" / "broken.ttl"
CHECK_IDS = [c.id for c in ontology_checks.CHECKS]


@pytest.fixture(scope="module")
def shipped():
    return ontology_checks.load(ONTOLOGY)


@pytest.fixture(scope="module")
def broken():
    return ontology_checks.load(BROKEN)


def _check(check_id):
    return next(c for c in ontology_checks.CHECKS if c.id == check_id)


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_shipped_ontology_passes(shipped, check_id):
    assert _check(check_id).run(shipped) == []


# What each check's message must name on the broken fixture: the term or the metadata that is wrong.
EXPECTED = {
    "foops-persistent-iri": "not a persistent one",
    "foops-title": "no title (dcterms:title)",
    "foops-description": "no description",
    "foops-license": "no licence",
    "foops-creator": "no creator",
    "foops-publisher": "no publisher",
    "foops-version": "owl:versionIRI is the ontology IRI itself",
    "foops-dates": "no issue date (dcterms:issued)",
    "foops-namespace": "no preferred prefix",
    "foops-citation": "no citation",
    "foops-term-labels": "broken#Car> has no rdfs:label",
    "foops-term-definitions": "broken#Car> has no definition",
    "foops-defined-by": "broken#Car> has no rdfs:isDefinedBy",
    "ontpub-profile": "Requirement 2.2.1",
    "oops-missing-domain-range": "broken#Drives> has no domain and no range",
    "oops-multiple-domains-ranges": "has 2 rdfs:domain axioms",
    "oops-inverses": "inverse of itself",
    "oops-hierarchy-cycles": "class hierarchy cycle",
    "oops-unconnected": "broken#lonely_thing> is not connected",
    "oops-synonyms-as-classes": "declared equivalent",
    "oops-undeclared-terms": "broken#Wheel> is used but not declared",
    "oops-naming": "is not UpperCamelCase",
    "oops-label-definition": "the label is longer than the definition",
    "owl-rl-safe": "owl:FunctionalProperty",
}


def test_every_check_has_an_expectation():
    assert set(EXPECTED) == set(CHECK_IDS)


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_broken_ontology_fails_with_a_readable_message(broken, check_id):
    problems = _check(check_id).run(broken)
    assert problems, f"{check_id} passed on the broken fixture"
    assert any(EXPECTED[check_id] in p for p in problems), problems
    assert all("\n" not in p and len(p) < 400 and "Literal(" not in p for p in problems), problems


def test_command_exit_codes():
    run = [sys.executable, "-m", "explore_kg.ontology_checks"]
    ok = subprocess.run([*run, str(ONTOLOGY)], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"{len(CHECK_IDS)} of {len(CHECK_IDS)} checks pass" in ok.stdout
    bad = subprocess.run([*run, str(BROKEN)], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "FAIL  foops-license" in bad.stdout and "Traceback" not in bad.stderr
    missing = subprocess.run([*run, "no-such.ttl"], capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "no such file" in missing.stderr and "Traceback" not in missing.stderr


def test_docs_list_every_check_with_its_result(shipped):
    doc = (PROJECT_ROOT / "docs" / "ontology-checks.md").read_text(encoding="utf-8")
    expected = ontology_checks.markdown("ontology/explore-kg.ttl", list(ontology_checks.run(shipped)),
                                        ontology_checks.ontpub_warnings(shipped))
    assert doc == expected, "regenerate: python -m explore_kg.ontology_checks ontology/explore-kg.ttl --markdown " \
                            "> docs/ontology-checks.md"
    for check_id in CHECK_IDS:
        assert f"| `{check_id}` |" in doc
