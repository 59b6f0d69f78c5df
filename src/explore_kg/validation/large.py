"""Validating inputs too large for pyshacl and owlrl: a subset of the shapes, in SPARQL, on disk.

pyshacl and owlrl need the whole graph in rdflib (about 1 KB of memory per triple, and owlrl did not
finish 100k triples in 120 s here), so for inputs of :data:`explore_kg.large_inputs.LARGE_BYTES` or more
(read there, at call time: the one threshold) ``explore-kg validate`` says so on stderr and takes this path
instead:

1. the files are loaded into an on-disk Oxigraph store, streaming, as ``serve`` loads them
   (:class:`explore_kg.store.disk.DiskStore`: kept in the cache directory, so a second run with the same
   files does not load again); a syntax error is reported with file:line:column and status 2;
2. every property shape of ``ontology/shapes.ttl`` whose targets are ``sh:targetClass`` /
   ``sh:targetSubjectsOf`` and whose path is one IRI is checked in SPARQL inside Oxigraph, for the
   constraints ``sh:minCount``, ``sh:maxCount``, ``sh:class`` (following rdfs:subClassOf), ``sh:datatype``
   and ``sh:nodeKind``; at most :data:`PER_SHAPE` results per shape (the report says how many more).

Not checked on this path (said in the report's note): the other SHACL constraints (sh:or, sh:pattern,
sh:node, SPARQL targets...), OWL RL, and the Python checks (terms, dates, claims, duplicates, sources).
Results name the file that holds the graph of the focus node, not a line: finding lines would mean
reading every file's tokens into memory.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pyoxigraph as ox

from ..loading import SHAPES_FILE, LoadError, shipped_ontology_files
from .report import VIOLATION, WARNING, Report, Result, display_path
from .syntax import syntax_results

PER_SHAPE = 100

_SH = "http://www.w3.org/ns/shacl#"
_SHAPES = f"""PREFIX sh: <{_SH}>
SELECT ?shape ?path ?message ?severity ?targetClass ?targetSubjectsOf ?minCount ?maxCount ?class ?datatype ?nodeKind
WHERE {{
  ?shape sh:path ?path . FILTER(isIRI(?path))
  OPTIONAL {{ ?shape sh:message ?message }}
  OPTIONAL {{ ?shape sh:severity ?severity }}
  OPTIONAL {{ {{ ?shape sh:targetClass ?targetClass }} UNION {{ ?node sh:property ?shape ; sh:targetClass ?targetClass }} }}
  OPTIONAL {{ {{ ?shape sh:targetSubjectsOf ?targetSubjectsOf }} UNION
             {{ ?node2 sh:property ?shape ; sh:targetSubjectsOf ?targetSubjectsOf }} }}
  OPTIONAL {{ ?shape sh:minCount ?minCount }}
  OPTIONAL {{ ?shape sh:maxCount ?maxCount }}
  OPTIONAL {{ ?shape sh:class ?class }}
  OPTIONAL {{ ?shape sh:datatype ?datatype }}
  OPTIONAL {{ ?shape sh:nodeKind ?nodeKind }}
}}"""
_NODE_KIND = {_SH + "IRI": "isIRI(?o)", _SH + "Literal": "isLiteral(?o)", _SH + "BlankNode": "isBlank(?o)",
              _SH + "BlankNodeOrIRI": "!isLiteral(?o)", _SH + "IRIOrLiteral": "!isBlank(?o)",
              _SH + "BlankNodeOrLiteral": "!isIRI(?o)"}
_SUBCLASS = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>/<http://www.w3.org/2000/01/rdf-schema#subClassOf>*"


def _constraint_queries(row) -> list[tuple[str, str]]:
    """(constraint, SPARQL SELECT ?s ?o) for one shape row: each solution is a violation."""
    def v(name):
        term = row[name]
        return None if term is None else term

    if v("targetClass") is not None:
        target = f"?s {_SUBCLASS} <{v('targetClass').value}> ."
    elif v("targetSubjectsOf") is not None:
        target = f"?s <{v('targetSubjectsOf').value}> [] ."
    else:
        return []
    path = f"<{v('path').value}>"
    out = []
    if v("minCount") is not None:
        n = int(v("minCount").value)
        out.append(("sh:minCount", f"SELECT DISTINCT ?s WHERE {{ {target} FILTER NOT EXISTS {{ ?s {path} [] }} }}"
                    if n == 1 else f"SELECT ?s (COUNT(DISTINCT ?o) AS ?n) WHERE {{ {target} OPTIONAL {{ ?s {path} ?o }} }} "
                    f"GROUP BY ?s HAVING (COUNT(DISTINCT ?o) < {n})"))
    if v("maxCount") is not None:
        out.append(("sh:maxCount", f"SELECT ?s (COUNT(DISTINCT ?o) AS ?n) WHERE {{ {target} ?s {path} ?o }} "
                    f"GROUP BY ?s HAVING (COUNT(DISTINCT ?o) > {int(v('maxCount').value)})"))
    if v("class") is not None:
        out.append(("sh:class", f"SELECT DISTINCT ?s ?o WHERE {{ {target} ?s {path} ?o . "
                    f"FILTER NOT EXISTS {{ ?o {_SUBCLASS} <{v('class').value}> }} }}"))
    if v("datatype") is not None:
        out.append(("sh:datatype", f"SELECT DISTINCT ?s ?o WHERE {{ {target} ?s {path} ?o . "
                    f"FILTER(!isLiteral(?o) || DATATYPE(?o) != <{v('datatype').value}>) }}"))
    if v("nodeKind") is not None and v("nodeKind").value in _NODE_KIND:
        out.append(("sh:nodeKind", f"SELECT DISTINCT ?s ?o WHERE {{ {target} ?s {path} ?o . "
                    f"FILTER(!({_NODE_KIND[v('nodeKind').value]})) }}"))
    return out


def validate_large(paths: list[Path], *, strict: bool = False, say=lambda _m: None) -> Report:
    """The scalable validation of ``paths`` (see the module docstring)."""
    from ..large_inputs import open_disk_store

    started = time.perf_counter()
    report = Report(strict=strict, files=[display_path(p) for p in paths])
    size = sum(p.stat().st_size for p in paths) / 2**20
    print(f"note: {size:,.0f} MB of input: pyshacl and owlrl hold the whole graph in memory and do not scale to "
          "it; checking syntax and the SHACL shapes' count, class, datatype and node-kind constraints in SPARQL "
          "on an on-disk store instead (no OWL RL, no term, date, claim or duplicate checks)", file=sys.stderr)
    say("Loading into an on-disk store")
    try:
        served = open_disk_store([*shipped_ontology_files(), *paths])
    except LoadError as e:
        report.could_not_run = True
        report.results.extend(syntax_results(e, paths))
        return report
    report.triples = served.triples
    store, graph_files = served.store, served.loaded.graph_files
    shapes = ox.Store()
    shapes.load(path=str(SHAPES_FILE), format=ox.RdfFormat.TURTLE, base_iri=SHAPES_FILE.resolve().as_uri())
    say("Checking shapes in SPARQL")
    checked = 0
    for row in shapes.query(_SHAPES):
        severity = WARNING if row["severity"] is not None and row["severity"].value == _SH + "Warning" else VIOLATION
        rule = row["shape"].value.rsplit("#", 1)[-1].rsplit("/", 1)[-1] if isinstance(row["shape"], ox.NamedNode) else "shape"
        message = row["message"].value if row["message"] is not None else f"{rule} does not hold"
        for constraint, query in _constraint_queries(row):
            checked += 1
            found = 0
            for solution in store.query(query + f" LIMIT {PER_SHAPE + 1}"):
                found += 1
                if found > PER_SHAPE:
                    report.results.append(Result(rule, severity, f"{message} (more than {PER_SHAPE} results: the "
                                                 "first are listed)", constraint=constraint))
                    break
                s = solution["s"]
                try:
                    o = solution["o"]
                except (KeyError, IndexError, TypeError):
                    o = None
                report.results.append(Result(rule, severity, message, file=_file_of(store, s, graph_files),
                                             focus=getattr(s, "value", str(s)), path=row["path"].value,
                                             value=None if o is None else getattr(o, "value", str(o)),
                                             constraint=constraint))
    report.timings["shacl-sparql"] = (time.perf_counter() - started) * 1000
    report.timings["total"] = (time.perf_counter() - started) * 1000
    print(f"note: {checked} constraints checked in SPARQL on {report.triples:,} triples", file=sys.stderr)
    return report


def _file_of(store: ox.Store, subject, graph_files: dict[str, str]) -> str | None:
    """The file whose graph describes ``subject`` (its first named graph, by index)."""
    for q in store.quads_for_pattern(subject, None, None, None):
        if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in graph_files:
            return display_path(Path(graph_files[q.graph_name.value]))
    return None
