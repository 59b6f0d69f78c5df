"""The streaming export's per-format writers: sorted lines (:mod:`explore_kg.export_lines`) in, a document out.

Each writes what the matching writer of :mod:`explore_kg.writers` writes for the same quads, reading the
lines once (RDF/XML twice: it declares its prefixes first). N-Triples and N-Quads rewrite the lines' text.
Turtle and TriG write a named subject whose triples hold no blank node straight from the N-Triples text of
its terms (:class:`_TurtleText`: prefixes, datatypes, the order of writers._TurtleGraph); the subjects that
hold blank nodes, and JSON-LD and RDF/XML, go through pyoxigraph terms and the in-memory writers' code.
A writer is ``write(out, lines, kind, header, vocab, scratch, blank)``: ``lines()`` gives a fresh reading of
the sorted lines, ``blank`` the canonicalised blank-node quads (held in memory: they decide what goes inline).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator

import pyoxigraph as ox

from . import writers
from .export import WRITE_PREFIXES
from .export_lines import fields, parsed

_TYPE_NT = f"<{writers.RDF_NS}type>"
_TYPE = ox.NamedNode(writers.RDF_NS + "type")


# --- N-Triples, N-Quads -------------------------------------------------------------------------------


def _write_lines(out, lines, *, quads: bool) -> None:
    buf: list[str] = []
    last = None
    for line in lines():
        cut = line.rindex("\0")
        if quads:
            g = line[cut + 1:]
            buf.append(f"{line[:cut - 1]}{g} .\n" if g else line[:cut] + "\n")
        else:
            triple = line[:cut]
            if triple == last:
                continue
            last = triple
            buf.append(triple + "\n")
        if len(buf) >= 8192:
            out.write("".join(buf).encode("utf-8"))
            buf.clear()
    out.write("".join(buf).encode("utf-8"))


def write_ntriples(out, lines, kind, header, vocab, scratch, blank):
    _write_lines(out, lines, quads=False)


def write_nquads(out, lines, kind, header, vocab, scratch, blank):
    _write_lines(out, lines, quads=True)


# --- Turtle, TriG -------------------------------------------------------------------------------------


class _TurtleStream:
    """writers._TurtleGraph, one subject at a time: it holds only the triples that mention blank nodes (all
    of them, so which nodes go inline, as ``[ ... ]`` or lists, is decided as writers.write_turtle decides),
    and each named subject's triples while its statement is written."""

    def __init__(self, blank_triples: list[ox.Triple], prefixes: writers.Prefixes, shared: set[ox.BlankNode]):
        self.w = writers._TurtleGraph(blank_triples, prefixes, shared)

    def statements(self, group: list[ox.Triple], depth: int = 0) -> list[str]:
        w, s, indent = self.w, group[0].subject, "    " * depth
        if not isinstance(s, ox.BlankNode):
            props: dict = defaultdict(list)
            for t in group:
                props[t.predicate].append(t.object)
            w.by_subject[s] = props
            try:
                return [indent + w.term(s, depth) + " " + w.predicate_objects(s, depth + 1) + " ."]
            finally:
                del w.by_subject[s]
        if s in w.inline or s in w._written:
            return []  # written where it is used
        if s not in w.referenced and s not in w.shared:
            w._written.add(s)
            body = w.predicate_objects(s, depth + 1)
            return [indent + "[\n" + indent + "    " + body + "\n" + indent + "] ."]
        return [indent + f"_:{s.value} " + w.predicate_objects(s, depth + 1) + " ."]


