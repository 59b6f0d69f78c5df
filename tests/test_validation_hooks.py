"""The validator as others run it: the pre-commit hook definition and the GitHub Actions workflow."""

from __future__ import annotations

import re
import shlex

import yaml

from explore_kg.loading import PROJECT_ROOT


def test_pre_commit_hook_runs_the_validator_on_turtle_files():
    [hook] = yaml.safe_load((PROJECT_ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "explore-kg-validate"
    assert hook["entry"] == "explore-kg validate"
    assert hook["language"] == "python"
    assert hook["args"] == ["--strict"]  # as CI runs it
    files = re.compile(hook["files"])
    assert files.search("data/new-facts.ttl") and not files.search("data/notes.md")


def test_workflow_validates_changed_data_files_with_github_annotations():
    workflow = yaml.safe_load((PROJECT_ROOT / ".github" / "workflows" / "validate-data.yml").read_text(encoding="utf-8"))
    trigger = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "data/**" in trigger["pull_request"]["paths"]
    steps = workflow["jobs"]["validate"]["steps"]
    commands = [shlex.split(s["run"].replace("\\\n", " ")) for s in steps if "run" in s]
    assert any("pip" in c and "install" in c for c in commands)
    runs = [s["run"] for s in steps if "run" in s and "explore-kg validate" in s["run"]]
    assert runs and all("--format github" in r and "--strict" in r for r in runs)  # unsourced facts and duplicates fail
    assert any("changed.txt" in r for r in runs)  # the changed files, not only the whole graph
