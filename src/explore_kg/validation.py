"""Validating facts, new and shipped, against the ontology, the shapes and the rest of the graph.

One entry point, :func:`validate`, runs every check on the shipped graph plus the files under review and
returns a :class:`Report` of :class:`Result` s, each naming a stable rule id, a severity and the file and
line of the offending subject. The checks, in order:

1. syntax: every file parses (else status 2, naming file:line:column and the parser's message);
2. OWL RL (owlrl, via :mod:`reasoning`) over ontology + data: contradictions such as a member of two
   disjoint classes (rule ``owl-inconsistency``);
3. SHACL (pyshacl) with ``ontology/shapes.ttl`` as the shapes graph over the asserted data + ontology +
   SKOS vocabularies (rule id = the shape's local name, e.g. ``party-wrong-class``). No inferred triples:
   a range axiom would type any value as the range class and make every ``sh:class`` check pass;
4. referential integrity: every IRI of our namespace that a reviewed fact points to is described
   somewhere (``reference-dangling``);
5. warnings: likely duplicates of existing entities (``duplicate-entity``) and facts whose file declares
   no source document (``source-missing``).

The shapes are read from their own file (``loading.SHAPES_FILE``) and never validated as data; the
loader keeps them out of the shipped graph.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH, SKOS, XSD
from rdflib.term import Node

from .loading import (
    ONTOLOGY_DIR,
    SHAPES_FILE,
    LoadedData,
    LoadError,
    load,
    parse_file,
    shipped_data_files,
    shipped_ontology_files,
    subject_lines,
    to_rdflib,
)
from .namespaces import BASE, EKG, ID, ONTOLOGY_GRAPH, PREFIXES, SHAPES
from .reasoning import reason

REPORT_SCHEMA_VERSION = 1

VIOLATION, WARNING, INFO = "violation", "warning", "info"
_SEVERITIES = {SH.Violation: VIOLATION, SH.Warning: WARNING, SH.Info: INFO}

# IRIs of our namespace that a fact may point to; each must be described somewhere.
_REFERABLE = tuple(BASE + p for p in ("id/", "vocab/", "source/", "ontology#"))
# Classes whose members are known by name: two of them with one name are probably one thing.
_NAMED_KINDS = tuple(
    EKG[c]
    for c in (
        "Organisation", "Person", "Mission", "Programme", "Spacecraft", "Instrument", "LaunchVehicle",
        "CelestialBody", "Place", "SurfaceRegion", "Orbit", "Technology",
    )
)
_NAME_PROPERTIES = (RDFS.label, EKG.acronym, SKOS.prefLabel, SKOS.altLabel)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Result:
    """One problem: which rule, how bad, where (file, line, graph), about what (focus, path, value)."""

    rule: str
    severity: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    graph: str | None = None
    focus: str | None = None
    path: str | None = None
    value: str | None = None
    constraint: str | None = None


@dataclass
class Report:
    """All results of one run, and the exit status they imply."""

    results: list[Result] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # the files under review, as displayed
    strict: bool = False
    could_not_run: bool = False
    triples: int = 0
    omitted: int = 0  # warnings and infos about shipped files not under review, left out
    timings: dict[str, float] = field(default_factory=dict)  # phase -> milliseconds

    def count(self, severity: str) -> int:
        return sum(1 for r in self.results if r.severity == severity)

    @property
    def status(self) -> int:
        """0 conforms, 1 violations (or warnings when strict), 2 could not run."""
        if self.could_not_run:
            return 2
        if self.count(VIOLATION) or (self.strict and self.count(WARNING)):
            return 1
        return 0

    @property
    def conforms(self) -> bool:
        return self.status == 0

    def to_dict(self) -> dict:
        """The JSON report; its schema is documented in docs/validation-report.md."""
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "status": self.status,
            "conforms": self.conforms,
            "strict": self.strict,
            "files": self.files,
            "triples": self.triples,
            "omitted": self.omitted,
            "counts": {s: self.count(s) for s in (VIOLATION, WARNING, INFO)},
            "results": [asdict(r) for r in self.results],
            "timings_ms": {k: round(v, 1) for k, v in self.timings.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


# --- the run ---------------------------------------------------------------------------------


def validate(paths: Iterable[Path | str] = (), *, strict: bool = False, progress: Progress | None = None) -> Report:
    """Validate the shipped graph together with ``paths`` (new fact files); no paths: the shipped data.

    Never raises for bad input: unreadable or unparsable files give a report with status 2.
    """
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    review, shipped_data, ontology_files = _plan(paths)
    report = Report(strict=strict, files=[display_path(p) for p in review])
    timer = _Timer(report.timings)

    with _quiet_rdflib():
        say("Reading files")
        with timer("load"):
            try:
                shapes = _to_graph(parse_file(SHAPES_FILE))
                base = load(shipped_data, shipped=False, ontology_paths=ontology_files)
                shipped = {*shipped_data, *ontology_files, SHAPES_FILE.resolve()}
                new = load([p for p in review if p not in shipped], shipped=False)
            except LoadError as e:
                report.could_not_run = True
                report.results.extend(_syntax_results(e, review))
                return report
        quads = base.quads + new.quads
        graph = _to_graph(quads)
        report.triples = len(graph)
        reviewed_quads = new.quads + [q for q in base.quads if Path(base.graph_files.get(_graph_iri(q), "")) in review]
        locator = _Locator(graph, review, base, new)

        say("Reasoning (OWL RL)")
        with timer("reason"):
            found = [r for i in reason(_without_text(graph)).inconsistencies for r in _owl_results(i, graph, locator)]

        say("Checking shapes (SHACL)")
        with timer("shacl"):
            try:
                found += _shacl_results(graph, shapes, locator)
            except Exception as e:  # a broken shapes file or a pyshacl failure: we could not validate
                report.could_not_run = True
                report.results.append(Result("validator-error", VIOLATION, f"SHACL validation failed: {e}", display_path(SHAPES_FILE)))
                return report

        say("Checking references, sources and duplicates")
        with timer("checks"):
            found += _dangling_references(graph, reviewed_quads, locator)
            found += _unsourced_files(reviewed_quads, locator)
            found += _duplicates(graph, reviewed_quads, locator)

    results = _sorted_unique(_drop_repeated_literals(found), review)
    # A warning about a shipped file that is not under review is not the contributor's to fix (and
    # cannot have been caused by the new files): count it, do not show it. Violations always show.
    reviewed = set(report.files)
    report.results = [r for r in results if r.severity == VIOLATION or r.file is None or r.file in reviewed]
    report.omitted = len(results) - len(report.results)
    report.timings["total"] = (time.perf_counter() - started) * 1000
    return report


def _plan(paths: Iterable[Path | str]) -> tuple[list[Path], list[Path], list[Path]]:
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
            self.into[phase] = (time.perf_counter() - t) * 1000


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
    """The union of the quads' graphs as one rdflib Graph (what pyshacl and owlrl take)."""
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True, replace=True)
    add = g.add
    for q in quads:
        add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return g


