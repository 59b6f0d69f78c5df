"""Stable IRIs (issue 13): the shipped baseline lists are current, a released IRI cannot silently
disappear from the data, and a deprecated entity's IRI answers 301 to its replacement."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from conftest import start_server

from explore_kg import stable_iris
from explore_kg.namespaces import ID
from explore_kg.validation import released, validate

FIXTURES = Path(__file__).parent / "fixtures" / "stable_iris"


@pytest.mark.parametrize("path", stable_iris.baselines(), ids=lambda p: p.name)
def test_baseline_list_is_well_formed_and_still_described(path):
    """Every listed IRI is still a subject of the data (the data may have more: new entities)."""
    text = path.read_text(encoding="utf-8")
    iris = [iri for _n, iri in stable_iris.read_list(path)]
    assert iris, f"{path} lists nothing: run python -m explore_kg.stable_iris --write"
    assert iris == sorted(set(iris)), "sorted by code point, no duplicates"
    assert text.endswith("\n") and "\r" not in text
    current = stable_iris.current()[path]
    missing = sorted(set(iris) - set(current))
    assert not missing, f"released IRIs no longer described: {missing[:5]}"
    prefixes = stable_iris.ENTITY_PREFIXES if path == stable_iris.IRIS_FILE else stable_iris.TERM_PREFIXES
    assert all(iri.startswith(prefixes) for iri in iris)


def test_minted_claims_are_not_listed():
    """The loader's hash-named claims change with their value, so they are not promised to stay."""
    iris = stable_iris.current()[stable_iris.IRIS_FILE]
    assert not [i for i in iris if stable_iris.MINTED_CLAIM.match(i)]
    assert str(ID["agency/jaxa"]) in iris


def test_command_checks_the_lists():
    assert stable_iris.main(["--check"]) == 0
    assert stable_iris.main(["--nonsense"]) == 2


@pytest.fixture
def fixture_baseline(monkeypatch):
    monkeypatch.setattr(released, "BASELINES", [FIXTURES / "iris.txt"])


def test_dropping_a_released_iri_fails_and_deprecating_it_passes(fixture_baseline):
    report = validate([FIXTURES / "deprecated.ttl"])
    by_rule = {}
    for r in report.results:
        by_rule.setdefault(r.rule, []).append(r)
    removed = by_rule.pop("iri-removed")
    assert [r.focus for r in removed] == [str(ID["mission/fixture-vanished"])]
    assert removed[0].where.endswith("iris.txt:4"), removed[0].where  # the baseline list's line
    assert "owl:deprecated true" in removed[0].hint and "dcterms:isReplacedBy" in removed[0].hint
    warned = by_rule.pop("deprecated-without-replacement")
    assert [r.focus for r in warned] == [str(ID["mission/fixture-withdrawn"])]
    assert warned[0].where.startswith("tests/fixtures/stable_iris/deprecated.ttl:"), warned[0].where
    assert not by_rule, [f"{r.rule}: {r.message}" for rs in by_rule.values() for r in rs]  # no duplicate-entity


def test_a_replacement_must_exist(fixture_baseline):
    report = validate([FIXTURES / "bad-replacement.ttl"])
    found = [r for r in report.results if r.rule == "replacement-missing"]
    assert found and found[0].where.startswith("tests/fixtures/stable_iris/bad-replacement.ttl:"), found
    assert "fixture-no-such-lander" in found[0].message


def test_the_shipped_data_keeps_every_released_iri():
    report = validate()
    assert not [r for r in report.results if r.rule in ("iri-removed", "replacement-missing")]


def test_replaced_entity_answers_301_and_withdrawn_one_says_deprecated():
    with start_server(str(FIXTURES / "deprecated.ttl")) as server:
        old = httpx.get(server.url + "/id/mission/fixture-lunar-lander-old", headers={"Accept": "text/html"})
        assert old.status_code == 301 and old.headers["location"] == "/id/mission/fixture-lunar-lander"
        ttl = httpx.get(server.url + "/id/mission/fixture-lunar-lander-old?format=turtle")
        assert ttl.status_code == 301 and ttl.headers["location"] == "/id/mission/fixture-lunar-lander?format=turtle"
        followed = httpx.get(server.url + "/id/mission/fixture-lunar-lander-old", follow_redirects=True,
                             headers={"Accept": "text/turtle"})
        assert followed.status_code == 200 and "Fixture lunar lander" in followed.text
        withdrawn = httpx.get(server.url + "/id/mission/fixture-withdrawn", headers={"Accept": "text/html"})
        assert withdrawn.status_code == 200 and "Deprecated." in withdrawn.text
        live = httpx.get(server.url + "/id/mission/fixture-lunar-lander", headers={"Accept": "text/html"})
        assert live.status_code == 200 and "Deprecated." not in live.text


def test_a_removed_ontology_term_fails_too(monkeypatch):
    monkeypatch.setattr(released, "BASELINES", [FIXTURES / "terms.txt"])
    removed = [r for r in validate().results if r.rule == "iri-removed"]
    assert [r.focus for r in removed] == ["https://w3id.org/explore-kg/ontology#RemovedClass"]
    assert "ekg:RemovedClass" in removed[0].message and removed[0].where.endswith("terms.txt:3")
