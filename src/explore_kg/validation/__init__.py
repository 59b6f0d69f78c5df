"""Validating facts, new and shipped, against the ontology, the shapes and the rest of the graph.

One entry point, :func:`validate`, runs every check on the shipped graph plus the files under review and
returns a :class:`Report` of :class:`Result` s, each naming a stable rule id, a severity, what to do
(``hint``), and where: the file, line and column of the offending *triple* (found in the file's own
token stream, :mod:`explore_kg.positions`) and the line of its focus node (``focus_line``). The checks:

1. files: every given path is a readable RDF file (``file-unreadable``), and parses (``syntax``, with a
   hint for the common slips); otherwise nothing else runs and the status is 2;
2. SHACL (pyshacl) with ``ontology/shapes.ttl`` over the asserted data + ontology + SKOS vocabularies
   (rule id = the shape's local name). No inferred triples: a range axiom would type any value as the
   range class and make every ``sh:class`` check pass;
3. Python checks (:mod:`.checks`): OWL RL consistency (disjoint classes, ill-typed literals; owlrl
   itself when the graph uses OWL beyond what the quick check covers), our namespace and its terms
   (``namespace-http``, ``property-unknown``, ``class-unknown``, ``reference-dangling`` with a "did
   you mean"), dates, plans written as facts, sources, duplicates, claims and their basis.

The shapes are read from their own file (``loading.SHAPES_FILE``) and never validated as data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from ..loading import (
    SHAPES_FILE,
    LoadedData,
    LoadError,
    load,
    parse_file,
    shipped_data_files,
    shipped_ontology_files,
    to_rdflib,
)
from ..namespaces import GRAPH, PREFIXES
from . import checks
from .locate import Locator
from .report import (
    INFO,
    REPORT_SCHEMA_VERSION,
    VIOLATION,
    WARNING,
    Report,
    Result,
    curie,
    display_path,
    one_line,
    print_text,
    render_github,
    summary,
)
from .syntax import syntax_results, unreadable_results

__all__ = [
    "FORMATS", "INFO", "REPORT_SCHEMA_VERSION", "SHAPES_FILE", "VIOLATION", "WARNING", "Report", "Result",
    "curie", "display_path", "one_line", "print_text", "render_github", "run_cli", "summary", "validate",
]

Progress = Callable[[str], None]
# The loader's materialised entailments and owlrl's inferences: not asserted, never validated.
_NOT_ASSERTED = frozenset((str(GRAPH["entailed"]), str(GRAPH["inferred"])))


def validate(paths: Iterable[Path | str] = (), *, strict: bool = False, progress: Progress | None = None,
             base_data=None, timeout: float | None = None) -> Report:
    """Validate the shipped graph together with ``paths`` (new fact files); no paths: the shipped data.

    ``base_data(new) -> LoadedData``: the graph to check the new facts against instead of the shipped
    files (``validate --store URL``: what the store holds about the terms they use, see
    :func:`explore_kg.store.remote.context_for`).

    ``timeout``: on inputs of 16 MB or more (:mod:`explore_kg.validation.large`), seconds each SPARQL query
    may take (None: no limit); past it :class:`explore_kg.safety.QueryTimeout` is raised.

    Never raises for bad input: missing, unreadable or unparsable files give a report with status 2.
    """
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    given = [Path(p) for p in paths]
    bad_paths = unreadable_results(given)
    if bad_paths:
        report = Report(strict=strict, files=[display_path(p) for p in given], could_not_run=True, results=bad_paths)
        report.timings["total"] = (time.perf_counter() - started) * 1000
        return report
    from ..large_inputs import is_large
    from .large import validate_large

    if is_large(given):  # pyshacl and owlrl do not scale: SHACL constraints in SPARQL on disk (validation.large)
        return validate_large(given, strict=strict, say=say, timeout=timeout)
    review, shipped_data, ontology_files = _plan(given)
    report = Report(strict=strict, files=[display_path(p) for p in review])
    timer = _Timer(report.timings)

    with _quiet_rdflib():
        say("Reading files")
        with timer("load"):
            try:
                shapes = _to_graph(parse_file(SHAPES_FILE))
                shipped = {*shipped_data, *ontology_files, SHAPES_FILE.resolve()}
                new = load([p for p in review if p not in shipped], shipped=False)
                base = load(shipped_data, shipped=False, ontology_paths=ontology_files) if base_data is None \
                    else base_data(new)
            except LoadError as e:
                report.could_not_run = True
                report.results.extend(syntax_results(e, review))
                return report
        graph, reviewed_terms = _graph_and_reviewed(base, new, set(review))
        report.triples = len(graph)
        locator = Locator(graph, review, base, new)

        say("Checking shapes (SHACL)")
        from . import cache

        # The SHACL results of the same inputs, code and versions as a run before (validation.cache)
        shacl_key = cache.key([*review, *shipped_data, *ontology_files, SHAPES_FILE]) if base_data is None else None
        with timer("shacl"):
            found = cache.read(shacl_key)
            if found is None:
                try:
                    found = _shacl_results(shapes, graph, base, new, locator)
                except Exception as e:  # a broken shapes file or a pyshacl failure: we could not validate
                    report.could_not_run = True
                    report.results.append(Result("validator-error", VIOLATION, f"SHACL validation failed: {e}",
                                                 display_path(SHAPES_FILE),
                                                 hint="This is a bug in the shapes or the validator: please report it."))
                    return report
                cache.write(shacl_key, found)
            found = list(found)

        say("Checking terms, dates, sources, duplicates and claims")
        with timer("checks"):
            ctx = checks.Context(graph, reviewed_terms, locator)
            found += checks.run_all(ctx)

        if not checks.covered_by_quick_check(graph):
            say("Reasoning (OWL RL)")
            with timer("reason"):
                found += _owlrl_results(graph, ctx)

    results = _sorted_unique(_consequences_dropped(found), review)
    # A warning about a shipped file that is not under review is not the contributor's to fix (and
    # cannot have been caused by the new files): count it, do not show it. Violations always show.
    reviewed_files = set(report.files)
    report.results = [r for r in results if r.severity == VIOLATION or r.file is None or r.file in reviewed_files]
    if base_data is not None:  # --store: the store's own data is not under review (only part of it was read)
        report.results = [r for r in report.results if r.file in reviewed_files]
    report.omitted = len(results) - len(report.results)
    report.timings["total"] = (time.perf_counter() - started) * 1000
    return report


def _shacl_results(shapes: Graph, graph: Graph, base: LoadedData, new: LoadedData, locator: Locator) -> list[Result]:
    """pyshacl with the shapes (class unions and SPARQL targets expanded first), located in the files."""
    from .shacl import class_union_results, expand_sparql_targets, shacl_results, take_class_unions

    store = ox.Store()
    store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object)
                      for q in base.quads + new.quads if _graph_iri(q) not in _NOT_ASSERTED)
    unions = take_class_unions(shapes)
    found = class_union_results(graph, unions, locator)
    return found + shacl_results(graph, expand_sparql_targets(shapes, store), locator)


def _plan(paths: Iterable[Path]) -> tuple[list[Path], list[Path], list[Path]]:
    """Split the run into files under review, shipped data and ontology files (shapes excluded).

    A given path that is a shipped file is reviewed but read once; with no paths, all shipped data is
    reviewed.
    """
    ontology_files = [p.resolve() for p in shipped_ontology_files()]
    shipped_data = [p.resolve() for p in shipped_data_files()]
    given = list(dict.fromkeys(Path(p).resolve() for p in paths))
    review = given or list(shipped_data)
    return review, shipped_data, ontology_files


class _Timer:
    def __init__(self, into: dict[str, float]):
        self.into = into

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            self.into[phase] = self.into.get(phase, 0.0) + (time.perf_counter() - t) * 1000


@contextmanager
def _quiet_rdflib() -> Iterator[None]:
    """rdflib logs a traceback for each ill-typed literal; the report already says it, once."""
    logger = logging.getLogger("rdflib.term")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _to_graph(quads: Iterable[ox.Quad]) -> Graph:
    """The union of the quads' graphs as one rdflib Graph (what pyshacl takes)."""
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True, replace=True)
    add = g.add
    for q in quads:
        add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return g


