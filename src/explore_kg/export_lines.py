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

A store's graphs come in as N-Triples text, a few MB of lines at a time (:class:`LineBatches` for a dump in this
process, :func:`read_graph_dumps` for a child process's). In the first two layouts, equal triples are adjacent (what the description's counts rely on). The graph is ``""``
for the default graph, else ``<IRI>``.
"""

from __future__ import annotations

import contextlib
import fcntl
import heapq
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

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


# --- N-Triples from a store, a few lines at a time -----------------------------------------------------


def read_graph_dumps(stream: BinaryIO, graphs: list[str], handle: Callable[[str, list[str]], None]) -> None:
    """``handle(graph, lines)`` for the N-Triples of ``graphs`` read from ``stream``, where each graph's lines
    are followed by a line holding one NUL (no N-Triples line holds one), a few MB at a time."""
    names = iter(graphs)
    current = next(names, None)
    rest = b""
    _widen_pipe(stream)
    while chunk := stream.read(_PIPE):  # the pipe's size: the child writes the next MB meanwhile
        data = rest + chunk if rest else chunk
        cut = data.rfind(b"\n") + 1
        rest = data[cut:]
        parts = data[:cut].decode("utf-8").split("\0\n")
        for k, part in enumerate(parts):
            if part:
                handle(f"<{current}>", part.split("\n")[:-1])
            if k < len(parts) - 1:
                current = next(names, None)
    if rest or current is not None:
        raise RuntimeError("the store's dump ended inside a graph")


_PIPE = 1 << 20  # bytes read from the dump child at a time (4 MB blocks left the child idle meanwhile;
# reading whatever had come, in pieces of ~64 KB, was no faster and peaked 100 MB higher at 1M quads)


def _widen_pipe(stream: BinaryIO) -> None:
    """Let the child write ahead (1 MB where Linux allows it, not 64 KB) while the lines before are handled."""
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, _PIPE)


class LineBatches:
    """A binary output for Oxigraph's dump of one graph that hands on complete N-Triples lines a few MB at
    a time (``handle(graph, lines)``): no graph is held whole."""

    SIZE = 1 << 22

    def __init__(self, graph: str, handle: Callable[[str, list[str]], None]):
        self.graph, self.handle = graph, handle
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        if self.size >= self.SIZE:
            self._hand_on(final=False)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self._hand_on(final=True)

    def _hand_on(self, *, final: bool) -> None:
        data = b"".join(self.parts)
        cut = len(data) if final else data.rfind(b"\n") + 1
        rest = data[cut:]
        self.parts, self.size = ([rest] if rest else []), len(rest)
        if cut:
            self.handle(self.graph, data[:cut].decode("utf-8").split("\n")[:-1])
