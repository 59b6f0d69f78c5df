"""The write gate: what one update changed, and whether the store may keep it.

A SPARQL update runs in Oxigraph (all of SPARQL 1.1 Update, one transaction) on the writer's live store.
What it changed is found without reading the whole store: rdflib's parser gives the update's templates
and graph operations, each a quad pattern ("region") that bounds what the operation can touch; the
regions are read before and after, and their difference is the delta. An update whose templates bind
nothing (``DELETE { ?s ?p ?o } ...``, ``CLEAR ALL``) reads the graph or store it names.

The delta is then validated *incrementally*: the focus nodes are the subjects of the changed quads; the
data validated is their descriptions, the descriptions of what
they reference (one hop), the source documents of the graphs changed, the entities sharing a name with them (likely
duplicates) and the ontology graph. On that small graph run the shapes that apply (SHACL), the
project's checks (:mod:`explore_kg.validation.checks`: sources, namespace, dates, duplicates, OWL RL
consistency; owlrl itself only on this part), and only results about the focus nodes count.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, BNode, Graph, URIRef
from rdflib import Literal as RLiteral

from .entailment import ENTAILED_GRAPH
from .loading import SHAPES_FILE, parse_file, to_rdflib
from .namespaces import EKG, ONTOLOGY_GRAPH, PREFIXES
from .safety import QueryRefused, _unescape_codepoints, scan
from .validation.report import VIOLATION, Report, Result

log = logging.getLogger("explore_kg.write")

Pattern = tuple  # (subject, predicate, object, graph): ox terms or None (any)
_ENTAILED = ox.NamedNode(str(ENTAILED_GRAPH))
_ONTOLOGY = ox.NamedNode(str(ONTOLOGY_GRAPH))
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_OWL = "http://www.w3.org/2002/07/owl#"
_SOURCE_DOCUMENT = ox.NamedNode(str(EKG.SourceDocument))
_NAMES = [ox.NamedNode(str(p)) for p in (
    "http://www.w3.org/2000/01/rdf-schema#label", str(EKG.acronym),
    "http://www.w3.org/2004/02/skos/core#prefLabel", "http://www.w3.org/2004/02/skos/core#altLabel")]


class UpdateRefused(QueryRefused):
    """An update this server will not run (LOAD, SERVICE, USING with using-graph-uri...)."""


@dataclass
class Delta:
    added: set = field(default_factory=set)
    removed: set = field(default_factory=set)
    # Named graphs that came to exist empty (CREATE, a PUT of nothing) or stopped existing (DROP, DELETE of
    # a graph): quads do not say it, the change log does (the readers follow it).
    created: set = field(default_factory=set)
    dropped: set = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.created or self.dropped)

    def graphs_changed(self, store: ox.Store, before: dict) -> None:
        """Note which of the graphs of ``before`` (graph -> existed) were created or dropped; ``before``
        None-keyed: every named graph was asked (an update that may touch any)."""
        if None in before:
            now = set(store.named_graphs())
            self.created |= now - set(before[None])
            self.dropped |= set(before[None]) - now
            return
        for g, existed in before.items():
            exists = store.contains_named_graph(g)
            if existed and not exists:
                self.dropped.add(g)
            elif exists and not existed:
                self.created.add(g)
        self.created -= {q.graph_name for q in self.added}  # a graph that holds quads now: they say it

    def sources(self) -> list[str]:
        """The named graphs the change touched (the source documents, in the shipped graph's model)."""
        return sorted({q.graph_name.value for q in self.added | self.removed if isinstance(q.graph_name, ox.NamedNode)})


# --- what an update touches -------------------------------------------------------------------------

def check_update(text: str, *, allow_remote: bool) -> None:
    """The read path's rules for updates: no LOAD of anything and no SERVICE unless --allow-remote."""
    remote = scan(text)[2]
    if "\\u" in text or "\\U" in text:
        remote += scan(_unescape_codepoints(text))[2]
    if not allow_remote and "LOAD" in remote:
        raise UpdateRefused("LOAD is refused: this server never fetches what an update names "
                            "(an operator can allow it with --allow-remote)")
    if not allow_remote and "SERVICE" in remote:
        raise UpdateRefused("SERVICE is refused: this server never fetches data from other endpoints "
                            "(an operator can allow it with --allow-remote)")


def _ox(term) -> ox.NamedNode | None:
    return ox.NamedNode(str(term)) if isinstance(term, URIRef) else None


def _graph_term(name, default):
    if name is None or name == "DEFAULT":
        return default
    return _ox(name)


def data_regions(text: str, base: str | None) -> list[Pattern] | None:
    """:func:`regions` of an update made only of ``INSERT DATA`` / ``DELETE DATA`` operations (the usual
    write), read by Oxigraph's TriG parser, which takes their quad data as it is, instead of rdflib's
    SPARQL parser (tens of milliseconds a write); None for any other update, or quad data TriG does not
    read (a last triple without its '.', outside a GRAPH block): :func:`regions` then reads it."""
    from .safety import token_pattern

    found = [(m.lastgroup, m.group(), m.start(), m.end()) for m in token_pattern().finditer(text)
             if m.lastgroup not in ("ws", "comment")]
    prologue, out, i = "", [], 0
    while i < len(found):
        kind, value, _start, _end = found[i]
        word = value.upper() if kind == "word" else None
        if word == "PREFIX" and i + 2 < len(found) and found[i + 1][0] == "pname" and found[i + 2][0] == "iri":
            prologue += f"PREFIX {found[i + 1][1]} {found[i + 2][1]}\n"
            i += 3
        elif word == "BASE" and i + 1 < len(found) and found[i + 1][0] == "iri":
            prologue += f"BASE {found[i + 1][1]}\n"
            i += 2
        elif word in ("INSERT", "DELETE") and i + 2 < len(found) and found[i + 1][1].upper() == "DATA" \
                and found[i + 2][1] == "{":
            depth, j = 0, i + 2
            while j < len(found):
                depth += {"open": 1, "close": -1}.get(found[j][0], 0)
                if depth == 0:
                    break
                j += 1
            if j == len(found) or found[j][1] != "}":
                return None
            try:
                quads = ox.parse(prologue + text[found[i + 2][3]:found[j][2]], format=ox.RdfFormat.TRIG,
                                 base_iri=base)
                for q in quads:
                    subject = q.subject if isinstance(q.subject, ox.NamedNode) else None
                    out.append((subject, q.predicate, None, q.graph_name))
            except (SyntaxError, ValueError):
                return None
            i = j + 1
        elif value == ";":
            i += 1
        else:
            return None
    return out


def regions(text: str, base: str | None) -> list[Pattern] | None:
    """The quad patterns that bound what the update can change; None: it may change anything."""
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate

    quick = data_regions(text, base)
    if quick is not None:
        return quick

    try:
        parsed = translateUpdate(parseUpdate(text), base=base)
    except Exception:  # noqa: BLE001 - rdflib reads less than Oxigraph: then read everything
        return None
    out: list[Pattern] = []

    def templates(clause, default) -> None:
        if clause is None:
            return
        for s, p, _o in clause.get("triples") or ():
            out.append((_ox(s), _ox(p), None, default))
        for g, triples in (clause.get("quads") or {}).items():
            for s, p, _o in triples:
                out.append((_ox(s), _ox(p), None, _ox(g)))  # a variable graph: any graph

    for op in parsed.algebra:
        name = op.name
        if name in ("InsertData", "DeleteData", "DeleteWhere"):
            templates(op, ox.DefaultGraph())
        elif name == "Modify":
            default = _ox(op.withClause) if op.withClause is not None else ox.DefaultGraph()
            templates(op.delete, default)
            templates(op.insert, default)
        elif name in ("Clear", "Drop"):
            if op.graphiri in ("NAMED", "ALL"):
                return None
            out.append((None, None, None, _graph_term(op.graphiri, ox.DefaultGraph())))
        elif name in ("Add", "Move", "Copy"):
            for g in op.graph:
                out.append((None, None, None, _graph_term(g, ox.DefaultGraph())))
        elif name in ("Create", "Drop"):
            out.append((None, None, None, _graph_term(op.graphiri, ox.DefaultGraph())))
        elif name == "Load":
            out.append((None, None, None, _graph_term(op.graphiri, ox.DefaultGraph())))
    return out


def read_regions(store: ox.Store, patterns: list[Pattern] | None) -> set:
    if patterns is None or any(p == (None, None, None, None) for p in patterns):
        return set(store)
    found: set = set()
    for s, p, o, g in dict.fromkeys(patterns):
        found.update(store.quads_for_pattern(s, p, o, g))
    return found


def run_update(store: ox.Store, text: str, *, base: str | None) -> Delta:
    """Run ``text`` on ``store`` (one transaction) and return what it changed."""
    patterns = regions(text, base)
    before = read_regions(store, patterns)
    graphs = {None: list(store.named_graphs())} if patterns is None else {
        g: store.contains_named_graph(g) for s, p, o, g in patterns
        if s is None and p is None and o is None and isinstance(g, ox.NamedNode)}  # CREATE, DROP, COPY...
    # A store whose graphs exist by holding quads (SPARQL 1.1 Update 3.2.2): CLEAR of a graph it does not
    # hold clears nothing, where Oxigraph would fail; the graphs CLEAR names are made to exist first.
    created = [g for g in _cleared_graphs(text, base) if not store.contains_named_graph(g)]
    for g in created:
        store.add_graph(g)
    try:
        store.update(text, base_iri=base)
    except BaseException:
        for g in created:
            if not any(True for _ in store.quads_for_pattern(None, None, None, g)):
                store.remove_graph(g)
        raise
    after = read_regions(store, patterns)
    delta = Delta(added=after - before, removed=before - after)
    delta.graphs_changed(store, graphs)
    return delta


def _cleared_graphs(text: str, base: str | None) -> list[ox.NamedNode]:
    if "CLEAR" not in text.upper():
        return []
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        parsed = translateUpdate(parseUpdate(text), base=base)
    except Exception:  # noqa: BLE001 - Oxigraph reports the syntax error
        return []
    return [_ox(op.graphiri) for op in parsed.algebra if op.name == "Clear" and isinstance(op.graphiri, URIRef)]


def replace_graph(store: ox.Store, graph, quads: list[ox.Quad] | None, *, keep: bool) -> Delta:
    """The Graph Store Protocol's PUT (``keep=False``), POST (``keep=True``) or DELETE (``quads=None``)."""
    before = set(store.quads_for_pattern(None, None, None, graph))
    new = {ox.Quad(q.subject, q.predicate, q.object, graph) for q in quads or ()}
    after = (before | new) if keep else new
    delta = Delta(added=after - before, removed=before - after)
    apply(store, delta)
    return delta


def apply(store: ox.Store, delta: Delta) -> None:
    for q in delta.removed:
        store.remove(q)
    if delta.added:
        store.extend(delta.added)


def undo(store: ox.Store, delta: Delta) -> None:
    for q in delta.added:
        store.remove(q)
    if delta.removed:
        store.extend(delta.removed)
    for g in delta.created:
        store.remove_graph(g)
    for g in delta.dropped:
        store.add_graph(g)


def mirror_default_graph(store: ox.Store, delta: Delta) -> Delta:
    """The shipped graph's model: the default graph is the merge of the named graphs. Keep it so, and
    return the default-graph quads this added or removed (the caller adds them to the delta)."""
    extra = Delta()
    default = ox.DefaultGraph()
    for q in delta.added:
        if isinstance(q.graph_name, ox.NamedNode):
            t = ox.Quad(q.subject, q.predicate, q.object, default)
            if t not in delta.added and not any(True for _ in store.quads_for_pattern(q.subject, q.predicate, q.object, default)):
                extra.added.add(t)
    for q in delta.removed:
        if isinstance(q.graph_name, ox.NamedNode):
            still = any(not isinstance(x.graph_name, ox.DefaultGraph)
                        for x in store.quads_for_pattern(q.subject, q.predicate, q.object, None))
            t = ox.Quad(q.subject, q.predicate, q.object, default)
            if not still and t not in delta.removed:
                extra.removed.add(t)
    apply(store, extra)
    return extra


# --- validating a delta -------------------------------------------------------------------------------

class Gate:
    """The checks a write must pass; ``curated``: the shipped graph's rules (sources, namespace, dates...),
    ``shapes``: a SHACL file (the shipped shapes when curated), None with neither: no checks at all."""

    def __init__(self, store: ox.Store, *, curated: bool, shapes: Path | None):
        from .validation.shacl import take_class_unions

        self.store = store
        self.curated = curated
        self.shapes_path = SHAPES_FILE if curated and shapes is None else shapes
        self.shapes: Graph | None = None
        self.unions = []
        if self.shapes_path is not None:
            self.shapes = _graph(parse_file(Path(self.shapes_path)))
            self.unions = take_class_unions(self.shapes) if curated else []
            from rdflib.namespace import SH

            self._sparql_targets = any(True for _ in self.shapes.subjects(None, SH.SPARQLTarget))
            # SPARQL targets: their queries kept, their sh:target triples taken out once (as
            # validation.shacl.expand_sparql_targets does per run); each check adds the selected nodes.
            self._target_queries = []
            for target in list(self.shapes.subjects(RDF.type, SH.SPARQLTarget)):
                select = str(self.shapes.value(target, SH.select))
                prefixes = "".join(
                    f"PREFIX {self.shapes.value(d, SH.prefix)}: <{self.shapes.value(d, SH.namespace)}>\n"
                    for decl in self.shapes.objects(target, SH.prefixes) for d in self.shapes.objects(decl, SH.declare))
                for shape in list(self.shapes.subjects(SH.target, target)):
                    self.shapes.remove((shape, SH.target, target))
                    self._target_queries.append((shape, prefixes + select))
        self._ontology: list | None = None
        self._base = self._validator = self._covered = self._subjects = None

    @property
    def active(self) -> bool:
        return self.curated or self.shapes is not None

    def ontology_quads(self) -> list[ox.Quad]:
        """The ontology graph's quads (the shipped ontology's for a curated store built without one)."""
        quads = list(self.store.quads_for_pattern(None, None, None, _ONTOLOGY))
        if not quads and self.curated:  # a store built from files that include no ontology graph
            from .loading import shipped_ontology_files

            quads = [q for path in shipped_ontology_files() for q in parse_file(path)]
        return quads

    def ontology(self) -> list:
        if self._ontology is None:
            self._ontology = [(to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object))
                              for q in self.ontology_quads()]
        return self._ontology

    def _ontology_covered(self) -> bool:
        """Whether the ontology uses only what the quick OWL consistency check covers (asked once)."""
        if self._covered is None:
            from .validation.checks import covered_by_quick_check

            ontology = Graph()
            for t in self.ontology():
                ontology.add(t)
            self._covered = covered_by_quick_check(ontology)
        return self._covered

    def _ontology_subjects(self) -> set:
        if self._subjects is None:
            self._subjects = {t[0] for t in self.ontology()}
        return self._subjects

    def ontology_changed(self) -> None:
        """A write changed the ontology graph: what was built from it is built again at the next check."""
        self._ontology = self._base = self._validator = self._covered = self._subjects = None

    def _mirrored(self, q: ox.Quad) -> bool:
        """A default-graph quad that some named graph also holds: the merge, not a fact of its own."""
        return isinstance(q.graph_name, ox.DefaultGraph) and any(
            not isinstance(x.graph_name, ox.DefaultGraph)
            for x in self.store.quads_for_pattern(q.subject, q.predicate, q.object, None))

    def neighbourhood(self, delta: Delta) -> tuple[set, set]:
        """(focus nodes, quads to validate): see the module docstring."""
        store = self.store
        focus = {q.subject for q in delta.added | delta.removed}
        quads: set = set()
        seen: dict = {}  # node -> the most hops described from it (a focus node reached first as a neighbour
        # of another is described again with its own hop)

        def describe(node, depth: int) -> None:
            if seen.get(node, -1) >= depth:
                return
            seen[node] = depth
            for q in store.quads_for_pattern(node, None, None, None):
                if q.graph_name == _ENTAILED:
                    continue
                quads.add(q)
                o = q.object
                if isinstance(o, ox.BlankNode):
                    describe(o, depth)
                elif isinstance(o, ox.NamedNode) and depth > 0 and q.predicate != _RDF_TYPE:
                    describe(o, depth - 1)

        for node in focus:
            describe(node, 1)
        if self.curated:
            for g in {q.graph_name for q in delta.added | delta.removed if isinstance(q.graph_name, ox.NamedNode)}:
                if any(True for _ in store.quads_for_pattern(g, _RDF_TYPE, _SOURCE_DOCUMENT, g)):
                    quads.update(store.quads_for_pattern(g, None, None, g))  # the changed graphs' source documents
            names = [q for q in quads if q.subject in focus and q.predicate in _NAMES]
            for name in names:
                for other in store.quads_for_pattern(None, name.predicate, name.object, None):
                    if other.subject not in seen:
                        quads.add(other)
                        quads.update(store.quads_for_pattern(other.subject, _RDF_TYPE, None, None))
        return focus, quads

    def _base_graph(self) -> Graph:
        """The ontology as one rdflib graph, built once (the checks never change it)."""
        if self._base is None:
            g = Graph()
            for prefix, ns in PREFIXES.items():
                g.bind(prefix, ns, override=True, replace=True)
            for t in self.ontology():
                g.add(t)
            self._base = g
        return self._base

    def _run(self, graph: Graph, delta: Delta, focus: set, quads: set, body_file, report: Report) -> list[Result]:
        from .validation import _owlrl_results
        from .validation import checks as checks_module
        from .validation.locate import Locator
        from .validation.shacl import class_union_results, shacl_report_results

        locator = Locator(graph, [body_file] if body_file else [])
        found: list[Result] = []
        t = time.perf_counter()
        if self.shapes is not None:
            targets = []
            if self._sparql_targets:
                targets = self._sparql_target_nodes(quads)
                for triple in targets:
                    self.shapes.add(triple)
            try:
                found += class_union_results(graph, self.unions, locator)
                if focus:
                    found += shacl_report_results(self._shacl(graph, [to_rdflib(n) for n in focus]), self.shapes, locator)
            finally:
                for triple in targets:
                    self.shapes.remove(triple)
        report.timings["shacl"] = (time.perf_counter() - t) * 1000
        if self.curated:
            t = time.perf_counter()
            reviewed = [(to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object),
                         q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else "")
                        for q in delta.added if not self._mirrored(q)]
            ctx = checks_module.Context(graph, reviewed, locator, scope=set(map(to_rdflib, focus)))
            ctx.described = self._ontology_subjects() | {to_rdflib(q.subject) for q in quads}  # (what
            # Context computes by walking the whole graph, ontology included, at each write)
            found += checks_module.run_all(ctx)
            owl = [q for q in quads if q.predicate.value.startswith(_OWL) or (
                isinstance(q.object, ox.NamedNode) and q.object.value.startswith(_OWL))]
            if not (self._ontology_covered() and checks_module.covered_by_quick_check(_graph(owl))):
                found += _owlrl_results(graph, ctx)
            report.timings["checks"] = (time.perf_counter() - t) * 1000
        return found

    def _shacl(self, graph: Graph, focus_nodes: list):
        """pyshacl's report graph for ``focus_nodes`` of ``graph``. One :class:`pyshacl.Validator` serves
        every check: it compiles the shapes once (most of a small validation's time), and ``graph`` is
        the gate's own graph (the ontology, the neighbourhood added for the check), so it validates what
        the graph holds at each run; only the focus nodes are set per run. Shapes read their targets
        from the shapes graph as they validate, so the per-check sh:targetNode triples are seen."""
        from pyshacl import Validator
        from pyshacl.graph_abstraction import DataGraph

        if self._validator is None or self._validator_graph is not graph:
            self._validator_options = {"inference": "none", "advanced": False, "inplace": True,
                                       "allow_warnings": True, "focus_nodes": None}
            self._validator = Validator(DataGraph.from_rdflib(graph), shacl_graph=self.shapes,
                                        options=self._validator_options)
            self._validator_graph = graph
        self._validator_options["focus_nodes"] = focus_nodes
        return self._validator.run()[1]

    def _sparql_target_nodes(self, quads: set) -> list[tuple]:
        """(shape, sh:targetNode, node) for the shapes' SPARQL targets, selected in the neighbourhood."""
        from rdflib.namespace import SH

        small = ox.Store()
        small.extend(ox.Quad(q.subject, q.predicate, q.object) for q in quads)
        out = []
        for shape, select in self._target_queries:
            for row in small.query(select):
                if row[0] is not None:
                    out.append((shape, SH.targetNode, to_rdflib(row[0])))
        return out

    def check_quads(self, quads: list[ox.Quad], *, body_file: Path | None = None) -> Report:
        """The report on adding ``quads`` to the store, which is not changed (``POST /validate``): the
        store is read through a view that also holds them. The caller keeps the store from changing
        meanwhile (the writer's lock on a writable server)."""
        real = self.store
        self.store = _WithQuads(real, quads)
        try:
            return self.check(Delta(added={q for q in quads if not _in(real, q)}), body_file=body_file)
        finally:
            self.store = real

    def check(self, delta: Delta, *, body_file: Path | None = None, body_name: str = "request body") -> Report:
        """Validate the (already applied) delta; the report's results are about the focus nodes only."""
        started = time.perf_counter()
        report = Report(files=[body_name] if body_file else [])
        if not self.active or not delta:
            return report
        from .validation import _quiet_rdflib

        focus, quads = self.neighbourhood(delta)
        graph, added = self._base_graph(), []
        try:
            with _quiet_rdflib():
                for q in quads:  # the neighbourhood goes into the ontology's graph, and out again after
                    t = (to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object))
                    if t not in graph:
                        graph.add(t)
                        added.append(t)
                report.triples = len(graph)
                found = self._run(graph, delta, focus, quads, body_file, report)
        finally:
            for t in added:
                graph.remove(t)
        wanted = {_text(to_rdflib(n)) for n in focus}
        results = [r for r in found if r.focus is None or r.focus in wanted]
        if body_file is not None:
            shown = str(body_file)
            results = [_renamed(r, shown, body_name) for r in results]
        unique = {}
        for r in results:
            unique.setdefault((r.rule, r.severity, r.file, r.line, r.column, r.focus, r.path, r.value), r)
        report.results = sorted(unique.values(), key=lambda r: (r.severity != VIOLATION, r.line or 0, r.rule,
                                                                 r.focus or "", r.value or ""))
        report.timings["total"] = (time.perf_counter() - started) * 1000
        return report


