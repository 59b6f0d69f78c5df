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
   The subclasses of every class named are read from the store once, up front, and written into the
   queries as a list: a property path ``rdf:type/rdfs:subClassOf*`` evaluated for each value took most of
   the time (1M quads: 21 s, now 2); ``MINUS`` replaces ``FILTER NOT EXISTS`` and counts are grouped
   over the path's triples before the target is joined (:func:`constraint_queries`). The queries run in
   one child process under the CLI's deadline rules (:func:`explore_kg.deadline.run_all_with_deadline`:
   Ctrl-C stops it at once, ``--timeout`` limits each query); the terminal shows which shape and
   constraint, n of m;
3. the results are located (:mod:`.large_locate`), at the places the small path names: the file holding
   the focus node's graph and the line and column of the offending triple (for a result without a
   value, of the focus node's first triple with the path; for a missing property, of the focus node's
   block), blank-node focus nodes included, in one streaming pass over each file that has results (for
   Turtle and TriG reading only the statements about the focus nodes with the token reader).

Not checked on this path (said in the report's note): the other SHACL constraints (sh:or, sh:pattern,
sh:node, SPARQL targets...), OWL RL, and the Python checks (terms, dates, claims, duplicates, sources).
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..loading import SHAPES_FILE, LoadError, shipped_ontology_files
from .report import VIOLATION, WARNING, Report, Result, display_path
from .syntax import syntax_results

PER_SHAPE = 100

_SH = "http://www.w3.org/ns/shacl#"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_SUBCLASS_OF = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
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
_TSV = "text/tab-separated-values"
_WITH_VALUE = frozenset(("sh:class", "sh:datatype", "sh:nodeKind"))  # their queries select ?s ?o, the others ?s


@dataclass(frozen=True)
class Check:
    """One constraint of one shape, as one SPARQL SELECT whose solutions (?s, maybe ?o) are its violations."""

    rule: str
    severity: str
    message: str
    path: str
    constraint: str
    query: str


def shape_rows(shapes: ox.Store) -> list:
    return list(shapes.query(_SHAPES))


def named_classes(rows) -> set[str]:
    """Every class a shape row targets or requires (their subclasses are read once, see :func:`subclasses`)."""
    return {row[name].value for row in rows for name in ("targetClass", "class")
            if isinstance(row[name], ox.NamedNode)}


def subclasses(store: ox.Store, classes: set[str]) -> dict[str, list[str]]:
    """``{class: [it and its named subclasses, by rdfs:subClassOf*]}`` as the store has them, in one query
    (a blank-node subclass is left out: no other file can give an instance that type)."""
    if not classes:
        return {}
    values = " ".join(f"<{c}>" for c in sorted(classes))
    found: dict[str, set[str]] = {c: {c} for c in classes}
    for row in store.query(f"SELECT ?super ?sub WHERE {{ VALUES ?super {{ {values} }} ?sub <{_SUBCLASS_OF}>* ?super }}"):
        if isinstance(row["sub"], ox.NamedNode):
            found[row["super"].value].add(row["sub"].value)
    return {c: sorted(found[c]) for c in classes}


def _typed(var: str, classes: list[str]) -> str:
    """``var`` has one of ``classes`` as rdf:type."""
    if len(classes) == 1:
        return f"{var} <{_RDF_TYPE}> <{classes[0]}> ."
    return f"VALUES {var}_class {{ {' '.join(f'<{c}>' for c in classes)} }} {var} <{_RDF_TYPE}> {var}_class ."


