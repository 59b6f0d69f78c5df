"""Which file, line and column hold the triple a result is about.

A result names a focus node, a path and a value; the offending triple is (focus, path, value). It is
looked up in the written triples of each loaded file (:mod:`explore_kg.positions`), the files under
review first, so when two files describe one entity the file that holds the offending triple is blamed.
The line of the focus node's block in that file is kept as the result's second location
(``focus_line``). A result about a triple that no file writes (a property that is missing, a triple the
loader added) points at the focus node's block; a claim the loader made of a dated fact, at that fact.
A blank node is found by its anchor (the IRI that holds it and the predicates from there) or, when no IRI
holds it, by what it says (:meth:`Locator.anchor_in`), as the large path does (:mod:`.large_locate`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rdflib import BNode, Graph, URIRef
from rdflib.term import Node

from ..loading import ONTOLOGY_DIR, LoadedData, subject_lines
from ..namespaces import EKG, ONTOLOGY_GRAPH
from .report import display_path

if TYPE_CHECKING:
    from ..positions import Position, WrittenFile

# Links the loader adds to a node (claims.complete_date_claims): they do not say where it is written.
LOADER_LINKS = frozenset(str(EKG[n]) for n in ("claimSubject", "claimValue"))


class Locator:
    """Finds where a triple, or a node's description, is written, preferring the files under review."""

    def __init__(self, graph: Graph, review: list[Path], *loaded: LoadedData):
        self.graph = graph
        self.review = list(review)
        self.order = list(dict.fromkeys([*review, *(Path(f).resolve() for data in loaded for f in data.files)]))
        self.file_graphs: dict[Path, str] = {}
        for data in loaded:
            for g, f in data.graph_files.items():
                self.file_graphs.setdefault(Path(f).resolve(), g)

    def written(self, path: Path) -> WrittenFile:
        from ..positions import read_file  # only a run with results needs the token reader (and its regexes)

        return read_file(path)

    def graph_of(self, path: Path) -> str:
        """The named graph a file's facts went to (its source document, the ontology graph, or the file)."""
        return self.file_graphs.get(path) or (str(ONTOLOGY_GRAPH) if path.parent == ONTOLOGY_DIR.resolve()
                                              else path.as_uri())

    def owner(self, node: Node) -> Node:
        """A blank node is shown where the IRI that holds it is described."""
        seen = set()
        while isinstance(node, BNode) and node not in seen:
            seen.add(node)
            parent = next((s for s, p in self.graph.subject_predicates(node) if str(p) not in LOADER_LINKS), None)
            if parent is None:
                break
            node = parent
        return node

    def anchor(self, node: Node) -> tuple | None:
        """A blank node's (root IRI, predicates from it), as :mod:`positions` records it; None for an IRI."""
        if not isinstance(node, BNode):
            return None
        path: list[URIRef] = []
        seen = set()
        while isinstance(node, BNode) and node not in seen:
            seen.add(node)
            found = next(((s, p) for s, p in self.graph.subject_predicates(node) if str(p) not in LOADER_LINKS), None)
            if found is None:
                return (node, tuple(reversed(path)))
            node, p = found
            path.append(p)
        return (node, tuple(reversed(path)))

    def anchor_in(self, wf: WrittenFile, node: Node) -> tuple | None:
        """:meth:`anchor`, in ``wf``. A blank node at the root of its nesting has a label of the parser's,
        not the file's, so the written root most like it (by what it says) stands for it there; a blank
        node written as a statement of its own (``_:x``, every one of an N-Triples file) is its own root."""
        from ..positions import term_key

        anchor = self.anchor(node)
        if anchor is None or wf.subject_position(None, anchor) is not None:
            return anchor

        def like(n: Node):
            return wf.blank_root_like({(p, term_key(o)) for p, o in self.graph.predicate_objects(n)
                                       if not isinstance(o, BNode)})

        root = like(anchor[0]) if isinstance(anchor[0], BNode) else None
        if root is not None and wf.subject_position(None, (root, anchor[1])) is not None:
            return (root, anchor[1])
        root = like(node)
        return anchor if root is None else (root, ())

    def locate(self, focus: Node | None, path: Node | None = None, value: Node | None = None,
               *, at: str = "object", inverse: bool = False) -> dict:
        """file, line, column, focus_line and graph of the triple (focus, path, value).

        ``at`` says which term to point at ('object', 'predicate' or 'subject'); ``inverse`` that the
        triple is written (value, path, focus). Without a value, the first triple (focus, path, *) is
        taken; without any triple, the focus node's block.
        """
        if focus is None:
            return {}
        focus = focus if isinstance(focus, Node) else URIRef(focus)  # (a BNode is a str too)
        if isinstance(path, URIRef):
            for file in self.order:
                wf = self.written(file)
                if inverse:
                    if value is None:
                        continue
                    found = wf.find(value, path, focus, self.anchor_in(wf, value))
                else:
                    found = wf.find(focus, path, value, self.anchor_in(wf, focus))
                if found:
                    t = found[0]
                    pos = t.predicate_at if at == "predicate" else t.subject_at if at == "subject" else t.object_at
                    return self._where(file, pos, wf, focus, t.graph)
        return self.locate_node(focus)

    def locate_node(self, node: Node) -> dict:
        """The first file (under review first) whose text describes the node, and the line of its block."""
        for file in self.order:
            wf = self.written(file)
            anchor = self.anchor_in(wf, node)
            pos = wf.subject_position(node, anchor)
            if pos is not None:
                return self._where(file, pos, wf, node, wf.subject_graph(node, anchor))
        owner = self.owner(node)
        if isinstance(owner, URIRef):
            for file in self.order:  # files the token reader could not read (RDF/XML, JSON-LD)
                line = subject_lines(file).get(str(owner)) if file.suffix.lower() in (".ttl", ".trig") else None
                if line:
                    return {"file": display_path(file), "line": line, "graph": self.graph_of(file), "focus_line": line}
            if owner != node:
                return self.locate_node(owner)
        # not described in any file (a node the loader added): where a file points at it
        for subject, predicate in self.graph.subject_predicates(node):
            for file in self.order:
                wf = self.written(file)
                found = wf.find(subject, predicate, node, self.anchor_in(wf, subject))
                if found:
                    return self._where(file, found[0].object_at, wf, subject, found[0].graph)
        # a claim the loader made of a dated fact: where the fact itself is written
        claimed = tuple(self.graph.value(node, p) for p in (EKG.claimSubject, EKG.claimProperty, EKG.claimValue))
        if all(t is not None for t in claimed) and isinstance(claimed[1], URIRef):
            subject, predicate, value = claimed
            for file in self.order:
                wf = self.written(file)
                found = wf.find(subject, predicate, value, self.anchor_in(wf, subject))
                if found:
                    return self._where(file, found[0].object_at, wf, subject, found[0].graph)
        return {}

    def _where(self, file: Path, pos: Position, wf: WrittenFile, focus: Node, graph: Node | None = None) -> dict:
        """The result's place; ``graph``: the graph the file writes the triple in (TriG, N-Quads), if it names one."""
        block = wf.subject_position(focus, self.anchor_in(wf, focus))
        if block is None and isinstance(focus, BNode):
            owner = self.owner(focus)
            block = wf.subject_position(owner) if isinstance(owner, URIRef) else None
        return {"file": display_path(file), "line": pos.line, "column": pos.column,
                "graph": str(graph) if isinstance(graph, URIRef) else self.graph_of(file),
                "focus_line": block.line if block else pos.line}