class _TurtleText:
    """The statement writers._TurtleGraph writes for a named subject without blank nodes, from N-Triples
    text: an IRI compacted by the prefixes (or kept in <>), a literal as N-Triples writes it but for a
    compacted datatype, ``a`` first and the other predicates by IRI, objects in the lines' (term_key) order."""

    def __init__(self, prefixes: writers.Prefixes):
        self.prefixes = prefixes
        self.iris: dict[str, str] = {}

    def iri(self, nt: str) -> str:
        text = self.iris.get(nt)
        if text is None:
            text = self.iris[nt] = self.prefixes.compact(nt[1:-1]) or nt
        return text

    def term(self, nt: str) -> str:
        if nt[0] == "<":
            return self.iri(nt)
        if nt[-1] == ">":  # "lexical form"^^<datatype> (N-Triples leaves xsd:string out)
            cut = nt.rfind('"^^<')
            return nt[:cut + 1] + "^^" + self.iri(nt[cut + 3:])
        return nt

    def statement(self, s: str, props: dict[str, list[str]], depth: int) -> str:
        parts = []
        for p in sorted(props, key=_predicate_order):
            parts.append(("a" if p == _TYPE_NT else self.iri(p)) + " " + " , ".join([self.term(o[1:]) for o in props[p]]))
        return "    " * depth + self.iri(s) + " " + (" ;\n" + "    " * (depth + 1)).join(parts) + " ."


def _predicate_order(p: str) -> str:
    return ("0" if p == _TYPE_NT else "1") + p[1:-1]


def _subject_groups(lines: Iterable[str], kind: str) -> Iterator[tuple[str, str, dict[str, list[str]], bool]]:
    """(graph, ranked subject, {predicate: [ranked objects]}, plain) per subject of each graph (``kind``
    "graph") or of all graphs merged (``kind`` "triple", graph ""); plain: no blank node or triple term."""
    by_graph = kind == "graph"
    cur_g = cur_s = None
    props: dict[str, list[str]] = {}
    plain = True
    last = None
    for line in lines:
        if by_graph:
            g, s, p, o = line.split("\0")
        else:
            s, p, o, _g = line.split("\0")
            g = ""
        if s != cur_s or g != cur_g:
            if cur_s is not None:
                yield cur_g, cur_s, props, plain
            cur_g, cur_s, props, plain, last = g, s, {}, s[0] == "0", None
        if (p, o) == last:
            continue  # the same triple in another graph
        last = (p, o)
        if o[0] == "1" or o.startswith("0<<"):
            plain = False
        objs = props.get(p)
        if objs is None:
            props[p] = [o]
        else:
            objs.append(o)
    if cur_s is not None:
        yield cur_g, cur_s, props, plain


def _statements(s: str, props: dict[str, list[str]], plain: bool, text: _TurtleText, stream: _TurtleStream,
                depth: int) -> list[str]:
    if plain:
        return [text.statement(s[1:], props, depth)]
    group = [q.triple for q in parsed((s[1:], p, o[1:], "") for p, objs in props.items() for o in objs)]
    return stream.statements(group, depth)