def _without_text(graph: Graph) -> Graph:
    """The graph minus its plain and language-tagged strings (labels, definitions, descriptions).

    Text takes part in no OWL RL rule that can make this ontology inconsistent (it declares no functional
    or key properties, see shapes.ttl), and can never be ill-typed; leaving it out makes owlrl about a
    third faster. Typed literals stay, so owlrl still reports an ill-typed date or number.
    """
    lean = Graph()
    add = lean.add
    for s, p, o in graph:
        if not (isinstance(o, Literal) and (o.language or o.datatype is None or o.datatype == XSD.string)):
            add((s, p, o))
    return lean


def _graph_iri(q: ox.Quad) -> str:
    return q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""


# --- where a node is described ---------------------------------------------------------------


class _Locator:
    """Finds the file and line where a node is described, preferring the files under review."""

    def __init__(self, graph: Graph, review: list[Path], *loaded: LoadedData):
        self.graph = graph
        self.order = list(dict.fromkeys([*review, *(f.resolve() for data in loaded for f in data.files)]))
        self.file_graphs = {Path(f).resolve(): g for data in loaded for g, f in data.graph_files.items()}
        self._lines: dict[Path, dict[str, int]] = {}

    def lines(self, path: Path) -> dict[str, int]:
        if path not in self._lines:
            self._lines[path] = subject_lines(path)
        return self._lines[path]

    def graph_of(self, path: Path) -> str:
        """The named graph a file's facts went to (its source document, the ontology graph, or the file)."""
        return self.file_graphs.get(path) or (str(ONTOLOGY_GRAPH) if path.parent == ONTOLOGY_DIR.resolve()
                                              else path.as_uri())

    def owner(self, node: Node) -> Node:
        """A blank node is shown where the IRI that holds it is described."""
        seen = set()
        while isinstance(node, BNode) and node not in seen:
            seen.add(node)
            parent = next(self.graph.subjects(None, node), None)
            if parent is None:
                break
            node = parent
        return node

    def locate(self, node: Node | str | None) -> dict:
        if node is None:
            return {}
        node = self.owner(URIRef(node) if isinstance(node, str) else node)
        if not isinstance(node, URIRef):
            return {}
        for path in self.order:
            line = self.lines(path).get(str(node))
            if line:
                return {"file": display_path(path), "line": line, "graph": self.graph_of(path)}
        return {}


