"""Streaming a large file into the on-disk store in one pass of ``bulk_load`` calls, default graph included.

The store's default graph must be the RDF merge of the named graphs (Oxigraph's own union mode and a
``FROM`` list both return one solution per graph that states a triple: tests/test_store.py shows it),
so every triple is written twice: in its graph and in the default graph. Doing that with one Python
``Quad`` per triple cost most of the load time; here no quad crosses Python:

* the file is read as lines of N-Quads (N-Triples gets its named graph appended); every line that has
  a graph is followed by its copy without it (one regular expression per line, no term objects), and
  Oxigraph's bulk loader parses the stream, so parsing and index building stay in Rust;
* the lines the loader's additions depend on (date literals, claims, source documents, sub-property
  axioms: a substring test) are kept, parsed at the end of the file, and the date claims and
  ``ekg:statedIn`` triples they give (:func:`explore_kg.loading.quad_file_additions`,
  :func:`explore_kg.claims.complete_date_claims`, formatted from their lines where they are plain:
  :mod:`explore_kg.store.bulk_claims`) go into the same stream, doubled the same way;
* the stream goes into the store in ``bulk_load`` calls of BATCH_BYTES (Oxigraph's loader holds one
  call's quads in memory), except the lines that name blank nodes: a label means one node within one
  call, so those wait in a temporary file for the last call.
* Turtle, TriG, RDF/XML, JSON-LD and N3 are first rewritten as N-Triples / N-Quads into a temporary
  file by pyoxigraph's streaming parser and serializer (memory stays flat); a syntax error names the
  file, line and column there. An error in the N-Quads/N-Triples stream is located by re-parsing the
  file itself (the doubled stream's line numbers are not the file's).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox

from ..claims import complete_date_claims, subproperty_edges
from ..loading import QUAD_FORMATS, LoadError, known_date_properties, quad_file_additions, source_of
from ..namespaces import EKG, ID
from .bulk_claims import claim_lines, claimed_subjects, split_plain_dates

# subject, predicate + object, graph (optional) of one N-Quads line; anything else (comments, blank
# lines, RDF-star, unusual spacing) is passed on as it is and copied through pyoxigraph's parser.
_LINE = re.compile(
    rb'[ \t]*(<[^>]*>|_:\S+)[ \t]*(<[^>]*>[ \t]*(?:<[^>]*>|_:\S+|"(?:[^"\\\r\n]|\\.)*"(?:@[A-Za-z0-9-]+|\^\^<[^>]*>)?))'
    rb'[ \t]*(<[^>]*>|_:\S+)?[ \t]*\.[ \t]*(?:#[^\n]*)?\r?\n?')
# A line the loader's additions may need (a superset: complete_date_claims picks what it needs).
_KEPT = re.compile(rb"XMLSchema#(?:date|gYear)|ontology#(?:[cC]laim|datePrecision|earliestDate|latestDate|"
                   rb"SourceDocument|japaneseFiscalYear)|#subPropertyOf>|#equivalentProperty>")
_OWN = b"<" + str(ID).encode()
_STATED_IN = ox.NamedNode(str(EKG.statedIn))
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_SOURCE_DOCUMENT = ox.NamedNode(str(EKG.SourceDocument))
STREAM_BYTES = 16 * 1024 * 1024  # files at least this big take this path (smaller ones: loading.load's)
# N-Quads bytes per bulk_load call: the loader's memory grows with the quads of one call (~1 KB each
# measured at 200k-400k quads), so a file goes in as calls of this size (~1M quads) plus one call for the
# lines that name blank nodes. Each call costs time of its own: building the 1M bench store took 46.9 s
# in one call (peak 2.4 GB), 50.8 s in calls of 256 MB (1.7 GB), 67.5 s in calls of 64 MB (0.7 GB).
BATCH_BYTES = 256 * 1024 * 1024


class _Doubled:
    """A binary reader for ``bulk_load``: the lines of ``f`` as N-Quads, each followed by its default-graph
    copy; at the end, what ``tail(kept_lines)`` returns, doubled the same way."""

    def __init__(self, f, graph: bytes | None, tail: Callable[[list[bytes]], Iterator[bytes]],
                 progress: Callable[[int, int], None], blank_lines=None, batch_bytes: int = 0):
        self.f, self.graph, self.tail, self.progress = f, graph, tail, progress
        self.kept: list[bytes] = []  # lines the additions may need
        self.odd: list[bytes] = []  # lines the expression did not split: copied at the end
        self.subjects: set[bytes] = set()  # our own IRIs that are subjects (triple files: ekg:statedIn)
        self.buf, self.pos, self.done, self.tail_done, self.position = b"", 0, False, False, 0
        self.blank_lines = blank_lines  # a binary file for the lines that name blank nodes (None: inline)
        self.batch_bytes, self.batch_filled = batch_bytes, 0

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes of the stream; b"" at its end, or at the end of a batch of ``batch_bytes``
        (always at a line's end: the caller then starts the next ``bulk_load`` with :meth:`next_batch`)."""
        while not self.done and (n < 0 or len(self.buf) - self.pos < n) and (
                not self.batch_bytes or self.batch_filled < self.batch_bytes):
            chunk = self._fill()
            if chunk is None:
                self.done = True
                break
            self.buf = self.buf[self.pos:] + chunk
            self.pos = 0
            self.batch_filled += len(chunk)
        end = len(self.buf) if n < 0 else self.pos + n
        out = self.buf[self.pos:end]
        self.pos += len(out)
        return out

    def next_batch(self) -> bool:
        """Start the next batch; False when the whole stream has been read."""
        self.batch_filled = 0
        return not (self.done and self.pos >= len(self.buf))

    def _fill(self) -> bytes | None:
        lines = self.f.readlines(1 << 16)
        if not lines:
            if self.tail_done:
                return None
            self.tail_done = True
            tail = [self.tail(self.kept)]
            self.kept = []
            if self.odd:  # the lines the expression left alone went in as they are: their copies
                graph = None if self.graph is None else ox.NamedNode(self.graph[1:-1].decode())
                copies = []
                for q in ox.parse(b"".join(self.odd), format=ox.RdfFormat.N_QUADS):
                    if graph is not None:  # (a triple file's line: in the default graph so far)
                        copies.append(ox.Quad(q.subject, q.predicate, q.object, graph))
                    elif not isinstance(q.graph_name, ox.DefaultGraph):
                        copies.append(ox.Quad(q.subject, q.predicate, q.object))
                tail.append(iter([ox.serialize(copies, format=ox.RdfFormat.N_QUADS) or b""]))
            self.f = _Lines(itertools.chain.from_iterable(tail))
            self.graph = None  # the additions carry their graphs
            return self._fill() or b""
        match, graph = _LINE.fullmatch, self.graph
        out = self._double(lines)
        if self.blank_lines is not None and b"_:" in out:
            # A blank node label names one node within one bulk_load call only: the lines that may name
            # one (a literal with "_:" in it too) wait in blank_lines for the last call.
            keep = []
            for line in out[:-1].split(b"\n"):  # (every line _double writes ends with one "\n")
                if b"_:" in line:
                    self.blank_lines.write(line + b"\n")
                else:
                    keep.append(line + b"\n")
            out = b"".join(keep)
        # the lines the additions may need: one search over the chunk (none once the additions are
        # streaming: they are made already, and nearly every line of theirs would match)
        chunk = b"" if self.tail_done else b"".join(lines)
        end = -1
        for m in _KEPT.finditer(chunk):
            if m.start() < end:
                continue  # (another match on a line already kept)
            start = chunk.rfind(b"\n", 0, m.start()) + 1
            end = chunk.find(b"\n", m.end())
            end = len(chunk) if end < 0 else end + 1
            line = chunk[start:end]
            if graph is not None:
                parts = match(line)
                if parts is None:  # an odd line: through the parser (it is reported by the load if bad)
                    with contextlib.suppress(SyntaxError, ValueError):
                        g = ox.NamedNode(graph[1:-1].decode())
                        self.kept.append(ox.serialize([ox.Quad(q.subject, q.predicate, q.object, g) for q in
                                                       ox.parse(line, format=ox.RdfFormat.N_TRIPLES)],
                                                      format=ox.RdfFormat.N_QUADS) or b"")
                    continue
                line = b"%s %s %s .\n" % (parts.group(1), parts.group(2), graph)
            self.kept.append(line)
        if hasattr(self.f, "tell"):
            self.position = self.f.tell()
        self.progress(len(lines), self.position)
        return out

    def _double(self, lines: list[bytes]) -> bytes:
        """``lines`` as N-Quads, each one that has a graph followed by its default-graph copy."""
        out = []
        match, graph, subjects, own = _LINE.fullmatch, self.graph, self.subjects, _OWN
        last_subject = None
        for line in lines:
            m = match(line)
            if m is None:
                if line.strip() and not line.lstrip().startswith(b"#"):
                    self.odd.append(line)
                out.append(line if line.endswith(b"\n") else line + b"\n")
                continue
            subject, rest, g = m.groups()
            if graph is not None:  # a triple file: its graph, then the default-graph copy
                out.append(b"%s %s %s .\n%s %s .\n" % (subject, rest, graph, subject, rest))
                if subject != last_subject:
                    last_subject = subject
                    if subject.startswith(own):
                        subjects.add(subject)
            elif g is not None:
                out.append(b"%s %s %s .\n%s %s .\n" % (subject, rest, g, subject, rest))
            else:
                out.append(b"%s %s .\n" % (subject, rest))
        return b"".join(out)


