"""Where the large validate path's results are: the file, line and column of the offending triple.

The same places the small path's :class:`explore_kg.validation.locate.Locator` gives, without holding a
file or a graph of it: the file is the one whose graph holds the offending triple in the store (else the
focus node); then one streaming pass over each file with results finds (a second one, for the blank
nodes of an N-Triples file: all that the labels that may be theirs say, and where each starts)

* for N-Triples / N-Quads (one statement a line): the line and column of the offending triple, or, for
  a result without a value (``sh:minCount``, ``sh:maxCount``), of the focus node's first triple with the
  path; else (a property that is missing) of its first triple;
* for Turtle / TriG: the same, by reading only the statements about the focus nodes with the token
  reader of :mod:`explore_kg.positions` (:func:`explore_kg.positions_stream.read_subjects`): a triple
  written on a ``;`` or ``,`` continuation line, after a literal over several lines, or inside a
  ``[ ... ]`` is found where it is.

A blank node has no name to look for (the store's labels are not the file's). One held by an IRI is
found by its anchor: that IRI and the predicates leading from it (as :mod:`explore_kg.positions` records
nested blank nodes); any other (a top-level ``[ ... ]``, a ``_:x`` subject, every blank node of an
N-Triples file) by what it says: the written blank node that says nothing the store's does not, and the
most of what it does. The links the loader adds (a date claim's ``ekg:claimSubject``) are not anchors.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox
from rdflib import URIRef

from ..loading import to_rdflib
from ..positions import WrittenFile, term_key
from ..positions_stream import read_subjects
from .locate import LOADER_LINKS
from .report import Result, display_path

_TURTLE = (".ttl", ".turtle", ".trig")
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_ANY_BLANK = "any blank node"  # a blank-node value matches any blank node of its triple's subject and predicate
_LINES = (".nt", ".nq")


def located(store: ox.Store, found, graph_files: dict[str, str]) -> list[Result]:
    """A Result for each (check, focus, value) found, with the file and graph that hold the offending
    triple (else the focus node: the first by index) and, where it can be read, the line and column."""
    placed = {(s, ox.NamedNode(check.path), o): None for check, s, o in found}
    for triple in placed:
        placed[triple] = _graph_of(store, triple, graph_files)
    blanks = {s: _Blank.of(store, s) for s, _, _ in placed if isinstance(s, ox.BlankNode)}
    wanted: dict[str, set] = defaultdict(set)
    for triple, at in placed.items():
        if at is not None:
            wanted[at[0]].add(triple)
    where = {f: _positions(Path(f), items, blanks) for f, items in wanted.items()}
    out = []
    for check, s, o in found:
        triple = (s, ox.NamedNode(check.path), o)
        file, graph = placed[triple] or (None, None)
        line = column = focus_line = None
        if file is not None:
            line, column = where[file].get(triple, (None, None))
            focus_line, focus_column = where[file].get(s, (None, None))
            if line is None:
                line, column = focus_line, focus_column
        out.append(Result(check.rule, check.severity, check.message, file=None if file is None else display_path(Path(file)),
                          line=line, column=column, graph=graph, focus=getattr(s, "value", str(s)), path=check.path,
                          value=None if o is None else getattr(o, "value", str(o)), constraint=check.constraint,
                          focus_line=focus_line))
    return out


def _graph_of(store: ox.Store, triple: tuple, graph_files: dict[str, str]) -> tuple[str, str] | None:
    """(file, named graph) of the first graph read from a file that holds the triple (s, p, o or None:
    any value), else the focus node s; None if no file's graph does (a node the loader made)."""
    s, p, o = triple
    for pattern in ((s, p, o), (s, None, None)):
        for q in store.quads_for_pattern(*pattern, None):
            if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in graph_files:
                return graph_files[q.graph_name.value], q.graph_name.value
    return None