def constraint_queries(row, closure: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(constraint, SPARQL SELECT ?s [?o]) for one shape row: each solution is a violation.

    ``closure``: :func:`subclasses` of the row's classes. The forms are the fast ones in Oxigraph (1M
    quads): ``MINUS`` (one anti-join) rather than ``FILTER NOT EXISTS`` (a look-up per row), and counts
    grouped over the path's triples first, the target joined to the few subjects left. ``COUNT(?o)`` is
    ``COUNT(DISTINCT ?o)`` here: one triple pattern in the default graph, a set, gives each (s, o) once.
    A target ``sh:targetSubjectsOf P`` with path P adds nothing to a pattern that reads ``?s P ?o``.
    """
    def v(name):
        return row[name]

    path = f"<{v('path').value}>"
    if v("targetClass") is not None and not isinstance(v("targetClass"), ox.NamedNode):
        return []  # (a class expression, not a named class: not this path's to check)
    if v("targetClass") is not None:
        target = _typed("?s", closure[v("targetClass").value])
        implied = False
    elif v("targetSubjectsOf") is not None:
        target = f"?s <{v('targetSubjectsOf').value}> [] ."
        implied = v("targetSubjectsOf").value == v("path").value
    else:
        return []
    values = f"?s {path} ?o ." if implied else f"{target} ?s {path} ?o ."
    out = []
    if v("minCount") is not None:
        n = int(v("minCount").value)
        having = (f"?s {path} [] ." if n == 1 else
                  f"SELECT ?s WHERE {{ ?s {path} ?o }} GROUP BY ?s HAVING (COUNT(?o) >= {n})")
        out.append(("sh:minCount", f"SELECT DISTINCT ?s WHERE {{ {{ {target} }} MINUS {{ {having} }} }}"))
    if v("maxCount") is not None:
        counted = f"SELECT ?s WHERE {{ ?s {path} ?o }} GROUP BY ?s HAVING (COUNT(?o) > {int(v('maxCount').value)})"
        out.append(("sh:maxCount", f"SELECT DISTINCT ?s WHERE {{ {{ {counted} }} {'' if implied else target} }}"))
    if isinstance(v("class"), ox.NamedNode):
        out.append(("sh:class", f"SELECT DISTINCT ?s ?o WHERE {{ {{ {values} }} MINUS {{ {_typed('?o', closure[v('class').value])} }} }}"))
    if v("datatype") is not None:
        out.append(("sh:datatype", f"SELECT DISTINCT ?s ?o WHERE {{ {values} "
                    f"FILTER(!isLiteral(?o) || DATATYPE(?o) != <{v('datatype').value}>) }}"))
    if v("nodeKind") is not None and v("nodeKind").value in _NODE_KIND:
        out.append(("sh:nodeKind", f"SELECT DISTINCT ?s ?o WHERE {{ {values} "
                    f"FILTER(!({_NODE_KIND[v('nodeKind').value]})) }}"))
    return out


def checks(rows, closure: dict[str, list[str]]) -> list[Check]:
    """Every constraint of every shape row this path checks, in the shapes file's order."""
    out = []
    for row in rows:
        severity = WARNING if row["severity"] is not None and row["severity"].value == _SH + "Warning" else VIOLATION
        rule = row["shape"].value.rsplit("#", 1)[-1].rsplit("/", 1)[-1] if isinstance(row["shape"], ox.NamedNode) else "shape"
        message = row["message"].value if row["message"] is not None else f"{rule} does not hold"
        for constraint, query in constraint_queries(row, closure):
            out.append(Check(rule, severity, message, row["path"].value, constraint, query))
    return out


def _answers(store: ox.Store, todo: list[Check], timeout: float | None):
    """Each check's solutions, in order, evaluated in one child process under the CLI's deadline rules."""
    from ..deadline import run_all_with_deadline

    queries = [check.query + f" LIMIT {PER_SHAPE + 1}" for check in todo]
    for answer in run_all_with_deadline(store, queries, timeout=timeout, media_type=_TSV):
        yield ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.TSV)


def validate_large(paths: list[Path], *, strict: bool = False, say=lambda _m: None,
                   timeout: float | None = None) -> Report:
    """The scalable validation of ``paths`` (see the module docstring). ``timeout``: seconds each query may
    take (None or 0: no limit); past it :class:`explore_kg.safety.QueryTimeout` is raised."""
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
    report.timings["load"] = (time.perf_counter() - started) * 1000
    shapes = ox.Store()
    shapes.load(path=str(SHAPES_FILE), format=ox.RdfFormat.TURTLE, base_iri=SHAPES_FILE.resolve().as_uri())
    rows = shape_rows(shapes)
    todo = checks(rows, subclasses(store, named_classes(rows)))
    checking = time.perf_counter()
    found: list[tuple[Check, ox.Term, ox.Term | None]] = []
    with contextlib.closing(_answers(store, todo, timeout or None)) as answers:
        for number, check in enumerate(todo, start=1):
            say(f"Checking shapes in SPARQL: {check.rule} ({check.constraint}), {number} of {len(todo)}")
            count = 0
            for solution in next(answers):
                count += 1
                if count > PER_SHAPE:
                    report.results.append(Result(check.rule, check.severity, f"{check.message} (more than "
                                                 f"{PER_SHAPE} results: the first are listed)",
                                                 constraint=check.constraint))
                    break
                found.append((check, solution["s"], solution["o"] if check.constraint in _WITH_VALUE else None))
    report.timings["shacl-sparql"] = (time.perf_counter() - checking) * 1000
    from .large_locate import located  # (the token reader: only a run on this path needs it)

    say("Locating results")
    locating = time.perf_counter()
    report.results.extend(located(store, found, graph_files))
    report.timings["locate"] = (time.perf_counter() - locating) * 1000
    report.timings["total"] = (time.perf_counter() - started) * 1000
    print(f"note: {len(todo)} constraints checked in SPARQL on {report.triples:,} triples", file=sys.stderr)
    return report
