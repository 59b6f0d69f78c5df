"""Smoke test of bench/writes.py (so the write benchmark cannot rot): two writes, on and off."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_writes_benchmark_runs(tmp_path):
    data = tmp_path / "tiny.nq"
    data.write_text('<https://w3id.org/explore-kg/id/x/a> <http://www.w3.org/2000/01/rdf-schema#label> "a" '
                    '<https://w3id.org/explore-kg/source/tiny> .\n')
    out = tmp_path / "writes.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "writes.py"), "--data", str(data), "--writes", "2",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    runs = json.loads(out.read_text())["runs"]
    assert [r["validation"] for r in runs] == [False, True]
    assert all(r["writes"] == 2 and r["p50_ms"] > 0 for r in runs)
    assert "| on |" in done.stdout and "| off |" in done.stdout