class _Lines:
    """``readlines`` over blocks of N-Quads made on demand (the additions, at the end of the stream)."""

    def __init__(self, blocks: Iterator[bytes]):
        self._blocks = blocks

    def readlines(self, _hint: int = -1) -> list[bytes]:
        for block in self._blocks:
            if block:
                return block.splitlines(keepends=True)
        return []


def _to_lines(path: Path, fmt: ox.RdfFormat, directory: Path) -> tuple[Path, ox.RdfFormat]:
    """A file that is not N-Triples / N-Quads, rewritten as one into ``directory`` (streaming)."""
    target = ox.RdfFormat.N_QUADS if fmt in QUAD_FORMATS else ox.RdfFormat.N_TRIPLES
    if fmt == target:
        return path, fmt
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".nq" if target == ox.RdfFormat.N_QUADS else ".nt")
    try:
        with os.fdopen(fd, "wb") as out, open(path, "rb") as f:
            ox.serialize(ox.parse(f, format=fmt, base_iri=path.resolve().as_uri()), out, format=target)
    except (SyntaxError, ValueError) as e:
        os.unlink(tmp)
        raise LoadError.from_parser(path, e) from e
    except OSError as e:
        os.unlink(tmp)
        raise LoadError(path, f"cannot read file: {e.strerror or e}") from e
    return Path(tmp), target


