"""OWL 2 RL results kept by the content of their graph (explore_kg.reasoning_cache): a second process
reads what the first computed, blank nodes included, and nothing ambiguous is kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from rdflib import BNode, Graph, Namespace, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from explore_kg.reasoning import _reason, reason
from explore_kg.reasoning_cache import blank_node_names, entry_key

EX = Namespace("https://example.org/")

# The shipped graph's OWL RL result, printed in words that do not depend on blank-node labels
_CHILD = """
import json, sys
from rdflib import BNode, Graph
from explore_kg import loading
from explore_kg.reasoning import reason
from explore_kg.reasoning_cache import blank_node_names
g = Graph()
for q in loading.load((), shipped=True).quads:
    g.add(tuple(loading.to_rdflib(t) for t in (q.subject, q.predicate, q.object)))
names = blank_node_names(g)
r = reason(g)
word = lambda t: "_:" + names[t] if isinstance(t, BNode) else t.n3()
print(json.dumps(sorted(" ".join(word(t) for t in triple) for triple in r.inferred)))
"""


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / "explore-kg" / "reasoning").glob("*.json"))


def test_a_second_process_reads_what_the_first_computed(tmp_path: Path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True)
    assert len(_entries(tmp_path)) == 1  # kept
    entry = _entries(tmp_path)[0]
    kept = json.loads(entry.read_text(encoding="utf-8"))
    assert len(kept["inferred"]) == len(json.loads(first.stdout)) > 1000  # (its blank nodes are named, see below)
    second = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True)
    assert json.loads(second.stdout) == json.loads(first.stdout)  # the same triples, blank nodes matched up
    assert _entries(tmp_path) == [entry]  # read, not computed and kept again under another key
    # and what was read is what owlrl gives: a damaged entry is not believed, owlrl runs and gives the same
    entry.write_text("{", encoding="utf-8")
    third = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True)
    assert json.loads(third.stdout) == json.loads(first.stdout)


def test_blank_nodes_nothing_tells_apart_are_not_kept(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    g = Graph()
    for b in (BNode(), BNode()):  # two blank nodes that say the same
        g.add((b, RDF.type, EX.Probe))
    g.add((EX.Probe, RDFS.subClassOf, EX.Spacecraft))
    assert blank_node_names(g) is None
    result = reason(g)
    assert sum(1 for _ in result.inferred.triples((None, RDF.type, EX.Spacecraft))) == 2
    assert _entries(tmp_path) == []


def test_another_triple_or_blank_node_is_another_entry(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    g = Graph()
    restriction = BNode()
    g.add((EX.Lander, RDFS.subClassOf, restriction))
    g.add((restriction, RDF.type, OWL.Restriction))
    g.add((restriction, OWL.onProperty, EX.carries))
    g.add((restriction, OWL.someValuesFrom, EX.Rover))
    g.add((URIRef(EX.slim), RDF.type, EX.Lander))
    key = entry_key(g, blank_node_names(g))
    assert set(reason(g).inferred) == set(_reason(g).inferred)  # computed, then read back: the same
    assert len(_entries(tmp_path)) == 1
    same = Graph()  # the same triples with a blank node of another label: the same entry
    other = BNode()
    for s, p, o in g:
        same.add((other if s == restriction else s, p, other if o == restriction else o))
    assert entry_key(same, blank_node_names(same)) == key
    g.add((EX.slim, RDFS.label, EX.moon))
    assert entry_key(g, blank_node_names(g)) != key