class _Blank:
    """What locates a blank node of the store in a file: its anchor (the IRI that holds it, or the blank
    node at the root of its nesting, and the predicates from there) and what the root says."""

    def __init__(self, root, path: tuple, pairs: set, root_pairs: set):
        self.root, self.path, self.pairs, self.root_pairs = root, path, pairs, root_pairs

    @classmethod
    def of(cls, store: ox.Store, node: ox.BlankNode) -> _Blank:
        path: list = []
        seen = {node}
        root = node
        while isinstance(root, ox.BlankNode):
            parent = next((q for q in store.quads_for_pattern(None, None, root, ox.DefaultGraph())
                           if q.predicate.value not in LOADER_LINKS and q.subject not in seen), None)
            if parent is None:
                break
            root = parent.subject
            seen.add(root)
            path.append(parent.predicate)
        return cls(root, tuple(reversed(path)), _pairs(store, node), _pairs(store, root))

    def anchor(self, written: WrittenFile) -> tuple | None:
        """Its anchor in ``written`` (rdflib terms, as :mod:`explore_kg.positions` keys blank nodes): from
        the IRI that holds it, else from the written root most like its root, else (a ``_:x`` written
        as a statement of its own) the written root most like itself."""
        path = tuple(URIRef(p.value) for p in self.path)
        tries = [lambda: URIRef(self.root.value)] if isinstance(self.root, ox.NamedNode) else [
            lambda: written.blank_root_like(self.root_pairs)]
        for root in (t() for t in tries):
            if root is not None and written.subject_position(None, (root, path)) is not None:
                return (root, path)
        root = written.blank_root_like(self.pairs)
        return None if root is None else (root, ())

    def says(self) -> set:
        """What it and its root say, but their types when they say more: the pairs a written blank node
        is kept for (a file of a million typed blank nodes keeps the few that say what these say)."""
        return _telling(self.pairs) | _telling(self.root_pairs)


def _telling(pairs: set) -> set:
    """``pairs`` without the rdf:type ones, unless that is all there is."""
    told = {pair for pair in pairs if str(pair[0]) != _RDF_TYPE}
    return told or pairs


def _pairs(store: ox.Store, node) -> set:
    """``node``'s (predicate, object) pairs in the store, as :func:`explore_kg.positions.term_key` gives
    them (rdflib terms), blank-node objects left out."""
    return {(URIRef(q.predicate.value), term_key(to_rdflib(q.object)))
            for q in store.quads_for_pattern(node, None, None, ox.DefaultGraph())
            if not isinstance(q.object, ox.BlankNode)}


def _positions(path: Path, items: set, blanks: dict) -> dict:
    """Where ``items`` ((s, p, o or None)) are in ``path``: {(s, p, o): (line, column)} for the triples
    written there, and {s: (line, column) of its block}."""
    suffix = path.suffix.lower()
    if suffix in _LINES:
        return _in_lines_format(path, items, blanks)
    if suffix not in _TURTLE:
        return {}  # (RDF/XML, JSON-LD: the file only)
    subjects = {s for s, _, _ in items}
    iris = {s.value for s in subjects if isinstance(s, ox.NamedNode)}
    iris |= {blanks[s].root.value for s in subjects if s in blanks and isinstance(blanks[s].root, ox.NamedNode)}
    said = set().union(*(blanks[s].says() for s in subjects if s in blanks))
    written = read_subjects(path, iris.__contains__, blank=(lambda alone: any(
        (t.predicate, term_key(t.object)) in said for t in alone.triples)) if said else None)
    out: dict = {}
    for s, p, o in items:
        if isinstance(s, ox.BlankNode):
            anchor = blanks[s].anchor(written)
            if anchor is None:
                continue
            subject = None
        else:
            anchor, subject = None, URIRef(s.value)
        block = written.subject_position(subject, anchor)
        if block is not None:
            out[s] = (block.line, block.column)
        triples = written.find(subject, URIRef(p.value), None if o is None else to_rdflib(o), anchor)
        if triples:
            out[(s, p, o)] = (triples[0].object_at.line, triples[0].object_at.column)
    return out