def _in(store, q: ox.Quad) -> bool:
    return any(True for _ in store.quads_for_pattern(q.subject, q.predicate, q.object, q.graph_name))


class _WithQuads:
    """A store read as if it also held ``quads`` (what the gate reads: quads_for_pattern)."""

    def __init__(self, store, quads):
        self.store = store
        self.by_subject: dict = {}
        for q in quads:
            self.by_subject.setdefault(q.subject, []).append(q)

    def quads_for_pattern(self, s, p, o, g=None):
        seen = set()
        for q in self.store.quads_for_pattern(s, p, o, g):
            seen.add(q)
            yield q
        for q in (self.by_subject.get(s, ()) if s is not None else (x for v in self.by_subject.values() for x in v)):
            if q not in seen and (p is None or q.predicate == p) and (o is None or q.object == o) and (
                    g is None or q.graph_name == g):
                yield q


def _text(node) -> str:
    return str(node) if isinstance(node, URIRef) else node.n3() if isinstance(node, BNode | RLiteral) else str(node)


def _renamed(r: Result, shown: str, name: str) -> Result:
    from dataclasses import replace

    from .validation.report import display_path

    if r.file and (r.file == shown or r.file == display_path(shown)):
        return replace(r, file=name)
    return r


def _graph(quads) -> Graph:
    g = Graph()
    for q in quads:
        g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return g

