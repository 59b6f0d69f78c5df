"""Each fact's change history, for the entity pages of a writable server (issue 12).

The change log (:mod:`explore_kg.changelog`) says who changed what, when and why; an entity page asks
for the changes of the facts whose subject is its entity. :class:`History` reads the log once, at the
first page asked for, into an index by subject, and the writer adds each change it commits after that.
The default graph's copies of named-graph quads (the shipped graph's model: the default graph is their
merge) are the same fact: a change lists each fact once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pyoxigraph as ox

from .changelog import Change, ChangeLog

MAX_SHOWN = 100  # the newest changes of an entity's facts that a page lists


@dataclass(frozen=True)
class FactChange:
    seq: int
    who: str
    when: str
    message: str
    action: str  # "added" or "removed"
    quad: ox.Quad


class History:
    def __init__(self, changes: ChangeLog):
        self.changes = changes
        self._by_subject: dict[ox.Term, list[FactChange]] | None = None
        self._lock = threading.Lock()

    def _add(self, change: Change) -> None:
        for action, quads in (("removed", change.removed), ("added", change.added)):
            named = {(q.subject, q.predicate, q.object) for q in quads if not isinstance(q.graph_name, ox.DefaultGraph)}
            for q in quads:
                if isinstance(q.graph_name, ox.DefaultGraph) and (q.subject, q.predicate, q.object) in named:
                    continue
                self._by_subject.setdefault(q.subject, []).append(
                    FactChange(change.seq, change.who, change.when, change.message, action, q))

    def note(self, change: Change) -> None:
        """A change just committed (a no-op until a page has asked: the first question reads the log)."""
        with self._lock:
            if self._by_subject is not None:
                self._add(change)

    def of(self, subject: ox.NamedNode) -> list[FactChange]:
        """The changes of the facts about ``subject``, newest first (at most :data:`MAX_SHOWN`)."""
        with self._lock:
            if self._by_subject is None:
                self._by_subject = {}
                for change in self.changes.records():
                    self._add(change)
            found = self._by_subject.get(subject, [])
            return sorted(found, key=lambda c: (-c.seq, c.action != "removed", c.quad.predicate.value,
                                                str(c.quad.object)))[:MAX_SHOWN]