def display_path(path: Path | str) -> str:
    """A path relative to the working directory when it is below it (what editors and GitHub expect)."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def curie(term: Node | str | None) -> str | None:
    """A short, readable form of a term or of a text holding IRIs: prefixed names where we have a prefix."""
    if term is None:
        return None
    if isinstance(term, Node):
        term = nt(term)
    return re.sub(r"<(https?://[^>\s]+)>|(?<![<\w])(https?://[^\s,;)>]+)",
                  lambda m: _prefixed(m.group(1) or m.group(2)) or m.group(0), term)


def _prefixed(iri: str) -> str | None:
    best = None
    for prefix, ns in PREFIXES.items():
        ns = str(ns)
        local = iri[len(ns):]
        if iri.startswith(ns) and re.fullmatch(r"[A-Za-z0-9_][\w.-]*|", local) and not local.endswith("."):
            if best is None or len(ns) > best[0]:
                best = (len(ns), f"{prefix}:{local}")
    return best[1] if best else None


def nt(term: Node | None) -> str | None:
    """A term in N-Triples syntax: <iri>, _:b0, "text"@en, "2024"^^<http://www.w3.org/2001/XMLSchema#gYear>."""
    return None if term is None else term.n3()


# --- the checks ------------------------------------------------------------------------------


def _syntax_results(error: LoadError, review: list[Path]) -> list[Result]:
    """The first parse error, plus any other file under review that does not parse either."""
    errors = [error]
    for path in review:
        if str(path) == str(Path(error.path).resolve()):
            continue
        try:
            parse_file(path)
        except LoadError as e:
            errors.append(e)
    seen, results = set(), []
    for e in errors:
        key = (str(Path(e.path).resolve()), e.line, e.message)
        if key not in seen:
            seen.add(key)
            results.append(Result("syntax", VIOLATION, e.message, display_path(e.path), e.line, e.column))
    return results


_ILL_TYPED = re.compile(r"Lexical value of the literal '(?P<lexical>.*)' does not match its datatype \((?P<datatype>\S+)\)")


