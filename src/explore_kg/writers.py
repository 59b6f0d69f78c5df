"""Deterministic RDF writers: the same quads always give the same bytes.

rdflib's N-Triples, N-Quads, TriG, JSON-LD and RDF/XML writers follow Python's set and dict order, which
changes with the hash seed of each process, and its blank-node labels are random. pyoxigraph writes in
input order, but its Turtle prefix header order is not specified. So this module:

* gives blank nodes content-derived labels (W3C RDF Dataset Canonicalization, RDFC-1.0: ``_:c14n0``...),
* sorts quads by graph, subject, predicate and object,
* writes Turtle, TriG and JSON-LD itself (prefixes sorted, only the ones used, lists as ``( ... )``,
  blank nodes used once written inline), N-Triples and N-Quads as sorted lines, and RDF/XML with
  pyoxigraph from the sorted quads with only the used prefixes.

JSON-LD output always carries its ``@context`` inline: a consumer never has to fetch anything.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

import pyoxigraph as ox

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD_NS = "http://www.w3.org/2001/XMLSchema#"
_TYPE = ox.NamedNode(RDF_NS + "type")
_FIRST = ox.NamedNode(RDF_NS + "first")
_REST = ox.NamedNode(RDF_NS + "rest")
_NIL = ox.NamedNode(RDF_NS + "nil")
_XSD_STRING = XSD_NS + "string"
_LANG_STRING = RDF_NS + "langString"

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Graph = ox.NamedNode | ox.DefaultGraph


def canonical_quads(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Deduplicated quads with RDFC-1.0 blank-node labels, sorted by graph, subject, predicate, object."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(dataset, key=quad_key)


def quad_key(q: ox.Quad) -> tuple[str, str, str, str]:
    graph = "" if isinstance(q.graph_name, ox.DefaultGraph) else str(q.graph_name)
    return (graph, term_key(q.subject), str(q.predicate), term_key(q.object))


def term_key(t: Term) -> str:
    """Sort key: IRIs, then blank nodes, then literals (each by its N-Triples form)."""
    rank = "0" if isinstance(t, ox.NamedNode) else "1" if isinstance(t, ox.BlankNode) else "2"
    return rank + str(t)


# --- N-Triples / N-Quads ----------------------------------------------------------------------


def write_ntriples(quads: Sequence[ox.Quad]) -> bytes:
    """Sorted, deduplicated N-Triples of all graphs merged."""
    lines = {f"{q.subject} {q.predicate} {q.object} .\n" for q in quads}
    return "".join(sorted(lines)).encode("utf-8")


def write_nquads(quads: Sequence[ox.Quad]) -> bytes:
    """Sorted, deduplicated N-Quads."""
    lines = {
        f"{q.subject} {q.predicate} {q.object} .\n"
        if isinstance(q.graph_name, ox.DefaultGraph)
        else f"{q.subject} {q.predicate} {q.object} {q.graph_name} .\n"
        for q in quads
    }
    return "".join(sorted(lines)).encode("utf-8")


# --- prefixes -----------------------------------------------------------------------------------

# A conservative PN_LOCAL: letters, digits, '_', '-', '.' (not first or last). Anything else is
# written as a full IRI, which every Turtle parser reads the same way.
_LOCAL = re.compile(r"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?)?$")


class Prefixes:
    """Chooses the longest matching prefix for an IRI and remembers which prefixes were used."""

    def __init__(self, prefixes: Mapping[str, str]):
        self._by_length = sorted(prefixes.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        self.used: dict[str, str] = {}
        self._seen: dict[str, str | None] = {}

    def compact(self, iri: str) -> str | None:
        if iri in self._seen:
            return self._seen[iri]
        short = None
        for name, ns in self._by_length:
            if iri.startswith(ns) and _LOCAL.match(iri[len(ns):]):
                self.used[name] = ns
                short = f"{name}:{iri[len(ns):]}"
                break
        self._seen[iri] = short
        return short

    def header_turtle(self) -> str:
        return "".join(f"@prefix {name}: <{ns}> .\n" for name, ns in sorted(self.used.items()))


def _literal_text(lit: ox.Literal, prefixes: Prefixes) -> str:
    quoted = str(ox.Literal(lit.value))  # N-Triples escaping of the lexical form
    if lit.language:
        return f"{quoted}@{lit.language}"
    dt = lit.datatype.value
    if dt == _XSD_STRING:
        return quoted
    short = prefixes.compact(dt)
    return f"{quoted}^^{short}" if short else f"{quoted}^^<{dt}>"


# --- Turtle / TriG --------------------------------------------------------------------------------


class _TurtleGraph:
    """Writes the triples of one graph as Turtle statements."""

    def __init__(self, triples: Sequence[ox.Triple], prefixes: Prefixes, shared_bnodes: set[ox.BlankNode]):
        self.prefixes = prefixes
        self.by_subject: dict[Term, dict[ox.NamedNode, list[Term]]] = defaultdict(lambda: defaultdict(list))
        object_uses: dict[ox.BlankNode, int] = defaultdict(int)
        for t in triples:
            self.by_subject[t.subject][t.predicate].append(t.object)
            if isinstance(t.object, ox.BlankNode):
                object_uses[t.object] += 1
        # A blank node is written inline where it is used if it is the object of exactly one triple
        # of this graph and appears in no other graph.
        self.referenced = set(object_uses)
        self.shared = shared_bnodes
        self.inline = {b for b, n in object_uses.items() if n == 1 and b not in shared_bnodes}
        self._drop_cycles(triples)
        self.lists = {b for b in self.inline | {s for s in self.by_subject if isinstance(s, ox.BlankNode)} if self._is_list_node(b)}
        self._written: set[ox.BlankNode] = set()

    def _drop_cycles(self, triples: Sequence[ox.Triple]) -> None:
        """Blank nodes that (through inline blank nodes) refer to themselves keep a label."""
        referrer = {t.object: t.subject for t in triples if t.object in self.inline}
        for b in list(self.inline):
            chain, node = [], b
            while node in self.inline and node not in chain:
                chain.append(node)
                node = referrer[node]
            if node in chain:
                self.inline.difference_update(chain)

    def _is_list_node(self, b: ox.BlankNode) -> bool:
        props = self.by_subject.get(b)
        return bool(props) and set(props) == {_FIRST, _REST} and len(props[_FIRST]) == 1 and len(props[_REST]) == 1

    def _list_items(self, head: ox.BlankNode) -> list[Term] | None:
        """The members of a well-formed list starting at head, or None."""
        items, node, seen = [], head, set()
        while node != _NIL:
            if not isinstance(node, ox.BlankNode) or node in seen or node not in self.lists:
                return None
            if node != head and node not in self.inline:
                return None
            seen.add(node)
            items.append(self.by_subject[node][_FIRST][0])
            node = self.by_subject[node][_REST][0]
        return items

    def term(self, t: Term, depth: int) -> str:
        if isinstance(t, ox.NamedNode):
            return self.prefixes.compact(t.value) or f"<{t.value}>"
        if isinstance(t, ox.Literal):
            return _literal_text(t, self.prefixes)
        if t in self.inline and t not in self._written:
            self._written.add(t)
            items = self._list_items(t) if t in self.lists else None
            if items is not None:
                self._written.update(self._list_nodes(t))
                return "( " + " ".join(self.term(i, depth) for i in items) + " )" if items else "()"
            body = self.predicate_objects(t, depth + 1)
            if not body:
                return "[]"
            indent = "    " * (depth + 1)
            return "[\n" + indent + body + "\n" + "    " * depth + "]"
        return f"_:{t.value}"

    def _list_nodes(self, head: ox.BlankNode) -> list[ox.BlankNode]:
        nodes, node = [], head
        while node != _NIL:
            nodes.append(node)
            node = self.by_subject[node][_REST][0]
        return nodes

    def predicate_objects(self, subject: Term, depth: int) -> str:
        props = self.by_subject.get(subject, {})
        order = sorted(props, key=lambda p: ("0" if p == _TYPE else "1") + p.value)
        indent = "    " * depth
        parts = []
        for p in order:
            pred = "a" if p == _TYPE else self.term(p, depth)
            objs = [self.term(o, depth) for o in sorted(props[p], key=term_key)]
            parts.append(pred + " " + " , ".join(objs))
        return (" ;\n" + indent).join(parts)

    def statements(self, base_depth: int = 0) -> list[str]:
        """One statement per subject that is not written inline, in a stable order."""
        named = sorted((s for s in self.by_subject if not isinstance(s, ox.BlankNode)), key=term_key)
        blanks = sorted((s for s in self.by_subject if isinstance(s, ox.BlankNode)), key=term_key)
        out = []
        indent = "    " * base_depth
        for s in named:
            out.append(indent + self.term(s, base_depth) + " " + self.predicate_objects(s, base_depth + 1) + " .")
        for s in blanks:
            if s in self.inline or s in self._written:
                continue  # written where it is used
            if s not in self.referenced and s not in self.shared:
                self._written.add(s)  # used nowhere: written as [ ... ] .
                body = self.predicate_objects(s, base_depth + 1)
                out.append(indent + "[\n" + indent + "    " + body + "\n" + indent + "] .")
            else:
                out.append(indent + f"_:{s.value} " + self.predicate_objects(s, base_depth + 1) + " .")
        return out



def _bnodes_per_graph(quads: Sequence[ox.Quad]) -> set[ox.BlankNode]:
    """Blank nodes that occur in more than one graph (these keep their labels)."""
    seen: dict[ox.BlankNode, set] = defaultdict(set)
    for q in quads:
        for t in (q.subject, q.object):
            if isinstance(t, ox.BlankNode):
                seen[t].add(q.graph_name)
    return {b for b, graphs in seen.items() if len(graphs) > 1}


def write_turtle(quads: Sequence[ox.Quad], prefixes: Mapping[str, str], header: str = "") -> bytes:
    """Turtle of all graphs merged (duplicates across graphs written once)."""
    p = Prefixes(prefixes)
    triples = sorted({q.triple for q in quads}, key=lambda t: (term_key(t.subject), str(t.predicate), term_key(t.object)))
    body = "\n\n".join(_TurtleGraph(triples, p, set()).statements())
    return (_comment(header) + p.header_turtle() + "\n" + body + "\n").encode("utf-8")


def write_trig(quads: Sequence[ox.Quad], prefixes: Mapping[str, str], header: str = "") -> bytes:
    """TriG: the default graph first, then each named graph in IRI order."""
    p = Prefixes(prefixes)
    shared = _bnodes_per_graph(quads)
    by_graph: dict[Graph, list[ox.Triple]] = defaultdict(list)
    for q in quads:
        by_graph[q.graph_name].append(q.triple)
    blocks = []
    default = [g for g in by_graph if isinstance(g, ox.DefaultGraph)]
    named = sorted((g for g in by_graph if isinstance(g, ox.NamedNode)), key=lambda g: g.value)
    for g in default + named:
        triples = sorted(set(by_graph[g]), key=lambda t: (term_key(t.subject), str(t.predicate), term_key(t.object)))
        writer = _TurtleGraph(triples, p, shared)
        if isinstance(g, ox.DefaultGraph):
            blocks.append("\n\n".join(writer.statements()))
        else:
            name = p.compact(g.value) or f"<{g.value}>"
            blocks.append(f"GRAPH {name} {{\n" + "\n\n".join(writer.statements(1)) + "\n}")
    return (_comment(header) + p.header_turtle() + "\n" + "\n\n".join(blocks) + "\n").encode("utf-8")


def _comment(header: str) -> str:
    return "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines()) + ("\n" if header else "")


# --- RDF/XML ------------------------------------------------------------------------------------


def write_rdfxml(quads: Sequence[ox.Quad], prefixes: Mapping[str, str]) -> bytes:
    """RDF/XML of all graphs merged, written by pyoxigraph from sorted triples with the used prefixes."""
    triples = sorted({q.triple for q in quads}, key=lambda t: (term_key(t.subject), str(t.predicate), term_key(t.object)))
    used = _used_namespaces(triples, prefixes)
    return ox.serialize(triples, format=ox.RdfFormat.RDF_XML, prefixes=used)


def _used_namespaces(triples: Iterable[ox.Triple], prefixes: Mapping[str, str]) -> dict[str, str]:
    p = Prefixes(prefixes)
    for t in triples:
        for term in (t.subject, t.predicate, t.object):
            if isinstance(term, ox.NamedNode):
                p.compact(term.value)
            elif isinstance(term, ox.Literal):
                p.compact(term.datatype.value)
    return dict(sorted(p.used.items()))


# --- JSON-LD ------------------------------------------------------------------------------------

_KEYWORDS_SAFE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class _JsonLdCompactor:
    """Compacts IRIs with an inline context: prefixes (and optionally a @vocab for keys and types)."""

    def __init__(self, prefixes: Mapping[str, str], vocab: str | None):
        self.prefixes = Prefixes(prefixes)
        self.vocab = vocab
        self.all_terms = set(prefixes)

    def iri(self, iri: str) -> str:
        """An @id value: a compact IRI if a prefix fits, else the full IRI."""
        short = self.prefixes.compact(iri)
        if short and not short.split(":", 1)[1].startswith("//"):
            return short
        return iri

    def vocab_term(self, iri: str) -> str:
        """A key or @type value: relative to @vocab where unambiguous, else as iri()."""
        if self.vocab and iri.startswith(self.vocab):
            local = iri[len(self.vocab):]
            if _KEYWORDS_SAFE.match(local) and local not in self.all_terms:
                return local
        return self.iri(iri)

    def context(self) -> dict:
        ctx: dict[str, str] = {}
        if self.vocab:
            ctx["@vocab"] = self.vocab
        ctx.update(sorted(self.prefixes.used.items()))
        return ctx


def write_jsonld(quads: Sequence[ox.Quad], prefixes: Mapping[str, str], vocab: str | None = None) -> bytes:
    """JSON-LD of all graphs merged: one node object per subject, with an inline @context."""
    c = _JsonLdCompactor(prefixes, vocab)
    by_subject: dict[Term, dict[ox.NamedNode, list[Term]]] = defaultdict(lambda: defaultdict(list))
    for t in {q.triple for q in quads}:
        by_subject[t.subject][t.predicate].append(t.object)
    nodes = []
    for s in sorted(by_subject, key=term_key):
        node: dict[str, object] = {"@id": c.iri(s.value) if isinstance(s, ox.NamedNode) else f"_:{s.value}"}
        props = by_subject[s]
        types = sorted(o for o in props.get(_TYPE, []) if isinstance(o, ox.NamedNode))
        other_types = [o for o in props.get(_TYPE, []) if not isinstance(o, ox.NamedNode)]
        if types:
            node["@type"] = _one_or_list(sorted(c.vocab_term(t.value) for t in types))
        for p in sorted(props, key=lambda p: p.value):
            objs = props[p] if p != _TYPE else other_types
            if not objs:
                continue
            key = c.vocab_term(p.value) if p != _TYPE else c.iri(p.value)
            node[key] = _one_or_list([_jsonld_value(o, c) for o in sorted(objs, key=term_key)])
        nodes.append(node)
    doc = {"@context": c.context(), "@graph": nodes}
    return (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")


def _one_or_list(values: list) -> object:
    return values[0] if len(values) == 1 else values


def _jsonld_value(o: Term, c: _JsonLdCompactor) -> object:
    if isinstance(o, ox.NamedNode):
        return {"@id": c.iri(o.value)}
    if isinstance(o, ox.BlankNode):
        return {"@id": f"_:{o.value}"}
    if o.language:
        return {"@value": o.value, "@language": o.language}
    dt = o.datatype.value
    if dt == _XSD_STRING:
        return o.value
    return {"@value": o.value, "@type": c.iri(dt)}
