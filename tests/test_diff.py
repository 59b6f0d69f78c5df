"""``explore-kg diff``: the changes between a release and changed data, as a changelog, JSON and an RDF Patch."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import explore_kg
from explore_kg.diff import apply_patch, load_side

ROOT = Path(__file__).resolve().parent.parent
VERSION = explore_kg.__version__
LUPEX = "https://w3id.org/explore-kg/id/mission/lupex"
REMOVED = "https://w3id.org/explore-kg/id/event/lupex-joint-mission-review-2018"
ADDED = "https://w3id.org/explore-kg/id/place/lunar-north-pole"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "explore_kg", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def change_data(tree: Path) -> None:
    """One changed fact (LUPEX's planned launch, and its claim), one removed entity, one new one."""
    path = tree / "data" / "lupex-mission-overview.ttl"
    text = path.read_text(encoding="utf-8")
    text = text.replace('ekg:plannedLaunchDate "2024"^^xsd:gYear ;', 'ekg:plannedLaunchDate "2025"^^xsd:gYear ;', 1)
    text = text.replace('ekg:claimProperty ekg:plannedLaunchDate ;\n    ekg:claimValue "2024"^^xsd:gYear ;',
                        'ekg:claimProperty ekg:plannedLaunchDate ;\n    ekg:claimValue "2025"^^xsd:gYear ;', 1)
    text, removed = re.subn(r"event:lupex-joint-mission-review-2018 a ekg:Review ;.*?\n\n", "", text, count=1, flags=re.S)
    assert removed == 1 and '"2025"^^xsd:gYear' in text
    text += ('\nplace:lunar-north-pole a ekg:SurfaceRegion ;\n    rdfs:label "lunar north pole"@en ;\n'
             "    ekg:partOf body:moon .\n")
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def release(shipped_release) -> Path:
    """`explore-kg release VERSION --out OUT --date 2026-11-30`, run once for this module and test_release (conftest)."""
    out, done = shipped_release
    assert done.returncode == 0, done.stderr
    return out / VERSION


@pytest.fixture(scope="module")
def changed(tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("changed")
    for part in ("data", "ontology"):
        shutil.copytree(ROOT / part, tree / part)
    change_data(tree)
    return tree


def test_no_differences_between_a_release_and_its_data(release: Path):
    done = cli("diff", str(release), str(ROOT))
    assert done.returncode == 0, done.stderr
    assert "No differences." in done.stdout


def test_markdown_lists_exactly_the_three_changes(release: Path, changed: Path):
    done = cli("diff", str(release), str(changed), "--format", "markdown")
    assert done.returncode == 1, done.stderr
    items = [line for line in done.stdout.splitlines() if line.startswith("- ")]
    assert items == [
        "- LUPEX Joint Mission Review (lupex-mission-overview): removed entity (review), with its 7 facts",
        "- LUPEX (lupex-mission-overview): planned launch date 2024 -> 2025",
        '- lunar north pole (lupex-mission-overview): new entity (surface region); added: label "lunar north pole"; part of Moon',
    ], done.stdout
    assert "## lupex-mission-overview" in done.stdout


def test_json_lists_exactly_the_three_changes(release: Path, changed: Path):
    done = cli("diff", str(release), str(changed), "--format", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["different"] is True
    entities = {(e["entity"], e["status"]) for e in report["entities"]}
    assert entities == {(LUPEX, "changed"), (REMOVED, "removed"), (ADDED, "new")}
    lupex = next(e for e in report["entities"] if e["entity"] == LUPEX)
    (launch,) = lupex["properties"]
    assert launch["label"] == "planned launch date"
    assert [v["label"] for v in launch["removed"]] == ["2024"] and [v["label"] for v in launch["added"]] == ["2025"]
    assert lupex["claims"] == []  # the claim's value, bounds: the same change, not a second one


def test_patch_applied_to_old_gives_new(release: Path, changed: Path):
    done = cli("diff", str(release), str(changed), "--format", "patch")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "TX ." and lines[-1] == "TC ."
    assert all(line[:2] in ("A ", "D ") for line in lines[1:-1])
    assert any(line.startswith("D ") and REMOVED in line for line in lines)
    assert any(line.startswith("A ") and ADDED in line for line in lines)
    old, new = load_side(str(release)), load_side(str(changed))
    assert old.quads != new.quads
    assert apply_patch(old.quads, done.stdout) == new.quads


def test_text_is_the_default_off_a_terminal_is_markdown(release: Path, changed: Path):
    assert cli("diff", str(release), str(changed)).stdout.startswith("# Changes from ")
    text = cli("diff", str(release), str(changed), "-f", "text").stdout
    assert text.startswith("lupex-mission-overview:\n  ")
    assert "\n  LUPEX (lupex-mission-overview): planned launch date 2024 -> 2025\n" in text


def test_rdf_files_and_blank_nodes_by_content(tmp_path: Path):
    head = "@prefix ex: <http://example.org/> .\n"
    (tmp_path / "a.ttl").write_text(head + "ex:s ex:p [ ex:q 1 ; ex:r [ ex:t 2 ] ] .\n")
    (tmp_path / "b.ttl").write_text(head + "_:other ex:t 2 . _:x ex:r _:other ; ex:q 1 . ex:s ex:p _:x .\n")
    (tmp_path / "c.nt").write_text("<http://example.org/s> <http://example.org/p> _:z .\n"
                                   "_:z <http://example.org/q> \"1\"^^<http://www.w3.org/2001/XMLSchema#integer> .\n"
                                   "_:z <http://example.org/r> _:y .\n"
                                   "_:y <http://example.org/t> \"3\"^^<http://www.w3.org/2001/XMLSchema#integer> .\n")
    same = cli("diff", str(tmp_path / "a.ttl"), str(tmp_path / "b.ttl"))
    assert same.returncode == 0 and "No differences." in same.stdout, same
    other = cli("diff", str(tmp_path / "a.ttl"), str(tmp_path / "c.nt"), "-f", "patch")
    assert other.returncode == 1
    assert sum(line.startswith("D ") for line in other.stdout.splitlines()) >= 1
    assert apply_patch(load_side(str(tmp_path / "a.ttl")).quads, other.stdout) == load_side(str(tmp_path / "c.nt")).quads


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def test_rev_compares_two_commits_without_touching_the_work_tree(tmp_path: Path):
    repo = tmp_path / "repo"
    for part in ("data", "ontology"):
        shutil.copytree(ROOT / part, repo / part)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "first")
    change_data(repo)
    git(repo, "commit", "-qam", "second")
    (repo / "data" / "lupex-mission-overview.ttl").write_text("not turtle at all")  # work tree: never read
    done = cli("diff", "--rev", "HEAD~1..HEAD", "--format", "json", cwd=repo)
    assert done.returncode == 1, done.stderr
    assert {(e["entity"], e["status"]) for e in json.loads(done.stdout)["entities"]} == {
        (LUPEX, "changed"), (REMOVED, "removed"), (ADDED, "new")}
    assert (repo / "data" / "lupex-mission-overview.ttl").read_text() == "not turtle at all"
    assert cli("diff", "--rev", "HEAD..HEAD", cwd=repo).returncode == 0


def test_rev_on_this_repository():
    done = cli("diff", "--rev", "HEAD~1..HEAD", cwd=ROOT)
    assert done.returncode in (0, 1) and done.stderr == "", done.stderr


@pytest.mark.parametrize("args, message", [
    (["/nowhere/a.ttl", "/nowhere/b.ttl"], "no such file or directory"),
    (["--rev", "HEAD"], "give two revisions as A..B"),
    (["--rev", "no-such-rev..HEAD"], "git rev-parse"),
    ([], "give OLD and NEW"),
    (["a", "b", "--rev", "HEAD~1..HEAD"], "not both"),
    (["a", "b", "-f", "yaml"], "--format 'yaml'"),
])
def test_usage_errors_exit_2(args, message):
    done = cli("diff", *args, cwd=ROOT)
    assert done.returncode == 2, done
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
