"""Fact-level differences between two versions of the graph: an RDF Patch, a changelog, JSON.

``explore-kg diff OLD NEW`` reads each side as

* a release folder (it holds ``explore-kg.nq``): that file, as written;
* a project tree (a directory with ``data/``, and ``ontology/`` if any) or a directory of data files:
  loaded as the server loads the shipped graph (one named graph per source document, the claims of
  date triples completed, ``ekg:statedIn`` added), so it compares like with a release;
* an RDF file: TriG / N-Quads keep their graphs; Turtle, N-Triples, JSON-LD and RDF/XML are one graph;
* ``--rev A..B``: the ``data/`` and ``ontology/`` of two git revisions (``git archive`` into a temporary
  directory; the work tree is never touched).

What is compared: the asserted quads. Graphs that export derives (``graph/alignment``, ``graph/void``,
``graph/inferred``, ``graph/entailed``) are left out; if one side has no named graphs, both are compared
as merged graphs; if one side has no ontology graph, the ontology graph is left out (a note says so).
Blank nodes are labelled by a hash of their content (their triples, nested blank nodes included), so
the same structure compares equal whatever labels the files used. Claim IRIs are content hashes
already; changes to claim nodes are shown with the entity the claim is about, and left out of the
changelog when they only repeat a change of that entity's direct value.

Outputs: ``patch`` (RDF Patch, https://afs.github.io/rdf-patch/: ``D`` then ``A`` rows with the graph),
``markdown`` and ``text`` (one line per entity per source document, grouped by source), ``json``.
Exit status: 0 no differences, 1 differences, 2 usage error.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .namespaces import EKG, GRAPH, ID, ONTOLOGY_GRAPH, RDF, RDFS, SKOS, SOURCE, compact

DERIVED_GRAPHS = frozenset(str(GRAPH[g]) for g in ("alignment", "void", "inferred", "entailed"))
_TYPE = ox.NamedNode(str(RDF.type))
_CLAIM = ox.NamedNode(str(EKG.Claim))
_CLAIM_LINK = ox.NamedNode(str(EKG.claim))
_CLAIM_SUBJECT = ox.NamedNode(str(EKG.claimSubject))
_CLAIM_PROPERTY = ox.NamedNode(str(EKG.claimProperty))
_STATED_IN = ox.NamedNode(str(EKG.statedIn))
_ONTOLOGY = ox.NamedNode(str(ONTOLOGY_GRAPH))
# Claim triples the loader derives from the value (or that only say what the claim is): not news.
_CLAIM_BOOKKEEPING = frozenset(ox.NamedNode(str(p)) for p in (
    RDF.type, EKG.claimSubject, EKG.claimProperty, EKG.statedIn, EKG.earliestDate, EKG.latestDate,
    EKG.datePrecision))
_NAME_PROPERTIES = [ox.NamedNode(str(p)) for p in (EKG.acronym, SKOS.prefLabel, RDFS.label)]
TRIPLE_EXTENSIONS = {".ttl", ".turtle", ".nt", ".jsonld", ".json", ".rdf", ".owl", ".xml"}
QUAD_EXTENSIONS = {".trig", ".nq"}
RELEASE_FILE = "explore-kg.nq"


class DiffError(ValueError):
    """A side that cannot be read (missing path, bad revision, parse error): exit 2."""


# --- reading a side ----------------------------------------------------------------------------------


@dataclass
class Side:
    """One version's asserted quads (blank nodes labelled by content) and where they came from."""

    name: str
    quads: set[ox.Quad]

    @classmethod
    def from_quads(cls, quads: Iterable[ox.Quad], name: str) -> Side:
        kept = [q for q in quads if not (isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in DERIVED_GRAPHS)]
        return cls(name, set(content_labelled(kept)))

    @property
    def named(self) -> bool:
        return any(isinstance(q.graph_name, ox.NamedNode) for q in self.quads)

    @property
    def has_ontology(self) -> bool:
        return any(q.graph_name == _ONTOLOGY for q in self.quads)


