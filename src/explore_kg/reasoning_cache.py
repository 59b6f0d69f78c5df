"""OWL 2 RL results kept by the content of the graph they were computed from.

owlrl takes about 8 s on the shipped graph (4.5k triples), and every ``validate``, ``export --inferred``,
``release`` and ``serve --inferred`` ran it again on the same triples. Its result depends only on those
triples, on owlrl's and rdflib's versions and on :mod:`explore_kg.reasoning`, so it is kept under a hash of
them in ``$XDG_CACHE_HOME/explore-kg/reasoning/`` (:mod:`explore_kg.validation.cache` keeps the entries).

Blank nodes have no name that lasts from one process to the next: each gets one from what is said about it
(its triples, then its neighbours' names, a few rounds). A graph where two blank nodes cannot be told
apart that way, or a result that names a blank node the input does not have, is not kept: owlrl runs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from rdflib import BNode, Graph
from rdflib.util import from_n3

from .validation.cache import installed_version, read_entry, write_entry

_KIND = "reasoning"
_ROUNDS = 4  # of naming blank nodes by their neighbours' names
_CODE = Path(__file__).with_name("reasoning.py")


def _term(term, names: dict[BNode, str]) -> str:
    return f"_:{names[term]}" if isinstance(term, BNode) else term.n3()


def blank_node_names(graph: Graph) -> dict[BNode, str] | None:
    """A name for each blank node of ``graph`` from what the graph says about it, the same in every process;
    None when two of them cannot be told apart."""
    nodes = {t for triple in graph.triples((None, None, None)) for t in triple if isinstance(t, BNode)}
    if not nodes:
        return {}
    names = dict.fromkeys(nodes, "")
    for _ in range(_ROUNDS):
        said: dict[BNode, list[str]] = {b: [] for b in nodes}
        for s, p, o in graph.triples((None, None, None)):  # (a Dataset iterates quads; reason() reads these)
            if isinstance(s, BNode):
                said[s].append(f"> {p.n3()} {names[o] if isinstance(o, BNode) else o.n3()}")
            if isinstance(o, BNode):
                said[o].append(f"< {p.n3()} {names[s] if isinstance(s, BNode) else s.n3()}")
        names = {b: hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:32] for b, lines in said.items()}
    return names if len(set(names.values())) == len(names) else None


def entry_key(graph: Graph, names: dict[BNode, str]) -> str:
    """The hash of the triples (blank nodes by their names), the code and the versions the result depends on."""
    digest = hashlib.sha256()
    for line in sorted(" ".join(_term(t, names) for t in triple) for triple in graph.triples((None, None, None))):
        digest.update(line.encode())
        digest.update(b"\n")
    digest.update(_CODE.read_bytes())
    for name in ("owlrl", "rdflib"):
        digest.update(f"{name}={installed_version(name)}\0".encode())
    return digest.hexdigest()


def read(graph: Graph):
    """(the kept result or None, and what :func:`write` needs to keep a new one)."""
    from .reasoning import Inconsistency, Reasoned

    names = blank_node_names(graph)
    if names is None:
        return None, None
    key = entry_key(graph, names)
    entry = read_entry(_KIND, key)
    if entry is None:
        return None, (key, names)
    nodes = {name: node for node, name in names.items()}
    inferred = Graph()
    for prefix, ns in graph.namespaces():
        inferred.bind(prefix, ns)
    try:
        for triple in entry["inferred"]:
            inferred.add(tuple(nodes[t[2:]] if t.startswith("_:") else from_n3(t) for t in triple))
        problems = [Inconsistency(**p) for p in entry["inconsistencies"]]
    except (KeyError, TypeError, ValueError):  # a damaged entry: reason again
        return None, (key, names)
    return Reasoned(inferred=inferred, inconsistencies=problems), None


def write(kept, reasoned) -> None:
    """Keep ``reasoned`` (the result of the graph :func:`read` was given) unless it names a new blank node."""
    if kept is None:
        return
    key, names = kept
    if any(isinstance(t, BNode) and t not in names for triple in reasoned.inferred for t in triple):
        return
    labels = [str(b) for b in names]
    if any(label in p.message or label == p.focus for p in reasoned.inconsistencies for label in labels):
        return  # a message naming a blank node by this process's label
    write_entry(_KIND, key, {
        "inferred": [[_term(t, names) for t in triple] for triple in reasoned.inferred],
        "inconsistencies": [{"rule": p.rule, "message": p.message, "focus": p.focus} for p in reasoned.inconsistencies],
    })
