"""The change log of a writable store: every accepted write, appended as one RDF Patch transaction.

One file, ``DIR/changes.rdfp`` (https://afs.github.io/rdf-patch/): per change a header (``H seq``,
``H id``, ``H who`` = the token's name, ``H when``, ``H source`` = the source document(s) whose graphs it
changed, ``H message``), ``TX .``, its ``D`` (removed) and ``A`` (added) quads, ``TC .``. A record is
appended and fsynced before the write is acknowledged, so the log is what makes a write durable; a
record cut short by a crash (no ``TC``) was never acknowledged and is dropped at the next start.
"""

from __future__ import annotations

import datetime
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox


def term_text(term) -> str:
    """A term as N-Quads writes it (pyoxigraph's str() of a term is its N-Triples form)."""
    return str(term)


def quad_text(q: ox.Quad) -> str:
    parts = [term_text(q.subject), term_text(q.predicate), term_text(q.object)]
    if not isinstance(q.graph_name, ox.DefaultGraph):
        parts.append(term_text(q.graph_name))
    return " ".join(parts)


@dataclass
class Change:
    seq: int
    id: str
    who: str
    when: str
    message: str = ""
    sources: list[str] = field(default_factory=list)
    removed: list[ox.Quad] = field(default_factory=list)
    added: list[ox.Quad] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # named graphs made to exist empty (H create)
    dropped: list[str] = field(default_factory=list)  # named graphs that no longer exist (H drop)

    def to_dict(self, *, quads: bool = True) -> dict:
        out = {"seq": self.seq, "id": self.id, "who": self.who, "when": self.when, "message": self.message,
               "sources": self.sources, "added": len(self.added), "removed": len(self.removed)}
        if self.created or self.dropped:
            out["created_graphs"], out["dropped_graphs"] = self.created, self.dropped
        if quads:
            out["added_quads"] = [quad_text(q) + " ." for q in self.added]
            out["removed_quads"] = [quad_text(q) + " ." for q in self.removed]
        return out


def _literal(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid N-Triples string literal


class ChangeLog:
    """Append and read the records of ``path``."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def append(self, change: Change) -> int:
        """Append and fsync one record; returns the log's size after it (where the next record starts)."""
        lines = [f'H seq "{change.seq}" .', f"H id <urn:uuid:{change.id}> .", f"H who {_literal(change.who)} .",
                 f'H when "{change.when}"^^<http://www.w3.org/2001/XMLSchema#dateTime> .']
        lines += [f"H source <{s}> ." for s in change.sources]
        lines += [f"H create <{g}> ." for g in change.created] + [f"H drop <{g}> ." for g in change.dropped]
        if change.message:
            lines.append(f"H message {_literal(change.message)} .")
        lines.append("TX .")
        lines += [f"D {quad_text(q)} ." for q in change.removed]
        lines += [f"A {quad_text(q)} ." for q in change.added]
        lines.append("TC .")
        data = ("\n".join(lines) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
            return os.fstat(fd).st_size
        finally:
            os.close(fd)

    def size(self) -> int:
        try:
            return os.stat(self.path).st_size
        except FileNotFoundError:
            return 0

    def read_from(self, offset: int) -> tuple[list[Change], int]:
        """The complete records from byte ``offset`` on, and the offset after the last of them (a record
        being appended, without its ``TC`` yet, is left for the next call). What a follower reads."""
        if self.size() <= offset:  # the common case: one stat
            return [], offset
        with open(self.path, "rb") as f:
            f.seek(offset)
            data = f.read()
        end = data.rfind(_END)
        if end < 0:
            return [], offset
        data = data[:end + len(_END)]
        return list(_records(data.decode("utf-8").splitlines(), after=0, quads=True)), offset + len(data)

    def offset_after(self, seq: int) -> int:
        """The byte offset just after record ``seq`` (0: before the first record)."""
        if seq <= 0 or not self.path.exists():
            return 0
        position = 0
        current = None
        with open(self.path, "rb") as f:
            for line in f:
                position += len(line)
                if line.startswith(b'H seq "'):
                    current = int(line.split(b'"')[1])
                elif line == b"TC .\n" and current == seq:
                    return position
        return position

    def repair(self) -> int:
        """Cut a record that a crash left without its ``TC``; return the last complete record's seq (0: none)."""
        if not self.path.exists():
            return 0
        data = self.path.read_bytes()
        end = data.rfind(b"\nTC .\n")
        keep = end + len(b"\nTC .\n") if end >= 0 else 0
        if keep != len(data):
            with open(self.path, "r+b") as f:
                f.truncate(keep)
                f.flush()
                os.fsync(f.fileno())
        last = 0
        for change in self.records(quads=False):
            last = change.seq
        return last

    def records(self, *, after: int = 0, quads: bool = True) -> Iterator[Change]:
        """The complete records with seq > ``after``, oldest first."""
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as f:
            yield from _records(f, after=after, quads=quads)


_END = b"\nTC .\n"


def _records(lines, *, after: int, quads: bool) -> Iterator[Change]:
    """Parse records from an iterable of lines (see the module docstring for the format)."""
    head: dict = {}
    body: list[str] = []
    for line in lines:
        line = line.rstrip("\n")
        if line.startswith("H "):
            key, _, value = line[2:].rstrip(" .").partition(" ")
            if key in ("source", "create", "drop"):
                head.setdefault(key, []).append(value.strip("<>"))
            elif key == "id":
                head["id"] = value.strip("<>").removeprefix("urn:uuid:")
            elif key in ("who", "message"):
                head[key] = json.loads(value)
            else:
                head[key] = value.split("^^")[0].strip('"')
        elif line.startswith(("A ", "D ")):
            if quads and int(head.get("seq", 0)) > after:
                body.append(line)
        elif line == "TC .":
            seq = int(head.get("seq", 0))
            if seq > after:
                change = Change(seq, head.get("id", ""), head.get("who", ""), head.get("when", ""),
                                head.get("message", ""), head.get("source", []), created=head.get("create", []),
                                dropped=head.get("drop", []))
                if body:
                    change.removed = _parse([b[2:] for b in body if b[0] == "D"])
                    change.added = _parse([b[2:] for b in body if b[0] == "A"])
                yield change
            head, body = {}, []


def _parse(lines: list[str]) -> list[ox.Quad]:
    if not lines:
        return []
    return list(ox.parse("\n".join(lines) + "\n", format=ox.RdfFormat.N_QUADS))


def new_change(seq: int, who: str, message: str, sources: list[str], removed, added, *, created=(),
               dropped=()) -> Change:
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return Change(seq, str(uuid.uuid4()), who, when, message, sources, list(removed), list(added),
                  sorted(g.value for g in created), sorted(g.value for g in dropped))