def load_side(spec: str) -> Side:
    """A release folder, a project tree, a directory of data files or an RDF file (see the module doc)."""
    path = Path(spec)
    if path.is_dir():
        if (path / RELEASE_FILE).is_file():
            return Side.from_quads(_parse(path / RELEASE_FILE), spec)
        return _tree_side(path, spec)
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in QUAD_EXTENSIONS:
            return Side.from_quads(_parse(path), spec)
        if suffix in TRIPLE_EXTENSIONS:
            return Side.from_quads((ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in _parse(path)), spec)
        raise DiffError(f"{spec}: not an RDF file (.ttl, .trig, .nq, .nt, .jsonld, .rdf) nor a folder")
    raise DiffError(f"{spec}: no such file or directory")


def _parse(path: Path) -> list[ox.Quad]:
    from .loading import LoadError, parse_file

    try:
        return parse_file(path)
    except LoadError as e:
        raise DiffError(str(e)) from None


def _tree_side(path: Path, name: str) -> Side:
    """A project tree (data/ and ontology/) or a bare directory of data files, loaded as the server does."""
    from .loading import FORMATS, SHAPES_FILE, LoadError, load

    def rdf_files(d: Path) -> list[Path]:
        return sorted(p for p in d.glob("**/*") if p.is_file() and p.suffix.lower() in FORMATS)

    if (path / "data").is_dir():
        data = rdf_files(path / "data")
        onto = [p for p in rdf_files(path / "ontology") if p.name != SHAPES_FILE.name] if (path / "ontology").is_dir() else []
    else:
        data, onto = rdf_files(path), []
    try:
        loaded = load(data, shipped=False, ontology_paths=onto)
    except LoadError as e:
        raise DiffError(str(e)) from None
    return Side.from_quads(loaded.quads, name)


def revision_sides(revs: str, repo: Path | None = None) -> tuple[Side, Side]:
    """``A..B``: the data/ and ontology/ of two git revisions of the repository at ``repo`` (default: cwd)."""
    if revs.count("..") != 1 or revs.startswith("..") or revs.endswith(".."):
        raise DiffError(f"--rev {revs!r}: give two revisions as A..B (e.g. HEAD~1..HEAD)")
    a, b = revs.split("..")
    cwd = str(repo or Path.cwd())
    top = _git(cwd, "rev-parse", "--show-toplevel").decode().strip()
    return _revision_side(top, a), _revision_side(top, b)