def _owl_results(problem, graph: Graph, locator: _Locator) -> list[Result]:
    """owlrl's contradictions; an ill-typed literal is reported on each triple that holds it."""
    m = _ILL_TYPED.fullmatch(problem.message)
    if not m:
        return [Result("owl-inconsistency", VIOLATION, curie(problem.message), focus=problem.focus,
                       constraint=f"owlrl:{problem.rule}", **locator.locate(problem.focus))]
    literal = Literal(m["lexical"], datatype=URIRef(m["datatype"]))
    return [
        Result("literal-ill-typed", VIOLATION,
               f"{curie(nt(literal))} is not a valid {curie(m['datatype'])} value.",
               focus=_focus_text(locator.owner(s)), path=str(p), value=nt(literal),
               constraint=f"owlrl:{problem.rule}", **locator.locate(s))
        for s, p in graph.subject_predicates(literal)
    ]


def _drop_repeated_literals(results: list[Result]) -> list[Result]:
    """An ill-typed literal that a shape already reports (with a better message) is reported once."""
    shaped = {(r.focus, r.value) for r in results if r.rule != "literal-ill-typed"}
    return [r for r in results if r.rule != "literal-ill-typed" or (r.focus, r.value) not in shaped]


def _shacl_results(graph: Graph, shapes: Graph, locator: _Locator) -> list[Result]:
    import pyshacl

    _conforms, results_graph, _text = pyshacl.validate(
        graph, shacl_graph=shapes, inference="none", advanced=True, inplace=True, allow_warnings=True,
    )
    out = []
    top_level = [r for report in results_graph.subjects(RDF.type, SH.ValidationReport)
                 for r in results_graph.objects(report, SH.result)]  # not the nested sh:detail results
    for node in top_level:
        shape = results_graph.value(node, SH.sourceShape)
        component = results_graph.value(node, SH.sourceConstraintComponent)
        focus = results_graph.value(node, SH.focusNode)
        path = results_graph.value(node, SH.resultPath)
        value = results_graph.value(node, SH.value)
        message = results_graph.value(node, SH.resultMessage)
        severity = _SEVERITIES.get(results_graph.value(node, SH.resultSeverity), VIOLATION)
        if isinstance(shape, URIRef) and str(shape).startswith(str(SHAPES)):
            rule = str(shape)[len(str(SHAPES)):]
        else:
            rule = curie(component) or "shacl"
        where = locator.locate(focus)
        out.append(Result(
            rule, severity, str(message) if message else f"{curie(component)} failed",
            focus=_focus_text(focus), path=_path_text(results_graph, path),
            value=nt(value) if value is not None and value != focus else None, constraint=curie(component), **where,
        ))
    return out


def _focus_text(focus: Node | None) -> str | None:
    """The focus node: a plain IRI, or _:id for a blank node."""
    if focus is None:
        return None
    return str(focus) if isinstance(focus, URIRef) else nt(focus)


def _path_text(g: Graph, path: Node | None) -> str | None:
    """A SHACL path: the property IRI, or a SPARQL-like path of <iri>s (alternatives, inverse)."""
    if path is None or isinstance(path, URIRef):
        return None if path is None else str(path)
    alternatives = g.value(path, SH.alternativePath)
    if alternatives is not None:
        from rdflib.collection import Collection

        return " | ".join(nt(p) for p in Collection(g, alternatives))
    inverse = g.value(path, SH.inversePath)
    if inverse is not None:
        return f"^{nt(inverse)}"
    return nt(path)


def _dangling_references(graph: Graph, reviewed: list[ox.Quad], locator: _Locator) -> list[Result]:
    """Every IRI of our namespace that a reviewed fact uses as property or value must be described.

    Values of rdf:type are left to the ``class-unknown`` shape, which says more.
    """
    described = set(graph.subjects())
    out = []
    for q in reviewed:
        s, p, o = to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)
        for term in (p, None if p == RDF.type else o):
            if isinstance(term, URIRef) and str(term).startswith(_REFERABLE) and term not in described:
                out.append(Result(
                    "reference-dangling", VIOLATION,
                    f"{curie(term)} is not described anywhere in the graph or the new files: "
                    "a typo, or an entity that still needs a description of its own.",
                    focus=_focus_text(locator.owner(s)), path=str(p), value=nt(term), **locator.locate(s),
                ))
    return out


