"""The streaming export's intermediate form: each quad as one line of text, and the external sort of lines.

A line holds a quad's terms in N-Triples form, laid out so that sorting the lines' text gives the order the
output format needs (what :func:`explore_kg.writers.term_key` gives the in-memory exporter). Text is what
Oxigraph writes and what the writers need, so most quads are never Python objects; and text sorts and
merges from disk without holding the data.

The three layouts (``kind``):

* ``"triple"`` (Turtle, JSON-LD, RDF/XML): ``rank+subject NUL predicate NUL rank+object NUL graph``, the
  order of writers.term_key (IRIs, then blank nodes, then literals), graph last;
* ``"line"`` (N-Triples, N-Quads): ``"subject predicate object ." NUL graph``, the order of the sorted
  output lines, graph last;
* ``"graph"`` (TriG): ``graph IRI`` (bare: write_trig orders graphs by IRI) ``NUL rank+subject NUL predicate
  NUL rank+object``.

In the first two, equal triples are adjacent (what the description's counts rely on). The graph is ``""``
for the default graph, else ``<IRI>``.
"""

from __future__ import annotations

import heapq
import os
import tempfile
from collections.abc import Iterable, Iterator

import pyoxigraph as ox


def rank(text: str) -> str:
    """A term's N-Triples form behind the rank writers.term_key gives it (0 IRI, 1 blank node, 2 literal)."""
    return ("0" if text[0] == "<" else "1" if text[0] == "_" else "2") + text


def line_of(kind: str, s: str, p: str, o: str, g: str) -> str:
    if kind == "triple":
        return f"{rank(s)}\0{p}\0{rank(o)}\0{g}"
    if kind == "line":
        return f"{s} {p} {o} .\0{g}"
    return f"{g[1:-1]}\0{rank(s)}\0{p}\0{rank(o)}"


def fields(kind: str, line: str) -> tuple[str, str, str, str]:
    """(subject, predicate, object, graph) in N-Triples form ('' for the default graph)."""
    if kind == "triple":
        s, p, o, g = line.split("\0")
        return s[1:], p, o[1:], g
    if kind == "graph":
        g, s, p, o = line.split("\0")
        return s[1:], p, o[1:], f"<{g}>" if g else ""
    triple, g = line.rsplit("\0", 1)
    s, p, rest = triple.split(" ", 2)
    return s, p, rest[:-2], g


def quad_line(kind: str, q: ox.Quad) -> str:
    g = "" if isinstance(q.graph_name, ox.DefaultGraph) else str(q.graph_name)
    return line_of(kind, str(q.subject), str(q.predicate), str(q.object), g)


def parsed(rows: Iterable[tuple[str, str, str, str]], batch: int = 4096) -> Iterator[ox.Quad]:
    """Quads back from their N-Triples terms, parsed by pyoxigraph a batch at a time."""
    chunk: list[str] = []

    def flush() -> Iterator[ox.Quad]:
        yield from ox.parse("".join(chunk).encode("utf-8"), format=ox.RdfFormat.N_QUADS)
        chunk.clear()

    for s, p, o, g in rows:
        chunk.append(f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n")
        if len(chunk) >= batch:
            yield from flush()
    if chunk:
        yield from flush()


class LineSorter:
    """An external sort of text lines (no line holds a newline: N-Triples escapes them): chunks of ``chunk``
    lines sorted in memory, spilled to files in ``directory``, merged on reading. Equal lines come out once.

    The first complete reading of spilled runs also writes the merged lines to one file, which later
    readings read as it is: the export reads the lines twice (to count, then to write) and merges once."""

    def __init__(self, directory: str, chunk: int):
        self.directory = directory
        self.chunk = chunk
        self.lines: list[str] = []
        self.runs: list[str] = []

    def add(self, line: str) -> None:
        self.lines.append(line)
        if len(self.lines) >= self.chunk:
            self._spill()

    def extend(self, lines: list[str]) -> None:
        self.lines.extend(lines)
        if len(self.lines) >= self.chunk:
            self._spill()

    def _spill(self) -> None:
        self.lines = sorted(set(self.lines))
        fd, path = tempfile.mkstemp(dir=self.directory, suffix=".run")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            _write_lines(f, self.lines)
        self.runs.append(path)
        self.lines = []

    def finish(self) -> None:
        if self.runs and self.lines:
            self._spill()
        else:
            self.lines = sorted(set(self.lines))

    def __iter__(self) -> Iterator[str]:
        """The sorted, distinct lines (may be read more than once)."""
        if not self.runs:
            yield from self.lines
            return
        if len(self.runs) == 1:
            with open(self.runs[0], encoding="utf-8", newline="\n") as f:
                for raw in f:
                    yield raw[:-1]
            return
        files = [open(path, encoding="utf-8", newline="\n") for path in self.runs]  # noqa: SIM115 - closed below
        fd, merged = tempfile.mkstemp(dir=self.directory, suffix=".merged")
        complete = False
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
                last = None
                batch: list[str] = []
                for line in heapq.merge(*((raw[:-1] for raw in f) for f in files)):
                    if line != last:
                        yield line
                        last = line
                        batch.append(line)
                        if len(batch) >= 8192:
                            _write_lines(out, batch)
                            batch.clear()
                _write_lines(out, batch)
            complete = True
        finally:
            for f in files:
                f.close()
            if complete:  # later readings read the one merged run
                for path in self.runs:
                    os.unlink(path)
                self.runs = [merged]
            else:
                os.unlink(merged)


def _write_lines(f, lines: list[str]) -> None:
    if lines:
        f.write("\n".join(lines))
        f.write("\n")