def _in_lines_format(path: Path, items: set, blanks: dict) -> dict:
    """One pass over an N-Triples/N-Quads file: a line is parsed only if its first term is a wanted IRI
    with a triple still to find, or a blank node saying something one of ``blanks`` says; the pass ends
    when everything is found (never, with blank nodes: which label is which is known at the end)."""
    subjects = {s for s, _, _ in items}
    keys = {f"<{s.value}>".encode(): s for s in subjects if isinstance(s, ox.NamedNode)}
    pending: dict = defaultdict(dict)  # s -> {(p, o, None or _ANY_BLANK): (p, o)} still to find
    for s, p, o in items:
        if isinstance(s, ox.NamedNode):
            pending[s][(p, _ANY_BLANK if isinstance(o, ox.BlankNode) else o)] = (p, o)  # (labels are the store's)
    said = set().union(*(blanks[s].says() for s in subjects if s in blanks))  # what the blank nodes say
    said_predicates = {f"<{p}>".encode() for p, _ in said}
    labels: dict[bytes, dict] = defaultdict(dict)  # blank node label -> {(p, o key): (line, column)}
    fmt = ox.RdfFormat.N_QUADS if path.suffix.lower() == ".nq" else ox.RdfFormat.N_TRIPLES
    out: dict = {}
    unseen = len(keys)
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            first = _first_term(raw)
            s = keys.get(first)
            if s is None:
                if said and first.startswith(b"_:") and raw.split(None, 2)[1:2] and raw.split(None, 2)[1] in said_predicates:
                    quad = _parsed(raw, fmt)
                    if quad is not None and not isinstance(quad.object, ox.BlankNode):
                        pair = (URIRef(quad.predicate.value), term_key(to_rdflib(quad.object)))
                        if pair in said:
                            labels[first].setdefault(pair, (number, _column_of_object(raw, quad)))
                continue
            if s not in out:
                out[s] = (number, len(raw) - len(raw.lstrip()) + 1)
                unseen -= 1
            if s in pending:
                quad = _parsed(raw, fmt)
                if quad is None:
                    continue
                value = _ANY_BLANK if isinstance(quad.object, ox.BlankNode) else quad.object
                for key in ((quad.predicate, value), (quad.predicate, None)):
                    if key in pending[s]:
                        out[(s, *pending[s].pop(key))] = (number, _column_of_object(raw, quad))
                if not pending[s]:
                    del pending[s]
            if not unseen and not pending and not said:
                break
    candidates = {lab for lab, found in labels.items() if any(found.keys() & blanks[s].pairs for s in subjects if s in blanks)}
    whole = _blank_lines(path, candidates, fmt) if candidates else {}
    chosen = {}  # blank node of the store -> its label in the file: says nothing the node does not, and most
    for s in subjects:
        if s in blanks:
            pairs = blanks[s].pairs
            fits = [lab for lab in candidates if whole[lab][1] <= pairs]
            if fits:
                chosen[s] = min(fits, key=lambda lab: (-len(whole[lab][1] & pairs), whole[lab][0]))
    for s, p, o in items:
        if s not in chosen:
            continue
        found = labels[chosen[s]]
        out[s] = whole[chosen[s]][0]
        predicate = URIRef(p.value)
        at = [found[k] for k in found if k[0] == predicate and (o is None or k[1] == term_key(to_rdflib(o)))]
        if at:
            out[(s, p, o)] = min(at)
    return out


def _blank_lines(path: Path, labels: set[bytes], fmt: ox.RdfFormat) -> dict[bytes, tuple[tuple[int, int], set]]:
    """{label: ((line, column) where it first starts a line, everything it says but blank nodes)} for the
    blank node labels of an N-Triples/N-Quads file: a second pass, once the first has told which labels
    may be the ones looked for."""
    out: dict[bytes, tuple[tuple[int, int], set]] = {}
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            label = _first_term(raw)
            if label not in labels:
                continue
            if label not in out:
                out[label] = ((number, len(raw) - len(raw.lstrip()) + 1), set())
            quad = _parsed(raw, fmt)
            if quad is not None and not isinstance(quad.object, ox.BlankNode):
                out[label][1].add((URIRef(quad.predicate.value), term_key(to_rdflib(quad.object))))
    return out


def _first_term(raw: bytes) -> bytes:
    """The subject of an N-Triples/N-Quads line as written (spaces or tabs after it)."""
    parts = raw.split(None, 1)
    return parts[0] if parts else b""


def _parsed(raw: bytes, fmt: ox.RdfFormat):
    try:
        return next(iter(ox.parse(raw, format=fmt)))
    except (SyntaxError, StopIteration):
        return None


def _column_of_object(raw: bytes, quad) -> int | None:
    """1-based column (in characters) where the object of ``quad`` starts on its line ``raw``."""
    text = raw.decode("utf-8", errors="replace")
    predicate = f"<{quad.predicate.value}>"
    at = text.find(predicate)
    if at < 0:
        return None
    at += len(predicate)
    while at < len(text) and text[at] in " \t":
        at += 1
    return at + 1