def _graph_and_reviewed(base: LoadedData, new: LoadedData, review: set[Path]) -> tuple[Graph, list[checks.Quad]]:
    """The asserted quads as one rdflib Graph (what pyshacl takes), and the reviewed ones as rdflib quads
    (subject, predicate, object, graph IRI), each term converted once."""
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True, replace=True)
    add = g.add
    reviewed: list[checks.Quad] = []
    keep = reviewed.append
    terms: dict = {}  # each term converted once (an IRI recurs in many triples)

    def term(t):
        found = terms.get(t)
        if found is None:
            found = terms[t] = to_rdflib(t)
        return found

    for data, all_reviewed in ((base, False), (new, True)):
        files = data.graph_files
        reviewed_graphs: dict[str, bool] = {}  # graph IRI -> whether its file is under review
        for q in data.quads:
            graph_iri = _graph_iri(q)
            if graph_iri in _NOT_ASSERTED:
                continue
            triple = (term(q.subject), term(q.predicate), term(q.object))
            add(triple)
            under_review = reviewed_graphs.get(graph_iri)
            if under_review is None:
                under_review = reviewed_graphs[graph_iri] = all_reviewed or Path(files.get(graph_iri, "")) in review
            if under_review:
                keep((*triple, graph_iri))
    return g, reviewed