def _source_graph(path: Path) -> ox.NamedNode | None:
    """The one ekg:SourceDocument an N-Triples file describes (by a scan of the lines that name the class)."""
    lines = []
    with open(path, "rb") as f:
        for line in f:
            if b"SourceDocument>" in line:
                lines.append(line)
    try:
        return source_of(list(ox.parse(b"".join(lines), format=ox.RdfFormat.N_TRIPLES)))
    except (SyntaxError, ValueError):
        return None  # the full load reports the error with its position


def stream_file(store: ox.Store, path: Path, fmt: ox.RdfFormat, edges: list,
                progress: Callable[[int, int], None], scratch: Path) -> None:
    """Load one large data file into ``store``: its graphs, the loader's additions, the default-graph copies.

    ``edges``: the sub-property axioms read so far (this file's are added); ``scratch``: a directory for
    the temporary N-Triples / N-Quads rewrite of other formats. Raises LoadError naming file:line:column.
    """
    lines_path, lines_fmt = _to_lines(path, fmt, scratch)
    try:
        graph = None
        if lines_fmt == ox.RdfFormat.N_TRIPLES:  # a triple file: one named graph, as loading.assign_graphs
            graph = _source_graph(lines_path) or ox.NamedNode(path.resolve().as_uri())
        doubled: _Doubled | None = None

        def tail(kept: list[bytes]) -> Iterator[bytes]:
            """The loader's additions, in blocks of N-Quads: plain date triples' claims are formatted
            from their lines (store/bulk_claims.py), the rest made by claims.complete_date_claims."""
            looks_plain, others = split_plain_dates(kept)
            quads = list(ox.parse(b"".join(others), format=ox.RdfFormat.N_QUADS))
            edges.extend(subproperty_edges(quads))
            dates = known_date_properties(edges)
            plain, others = split_plain_dates(looks_plain, frozenset(d.value for d in dates), claimed_subjects(quads))
            quads += ox.parse(b"".join(others), format=ox.RdfFormat.N_QUADS)
            del looks_plain, others
            minted: list[str] = []
            if graph is None:
                added = quad_file_additions(quads, dates)
                sources = frozenset(q.subject.value for q in quads if q.predicate == _RDF_TYPE
                                    and q.object == _SOURCE_DOCUMENT and q.subject == q.graph_name)
                yield ox.serialize(added, format=ox.RdfFormat.N_QUADS) or b""
                yield from claim_lines(plain, sources)
                return
            # a triple file, as loading.assign_graphs: the claims, then statedIn for every entity of ours
            added = complete_date_claims(quads, dates)
            yield ox.serialize(added, format=ox.RdfFormat.N_QUADS) or b""
            yield from claim_lines(plain, frozenset(), minted)
            if graph.value != path.resolve().as_uri():
                entities = {s.decode()[1:-1] for s in doubled.subjects}
                entities.update(q.subject.value for q in added if isinstance(q.subject, ox.NamedNode)
                                and q.subject.value.startswith(str(ID)))
                entities.update(minted)
                yield ox.serialize([ox.Quad(ox.NamedNode(e), _STATED_IN, graph, graph) for e in sorted(entities)],
                                   format=ox.RdfFormat.N_QUADS) or b""

        try:
            with open(lines_path, "rb") as f, tempfile.TemporaryFile(dir=scratch) as blank_lines:
                doubled = _Doubled(f, None if graph is None else str(graph).encode(), tail, progress,
                                   blank_lines, BATCH_BYTES)
                while doubled.next_batch():  # Oxigraph's bulk loader holds a whole call's quads in memory
                    store.bulk_load(doubled, format=ox.RdfFormat.N_QUADS)
                blank_lines.seek(0)
                store.bulk_load(blank_lines, format=ox.RdfFormat.N_QUADS)
        except (SyntaxError, ValueError, OSError) as e:
            raise _locate(path, fmt, e) from e
    finally:
        if lines_path != path:
            with contextlib.suppress(OSError):
                os.unlink(lines_path)


def _locate(path: Path, fmt: ox.RdfFormat, e: Exception) -> LoadError:
    """The LoadError for a failed stream: the file's own first error, found by parsing it again."""
    try:
        with open(path, "rb") as f:
            for _ in ox.parse(f, format=fmt, base_iri=path.resolve().as_uri()):
                pass
    except (SyntaxError, ValueError) as found:
        return LoadError.from_parser(path, found)
    except OSError as found:
        return LoadError(path, f"cannot read file: {found.strerror or found}")
    return LoadError.from_parser(path, e)