def _git(cwd: str, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", cwd, *args], capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise DiffError(f"cannot run git: {e}") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise DiffError(f"git {' '.join(args)}: {message[-1] if message else 'failed'}")
    return done.stdout


def _revision_side(top: str, rev: str) -> Side:
    commit = _git(top, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
    present = set(_git(top, "ls-tree", "--name-only", commit).decode().split())
    parts = [p for p in ("data", "ontology") if p in present]
    if "data" not in parts:
        raise DiffError(f"revision {rev} has no data/ directory")
    archive = _git(top, "archive", "--format=tar", commit, *parts)
    with tempfile.TemporaryDirectory(prefix="explore-kg-diff-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        side = _tree_side(Path(tmp), rev)
    return side


# --- blank nodes by content --------------------------------------------------------------------------


def content_labelled(quads: list[ox.Quad]) -> list[ox.Quad]:
    """The quads with each blank node renamed ``_:b<hash>`` of its content (its graph, its triples and,
    recursively, those of the blank nodes it points to). Blank nodes in a cycle fall back to RDFC-1.0."""
    out_edges: dict[tuple, list[ox.Quad]] = defaultdict(list)
    in_edges: dict[tuple, list[ox.Quad]] = defaultdict(list)
    bnodes = set()
    for q in quads:
        if isinstance(q.subject, ox.BlankNode):
            out_edges[(q.subject, q.graph_name)].append(q)
            bnodes.add((q.subject, q.graph_name))
        if isinstance(q.object, ox.BlankNode):
            in_edges[(q.object, q.graph_name)].append(q)
            bnodes.add((q.object, q.graph_name))
    if not bnodes:
        return list(quads)
    memo: dict[tuple, str | None] = {}

    def label(key: tuple, stack: frozenset) -> str | None:
        if key in memo:
            return memo[key]
        if key in stack:
            return None
        parts = []
        for q in out_edges.get(key, ()):
            o = q.object
            if isinstance(o, ox.BlankNode):
                inner = label((o, q.graph_name), stack | {key})
                if inner is None:
                    memo[key] = None
                    return None
                o_text = "_:" + inner
            else:
                o_text = str(o)
            parts.append(f"{q.predicate} {o_text}")
        if not parts:  # a blank node that only appears as an object: known by who points to it
            parts = [f"^{q.predicate} {q.subject}" for q in in_edges.get(key, ()) if not isinstance(q.subject, ox.BlankNode)]
        text = str(key[1]) + "\n" + "\n".join(sorted(parts))
        memo[key] = "b" + hashlib.sha256(text.encode()).hexdigest()[:24]
        return memo[key]

    names = {key: label(key, frozenset()) for key in sorted(bnodes, key=lambda k: (str(k[1]), k[0].value))}
    if any(v is None for v in names.values()):  # cycles: RDFC-1.0 labels for those (rare in curated data)
        ds = ox.Dataset(quads)
        ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
        return list(ds)

    def term(t, g):
        return ox.BlankNode(names[(t, g)]) if isinstance(t, ox.BlankNode) else t

    return [ox.Quad(term(q.subject, q.graph_name), q.predicate, term(q.object, q.graph_name), q.graph_name) for q in quads]


# --- comparing ---------------------------------------------------------------------------------------


@dataclass
class Change:
    """What changed about one entity in one graph (a source document, the ontology...)."""

    entity: ox.NamedNode | ox.BlankNode
    graph: ox.NamedNode | ox.DefaultGraph
    status: str  # changed, new, removed
    properties: dict[ox.NamedNode, tuple[list, list]] = field(default_factory=dict)  # p -> (removed, added)
    claims: list[tuple[ox.NamedNode, ox.NamedNode, list, list]] = field(default_factory=list)  # (claimed p, p, rem, add)


@dataclass
class Diff:
    old: Side
    new: Side
    removed: list[ox.Quad]
    added: list[ox.Quad]
    changes: list[Change]
    labels: dict[ox.NamedNode, str]
    notes: list[str]

    @property
    def different(self) -> bool:
        return bool(self.removed or self.added)


def _sort_key(q: ox.Quad):
    from .writers import quad_key

    return quad_key(q)


def compare(old: Side, new: Side) -> Diff:
    notes: list[str] = []
    a, b = old.quads, new.quads
    if old.named != new.named:
        notes.append("one side has no named graphs: both compared as merged graphs")
        a = {ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in a}
        b = {ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in b}
    elif old.has_ontology != new.has_ontology:
        notes.append("one side has no ontology graph: the ontology graph is left out")
        a = {q for q in a if q.graph_name != _ONTOLOGY}
        b = {q for q in b if q.graph_name != _ONTOLOGY}
    removed = sorted(a - b, key=_sort_key)
    added = sorted(b - a, key=_sort_key)
    labels = _labels(a, b)
    changes = _group(a, b, removed, added)
    return Diff(old, new, removed, added, changes, labels, notes)


def _labels(*sides: set[ox.Quad]) -> dict[ox.NamedNode, str]:
    """A name for each IRI: its acronym, skos:prefLabel or rdfs:label (English first), the new side first;
    property labels also from the shipped ontology, so a bare data file still reads well."""
    from .loading import LoadError, parse_file, shipped_ontology_files

    extra: list[ox.Quad] = []
    for p in shipped_ontology_files():
        try:
            extra += parse_file(p)
        except LoadError:
            continue
    found: dict[ox.NamedNode, tuple] = {}
    for rank, quads in enumerate([*reversed(sides), extra]):
        for q in quads:
            if q.predicate in _NAME_PROPERTIES and isinstance(q.object, ox.Literal) and isinstance(q.subject, ox.NamedNode):
                lang = q.object.language
                key = (rank, _NAME_PROPERTIES.index(q.predicate), 0 if lang in (None, "en") else 1, q.object.value)
                if q.subject not in found or key < found[q.subject]:
                    found[q.subject] = key
    return {s: k[3] for s, k in found.items()}


def _group(a: set[ox.Quad], b: set[ox.Quad], removed: list[ox.Quad], added: list[ox.Quad]) -> list[Change]:
    both = a | b
    claim_of: dict[tuple, tuple] = {}  # (claim, graph) -> (subject, claimed property)
    claims = {q.subject for q in both if q.predicate == _TYPE and q.object == _CLAIM}
    for q in both:
        if q.predicate == _CLAIM_SUBJECT and q.subject in claims:
            prop = next((p.object for p in both if p.subject == q.subject and p.predicate == _CLAIM_PROPERTY
                         and p.graph_name == q.graph_name), None)
            claim_of[(q.subject, q.graph_name)] = (q.object, prop)
    owner: dict[tuple, ox.Term] = {}  # blank node -> the node pointing to it
    for q in both:
        if isinstance(q.object, ox.BlankNode):
            owner.setdefault((q.object, q.graph_name), q.subject)

    def entity_of(node, g):
        seen = set()
        while isinstance(node, ox.BlankNode) and (node, g) in owner and node not in seen:
            seen.add(node)
            node = owner[(node, g)]
        return node

    subjects_a = {(q.subject, q.graph_name) for q in a}
    subjects_b = {(q.subject, q.graph_name) for q in b}
    changes: dict[tuple, Change] = {}
    claim_rows: dict[tuple, dict] = defaultdict(lambda: defaultdict(lambda: ([], [])))
    for side, quads in ((0, removed), (1, added)):
        for q in quads:
            g = q.graph_name
            subject = entity_of(q.subject, g)
            if (subject, g) in claim_of:  # a claim's triple: shown with the entity it is about
                entity, prop = claim_of[(subject, g)]
                claim_rows[(entity, g)][(prop, q.predicate)][side].append(q.object)
                _change(changes, entity, g, subjects_a, subjects_b)
                continue
            if q.predicate == _CLAIM_LINK:
                _change(changes, subject, g, subjects_a, subjects_b)
                continue
            c = _change(changes, subject, g, subjects_a, subjects_b)
            c.properties.setdefault(q.predicate, ([], []))[side].append(q.object)
    for key, rows in claim_rows.items():
        c = changes[key]
        for (prop, p), (rem, add) in sorted(rows.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
            if p in _CLAIM_BOOKKEEPING or c.status != "changed":
                continue
            if p == ox.NamedNode(str(EKG.claimValue)) and prop in c.properties:
                continue  # the direct value changed too: that line says it
            if sorted(map(str, rem)) == sorted(map(str, add)):
                continue  # a minted claim re-made with a new IRI, same content
            c.claims.append((prop, p, rem, add))
    out = [c for c in changes.values() if c.status != "changed" or c.properties or c.claims]
    return sorted(out, key=lambda c: (str(c.graph), str(c.entity)))


def _change(changes, subject, g, subjects_a, subjects_b) -> Change:
    key = (subject, g)
    if key not in changes:
        status = "new" if key not in subjects_a else "removed" if key not in subjects_b else "changed"
        changes[key] = Change(subject, g, status)
    return changes[key]


# --- output ------------------------------------------------------------------------------------------


_BUILTIN_NAMES = {str(RDF.type): "type", str(RDFS.label): "label", str(SKOS.prefLabel): "preferred label",
                  str(SKOS.altLabel): "alternative label", str(RDFS.comment): "comment"}


def _name(term, labels) -> str:
    if isinstance(term, ox.NamedNode):
        return labels.get(term) or _BUILTIN_NAMES.get(term.value) or compact(term.value)
    if isinstance(term, ox.Literal):
        dt = term.datatype.value
        if term.language or dt.endswith("#string"):
            return json.dumps(term.value, ensure_ascii=False)
        return term.value
    return "[" + str(term) + "]"


def _graph_name(g) -> str:
    if isinstance(g, ox.DefaultGraph):
        return "default graph"
    for space in (str(SOURCE), str(GRAPH)):
        if g.value.startswith(space):
            return g.value[len(space):]
    return g.value


def _values(values, labels) -> str:
    return ", ".join(sorted(_name(v, labels) for v in values)) or "(none)"


def change_line(c: Change, labels) -> str:
    """One readable line: ``LUPEX (lupex-mission-overview): planned launch 2024 -> 2025; added: ...``."""
    who = f"{_name(c.entity, labels)} ({_graph_name(c.graph)})"
    n_facts = sum(len(rem) + len(add) for rem, add in c.properties.values())
    if c.status == "removed":
        kinds = [_name(v, labels) for v in c.properties.get(_TYPE, ([], []))[0]]
        return f"{who}: removed entity{' (' + ', '.join(sorted(kinds)) + ')' if kinds else ''}, with its {n_facts} facts"
    changed, added, removed = [], [], []
    for p in sorted(c.properties, key=lambda p: _name(p, labels)):
        rem, add = c.properties[p]
        if c.status == "new" and p in (_TYPE, _STATED_IN):
            continue
        if rem and add:
            changed.append(f"{_name(p, labels)} {_values(rem, labels)} -> {_values(add, labels)}")
        elif add:
            added.append(f"{_name(p, labels)} {_values(add, labels)}")
        else:
            removed.append(f"{_name(p, labels)} {_values(rem, labels)}")
    for prop, p, rem, add in c.claims:
        changed.append(f"claim on {_name(prop, labels)}: {_name(p, labels)} {_values(rem, labels)} -> {_values(add, labels)}")
    parts = changed + ([f"added: {'; '.join(added)}"] if added else []) + ([f"removed: {'; '.join(removed)}"] if removed else [])
    if c.status == "new":
        kinds = [_name(v, labels) for v in c.properties.get(_TYPE, ([], []))[1]]
        parts.insert(0, f"new entity{' (' + ', '.join(sorted(kinds)) + ')' if kinds else ''}")
    return f"{who}: " + "; ".join(parts)


def render_markdown(d: Diff, *, title: str | None = None, since: str | None = None, markdown: bool = True) -> str:
    """The changelog: per source document (graph), one line per entity."""
    lines = []
    if markdown:
        lines += [f"# {title or f'Changes from {d.old.name} to {d.new.name}'}", ""]
        if since:
            lines += [f"{since[0].upper()}{since[1:]}: {len(d.changes)} entities changed "
                      f"({len(d.added)} triples added, {len(d.removed)} removed).", ""]
    elif title:
        lines.append(title)
    if not d.different:
        lines.append("No differences.")
    by_graph: dict[str, list[Change]] = defaultdict(list)
    for c in d.changes:
        by_graph[_graph_name(c.graph)].append(c)
    for g in sorted(by_graph):
        lines += ([f"## {g}", ""] if markdown else [f"{g}:"])
        for c in by_graph[g]:
            lines.append(("- " if markdown else "  ") + change_line(c, d.labels))
        if markdown:
            lines.append("")
    lines += [f"Note: {n}." for n in d.notes]
    return "\n".join(lines).rstrip("\n") + "\n"


def render_json(d: Diff) -> str:
    def term(t):
        return {"value": str(t) if not isinstance(t, ox.NamedNode) else t.value, "label": _name(t, d.labels)}

    entities = []
    for c in d.changes:
        entities.append({
            "entity": c.entity.value if isinstance(c.entity, ox.NamedNode) else str(c.entity),
            "label": _name(c.entity, d.labels),
            "graph": None if isinstance(c.graph, ox.DefaultGraph) else c.graph.value,
            "source": _graph_name(c.graph),
            "status": c.status,
            "line": change_line(c, d.labels),
            "properties": [{"property": p.value, "label": _name(p, d.labels),
                            "removed": [term(v) for v in rem], "added": [term(v) for v in add]}
                           for p, (rem, add) in sorted(c.properties.items(), key=lambda kv: kv[0].value)],
            "claims": [{"claimed_property": prop.value if prop else None, "property": p.value,
                        "removed": [term(v) for v in rem], "added": [term(v) for v in add]}
                       for prop, p, rem, add in c.claims],
        })
    return json.dumps({"old": d.old.name, "new": d.new.name, "different": d.different,
                       "triples_added": len(d.added), "triples_removed": len(d.removed),
                       "entities": entities, "notes": d.notes}, ensure_ascii=False, indent=2) + "\n"


def _row(op: str, q: ox.Quad) -> str:
    g = "" if isinstance(q.graph_name, ox.DefaultGraph) else f" {q.graph_name}"
    return f"{op} {q.subject} {q.predicate} {q.object}{g} ."


def render_patch(d: Diff) -> str:
    """RDF Patch: a transaction deleting the removed quads, then adding the added ones."""
    rows = ["TX ."] + [_row("D", q) for q in d.removed] + [_row("A", q) for q in d.added] + ["TC ."]
    return "\n".join(rows) + "\n"


def apply_patch(quads: Iterable[ox.Quad], patch: str) -> set[ox.Quad]:
    """``quads`` with an RDF Patch's ``D`` and ``A`` rows applied (headers and transactions ignored)."""
    result = set(quads)
    for number, line in enumerate(patch.splitlines(), start=1):
        op = line[:2]
        if op not in ("A ", "D "):
            continue
        try:
            (q,) = ox.parse(line[2:].encode(), format=ox.RdfFormat.N_QUADS)
        except (SyntaxError, ValueError) as e:
            raise DiffError(f"patch line {number}: {e}") from None
        (result.add if op == "A " else result.discard)(q)
    return result


def first_release_changelog(side: Side, version: str, date: str) -> str:
    """The changelog of a release with no previous one: what it holds, per source document."""
    per_graph: dict[str, set] = defaultdict(set)
    triples: dict[str, int] = defaultdict(int)
    for q in side.quads:
        g = _graph_name(q.graph_name)
        triples[g] += 1
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(str(ID)) \
                and not q.subject.value.startswith(str(ID["claim/"])):
            per_graph[g].add(q.subject)
    lines = [f"# explore-kg {version} ({date})", "",
             f"First release: no previous release to compare with. {len(side.quads)} asserted triples in "
             f"{len(triples)} graphs; entities (claims not counted) and triples per graph:", ""]
    lines += [f"- {g}: {len(per_graph[g])} entities, {triples[g]} triples" for g in sorted(triples)]
    return "\n".join(lines) + "\n"


FORMATS = ("text", "markdown", "json", "patch")


def run_cli(old: str | None, new: str | None, *, rev: str | None, fmt: str | None) -> int:
    """``explore-kg diff``: compare, print, 0 same / 1 different / 2 usage."""
    if fmt is None:
        fmt = "text" if sys.stdout.isatty() else "markdown"
    fmt = fmt.lower()
    try:
        if fmt not in FORMATS:
            raise DiffError(f"--format {fmt!r}: one of {', '.join(FORMATS)}")
        if rev and (old or new):
            raise DiffError("give either OLD NEW or --rev A..B, not both")
        if rev:
            a, b = revision_sides(rev)
        elif old and new:
            a, b = load_side(old), load_side(new)
        else:
            raise DiffError("give OLD and NEW (release folders, RDF files or data directories), or --rev A..B")
        d = compare(a, b)
    except DiffError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = {"patch": render_patch, "json": render_json,
           "markdown": lambda d: render_markdown(d), "text": lambda d: render_markdown(d, markdown=False)}[fmt](d)
    sys.stdout.write(out)
    sys.stdout.flush()
    return 1 if d.different else 0