def _sorted_triples(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    return sorted(set(triples), key=lambda t: (writers.term_key(t.subject), str(t.predicate), writers.term_key(t.object)))


def _with_header(out, body_path: str, head: bytes, tail: bytes = b"") -> None:
    out.write(head)
    with open(body_path, "rb") as f:
        while chunk := f.read(1 << 20):
            out.write(chunk)
    out.write(tail)


def write_turtle(out, lines, kind, header, vocab, scratch, blank):
    prefixes = writers.Prefixes(WRITE_PREFIXES)
    text = _TurtleText(prefixes)
    body = os.path.join(scratch, "body")
    stream = _TurtleStream(_sorted_triples(q.triple for q in blank), prefixes, set())
    with open(body, "w", encoding="utf-8", newline="\n") as f:
        first = True
        for _g, s, props, plain in _subject_groups(lines(), kind):
            for statement in _statements(s, props, plain, text, stream, 0):
                f.write(("" if first else "\n\n") + statement)
                first = False
    head = (writers._comment(header) + prefixes.header_turtle() + "\n").encode("utf-8")
    _with_header(out, body, head, b"\n")


def write_trig(out, lines, kind, header, vocab, scratch, blank):
    prefixes = writers.Prefixes(WRITE_PREFIXES)
    text = _TurtleText(prefixes)
    body = os.path.join(scratch, "body")
    shared = writers._bnodes_per_graph(blank)
    blank_by_graph: dict[str, list[ox.Triple]] = defaultdict(list)
    for q in blank:
        blank_by_graph["" if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value].append(q.triple)
    with open(body, "w", encoding="utf-8", newline="\n") as f:
        current = stream = None
        first = True  # the first statement of the current graph's block
        for g, s, props, plain in _subject_groups(lines(), kind):
            if g != current:
                if current is not None:
                    f.write("\n}\n\n" if current else "\n\n")
                current, first = g, True
                stream = _TurtleStream(_sorted_triples(blank_by_graph.get(g, ())), prefixes, shared)
                if g:
                    f.write(f"GRAPH {prefixes.compact(g) or f'<{g}>'} {{\n")
            for statement in _statements(s, props, plain, text, stream, 1 if g else 0):
                f.write(("" if first else "\n\n") + statement)
                first = False
        if current:
            f.write("\n}")
    head = (writers._comment(header) + prefixes.header_turtle() + "\n").encode("utf-8")
    _with_header(out, body, head, b"\n")


# --- JSON-LD, RDF/XML ---------------------------------------------------------------------------------


def _triples(lines: Iterator[str], kind: str) -> Iterator[ox.Triple]:
    """The distinct triples of lines in triple order, as terms."""
    def rows():
        last = None
        for line in lines:
            s, p, o, _g = fields(kind, line)
            if (s, p, o) != last:
                last = (s, p, o)
                yield s, p, o, ""
    for q in parsed(rows()):
        yield q.triple


def _by_subject(triples: Iterator[ox.Triple]) -> Iterator[list[ox.Triple]]:
    group: list[ox.Triple] = []
    for t in triples:
        if group and t.subject != group[0].subject:
            yield group
            group = []
        group.append(t)
    if group:
        yield group


def write_jsonld(out, lines, kind, header, vocab, scratch, blank):
    c = writers._JsonLdCompactor(WRITE_PREFIXES, vocab)
    body = os.path.join(scratch, "body")
    with open(body, "w", encoding="utf-8", newline="\n") as f:
        first = True
        for group in _by_subject(_triples(lines(), kind)):
            node = _jsonld_node(group, c)
            text = json.dumps(node, ensure_ascii=False, indent=2).replace("\n", "\n    ")
            f.write(("" if first else ",\n") + "    " + text)
            first = False
    context = json.dumps(c.context(), ensure_ascii=False, indent=2).replace("\n", "\n  ")
    with open(body, "rb") as f:
        empty = not f.read(1)
    head = ('{\n  "@context": ' + context + ',\n  "@graph": [' + ("" if empty else "\n")).encode("utf-8")
    _with_header(out, body, head, b"]\n}\n" if empty else b"\n  ]\n}\n")


def _jsonld_node(group: list[ox.Triple], c) -> dict:
    """writers.write_jsonld's node object for one subject."""
    s = group[0].subject
    props: dict[ox.NamedNode, list] = {}
    for t in group:
        props.setdefault(t.predicate, []).append(t.object)
    node: dict[str, object] = {"@id": c.iri(s.value) if isinstance(s, ox.NamedNode) else f"_:{s.value}"}
    types = sorted(o for o in props.get(_TYPE, []) if isinstance(o, ox.NamedNode))
    other_types = [o for o in props.get(_TYPE, []) if not isinstance(o, ox.NamedNode)]
    if types:
        node["@type"] = writers._one_or_list(sorted(c.vocab_term(t.value) for t in types))
    for p in sorted(props, key=lambda p: p.value):
        objs = props[p] if p != _TYPE else other_types
        if not objs:
            continue
        key = c.vocab_term(p.value) if p != _TYPE else c.iri(p.value)
        node[key] = writers._one_or_list([writers._jsonld_value(o, c) for o in sorted(objs, key=writers.term_key)])
    return node


def write_rdfxml(out, lines, kind, header, vocab, scratch, blank):
    # RDF/XML declares its prefixes first: one reading of the sorted lines finds the used ones, a second writes.
    used = writers._used_namespaces(_triples(lines(), kind), WRITE_PREFIXES)
    ox.serialize(_triples(lines(), kind), out, format=ox.RdfFormat.RDF_XML, prefixes=used)


WRITERS = {"ntriples": write_ntriples, "nquads": write_nquads, "turtle": write_turtle, "trig": write_trig,
           "jsonld": write_jsonld, "rdfxml": write_rdfxml}