def _graph_iri(q: ox.Quad) -> str:
    return q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""


def _owlrl_results(graph: Graph, ctx: checks.Context) -> list[Result]:
    """owlrl's contradictions, for graphs that use OWL the quick check does not cover."""
    from ..reasoning import reason

    lean = Graph()
    for s, p, o in graph:
        if not (isinstance(o, Literal) and (o.language or o.datatype is None or o.datatype == XSD.string)):
            lean.add((s, p, o))
    out = []
    for problem in reason(lean).inconsistencies:
        if "does not match its datatype" in problem.message:
            continue  # ill-typed literals: checks.ill_typed_literals and the date checks report them
        focus = URIRef(problem.focus) if problem.focus else None
        out.append(Result("owl-inconsistency", VIOLATION, curie(problem.message), focus=problem.focus,
                          constraint=f"owlrl:{problem.rule}",
                          hint="Remove one of the contradicting statements.", **ctx.locator.locate(focus)))
    return out


def _consequences_dropped(results: list[Result]) -> list[Result]:
    """An ``http://w3id.org/explore-kg/`` IRI fails many shapes (pattern, class...) as a consequence; the
    ``namespace-http`` result says the one thing to fix, so the others about that IRI are left out."""
    if not any(r.rule == "namespace-http" for r in results):
        return results
    http = "http://w3id.org/explore-kg/"
    return [r for r in results if r.rule == "namespace-http"
            or not ((r.focus or "").startswith(http) or (r.value or "").strip("<").startswith(http))]


def _sorted_unique(results: list[Result], review: list[Path]) -> list[Result]:
    """One result per problem, reviewed files first, then by line, column and rule."""
    order = {display_path(p): i for i, p in enumerate(review)}
    unique = {}
    for r in results:
        unique.setdefault((r.rule, r.severity, r.file, r.line, r.column, r.focus, r.path, r.value), r)
    return sorted(unique.values(), key=lambda r: (
        order.get(r.file or "", len(order)), r.file or "", r.line or 0, r.column or 0, r.rule, r.focus or "",
        r.value or ""))


FORMATS = ("text", "json", "github")


def run_cli(paths: list[str], *, fmt: str = "text", strict: bool = False, store: dict | None = None,
            timeout: float | None = None) -> int:
    """What ``explore-kg validate`` does: validate with progress on stderr, print, return the exit code."""
    import sys

    from rich.console import Console

    fmt = fmt.lower()
    err = Console(stderr=True, soft_wrap=True, highlight=False, emoji=False)
    if fmt not in FORMATS:
        err.print(f"Unknown format {fmt!r}: choose one of {', '.join(FORMATS)}.")
        return 2
    base_data = None
    if store:  # --store URL: check the new facts against the graph in an external store
        from ..store.remote import StoreUnavailable, context_loader

        if not paths:
            err.print("validate --store URL needs the new fact files to check (FILE...).")
            return 2
        base_data = context_loader(store)
    try:
        if err.is_terminal:
            with err.status("Validating", spinner="dots") as status:
                report = validate(paths, strict=strict, progress=lambda msg: status.update(f"{msg}..."),
                                  base_data=base_data, timeout=timeout)
        else:  # CI, pre-commit: no spinner to refresh
            report = validate(paths, strict=strict, base_data=base_data, timeout=timeout)
    except KeyboardInterrupt:
        err.print("Interrupted.")
        return 130
    except Exception as e:
        from ..safety import QueryError, QueryTimeout

        if isinstance(e, QueryTimeout):  # validate --timeout on a large input: as query and sparql
            err.print(f"error: {e.message}")
            return 3

        if store and isinstance(e, StoreUnavailable | QueryError):  # the store is down or refuses
            err.print(f"error: {e.message}")
            return 3
        raise
    if fmt == "json":
        sys.stdout.write(report.to_json())
    elif fmt == "github":
        sys.stdout.write(render_github(report))
    else:
        print_text(report, err_console=err)
    return report.status
