"""``validate --store URL FILE``: new facts checked against the graph in the store (what it holds about
the terms they use, asked for by SPARQL), with the same verdict as against the shipped files."""

from __future__ import annotations

from pathlib import Path

import pytest
from external_stores import run_cli, store_args

pytestmark = pytest.mark.store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "validation"
CASES = [FIXTURES / "good" / "complete-agreement.ttl", FIXTURES / "bad" / "agreement-missing-party.ttl"]


def test_validate_against_the_store_gives_the_embedded_verdict(pushed_oxigraph):
    for case, verdict in zip(CASES, (0, 1), strict=True):
        embedded = run_cli("validate", str(case))
        over_store = run_cli("validate", str(case), *store_args(pushed_oxigraph))
        assert embedded.returncode == verdict
        assert over_store.returncode == verdict, (case.name, over_store.stdout[-2000:])


def test_validate_against_a_store_that_is_down_exits_3(tmp_path):
    from conftest import free_port

    done = run_cli("validate", str(CASES[0]), "--store", f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