def _unsourced_files(reviewed: list[ox.Quad], locator: _Locator) -> list[Result]:
    """A reviewed file that describes no single ekg:SourceDocument: its facts have no source."""
    out = []
    by_graph = defaultdict(list)
    for q in reviewed:
        by_graph[_graph_iri(q)].append(q)
    for graph_iri, quads in by_graph.items():
        if not graph_iri.startswith("file:"):
            continue  # the loader named this graph after a source document
        for subject in sorted({q.subject.value for q in quads if isinstance(q.subject, ox.NamedNode)
                               and q.subject.value.startswith(str(ID))}):
            out.append(Result(
                "source-missing", WARNING,
                "Fact without a source: the file that describes this entity declares no ekg:SourceDocument, "
                "so nothing says which document states it.",
                focus=subject, path=str(EKG.statedIn), **locator.locate(subject),
            ))
    return out


def _duplicates(graph: Graph, reviewed: list[ox.Quad], locator: _Locator) -> list[Result]:
    """A reviewed entity whose name or acronym is another entity's, both of one named kind."""
    kinds = _named_kinds(graph)
    names: dict[str, set[URIRef]] = defaultdict(set)
    for prop in _NAME_PROPERTIES:
        for s, o in graph.subject_objects(prop):
            if isinstance(s, URIRef) and str(s).startswith(str(ID)) and isinstance(o, Literal):
                names[_normal(o)].add(s)
    reviewed_entities = sorted({
        URIRef(q.subject.value) for q in reviewed
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(str(ID))
    })
    reported: set[frozenset] = set()
    out = []
    for entity in reviewed_entities:
        for prop in _NAME_PROPERTIES:
            for name in graph.objects(entity, prop):
                if not isinstance(name, Literal):
                    continue
                for other in sorted(names.get(_normal(name), ())):
                    pair = frozenset((entity, other))
                    if other == entity or pair in reported or not (kinds.get(entity, set()) & kinds.get(other, set())):
                        continue
                    reported.add(pair)
                    out.append(Result(
                        "duplicate-entity", WARNING,
                        f"Likely duplicate: {curie(other)} has the same name \"{name}\". "
                        "Reuse that IRI if both are the same thing.",
                        focus=str(entity), path=str(prop), value=nt(other), **locator.locate(entity),
                    ))
    return out


def _normal(name: Literal) -> str:
    return " ".join(str(name).casefold().split())


def _named_kinds(graph: Graph) -> dict[URIRef, set[URIRef]]:
    """For each typed entity, which of the named-entity classes it belongs to (through subClassOf)."""
    ancestors: dict[Node, set[Node]] = {}

    def up(cls: Node) -> set[Node]:
        if cls not in ancestors:
            ancestors[cls] = {cls}
            for parent in graph.objects(cls, RDFS.subClassOf):
                ancestors[cls] |= up(parent)
        return ancestors[cls]

    kinds: dict[URIRef, set[URIRef]] = defaultdict(set)
    for s, cls in graph.subject_objects(RDF.type):
        if isinstance(s, URIRef):
            kinds[s] |= {k for k in _NAMED_KINDS if k in up(cls)}
    return kinds


def _sorted_unique(results: list[Result], review: list[Path]) -> list[Result]:
    """One result per problem, reviewed files first, then by line and rule."""
    order = {display_path(p): i for i, p in enumerate(review)}
    unique = {}
    for r in results:
        unique.setdefault((r.rule, r.severity, r.file, r.line, r.focus, r.path, r.value), r)
    return sorted(unique.values(), key=lambda r: (
        order.get(r.file or "", len(order)), r.file or "", r.line or 0, r.rule, r.focus or "", r.value or ""))


# --- output ----------------------------------------------------------------------------------


def render_github(report: Report) -> str:
    """GitHub Actions workflow commands: each result becomes an annotation on the pull request."""
    kinds = {VIOLATION: "error", WARNING: "warning", INFO: "notice"}
    lines = []
    for r in report.results:
        props = []
        if r.file:
            props.append(f"file={_gh_property(r.file)}")
        if r.line:
            props.append(f"line={r.line}")
        if r.column:
            props.append(f"col={r.column}")
        props.append(f"title={_gh_property('explore-kg ' + r.rule)}")
        detail = "; ".join(f"{k} {curie(v)}" for k, v in (("focus", r.focus), ("path", r.path), ("value", r.value)) if v)
        message = r.message + (f" ({detail})" if detail else "")
        lines.append(f"::{kinds.get(r.severity, 'error')} {','.join(props)}::{_gh_data(message)}")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def summary(report: Report) -> str:
    seconds = report.timings.get("total", sum(report.timings.values())) / 1000
    if report.could_not_run:
        return f"Could not validate: {len(report.results)} problem(s) stopped the run."
    v, w = report.count(VIOLATION), report.count(WARNING)
    files = f"{len(report.files)} file(s), {report.triples} triples"
    if not v and not w:
        omitted = f" ({report.omitted} warning(s) about other shipped files not shown)" if report.omitted else ""
        return f"Conforms: {files} checked in {seconds:.1f} s{omitted}."
    verdict = "Does not conform" if report.status else "Conforms, with warnings"
    omitted = f"; {report.omitted} warning(s) about other shipped files not shown" if report.omitted else ""
    return f"{verdict}: {v} violation(s), {w} warning(s) in {files} ({seconds:.1f} s{omitted})."


def print_text(report: Report, console=None) -> None:
    """The readable report: results grouped by file, each with file:line, rule and message."""
    from rich.console import Console
    from rich.markup import escape

    console = console or Console(soft_wrap=True)
    style = {VIOLATION: "bold red", WARNING: "yellow", INFO: "cyan"}
    groups: dict[str, list[Result]] = defaultdict(list)
    for r in report.results:
        groups[r.file or "(no file)"].append(r)
    for file, results in groups.items():
        console.print(f"[bold]{escape(file)}[/bold]")
        for r in results:
            where = f"{file}:{r.line}" + (f":{r.column}" if r.column else "") if r.line else file
            console.print(f"  {escape(where)}  [{style.get(r.severity, 'red')}]{r.severity}[/]  "
                          f"[bold]{escape(r.rule)}[/bold]  {escape(r.message)}")
            for label, value in (("focus", r.focus), ("path", r.path), ("value", r.value)):
                if value:
                    console.print(f"      {label}: {escape(curie(value))}", style="dim")
        console.print()
    colour = "green" if report.status == 0 else "red"
    console.print(f"[{colour}]{escape(summary(report))}[/]")


FORMATS = ("text", "json", "github")


def run_cli(paths: list[str], *, fmt: str = "text", strict: bool = False) -> int:
    """What ``explore-kg validate`` does: validate with progress on stderr, print, return the exit code."""
    import sys

    from rich.console import Console

    fmt = fmt.lower()
    err = Console(stderr=True, soft_wrap=True)
    if fmt not in FORMATS:
        err.print(f"Unknown format {fmt!r}: choose one of {', '.join(FORMATS)}.")
        return 2
    with err.status("Validating", spinner="dots") as status:
        report = validate(paths, strict=strict, progress=lambda msg: status.update(f"{msg}..."))
    if fmt == "json":
        sys.stdout.write(report.to_json())
    elif fmt == "github":
        sys.stdout.write(render_github(report))
    else:
        print_text(report)
    return report.status
