"""One write, start to end: serialised, applied, validated, logged, committed or undone.

:meth:`Writer.write` runs in a thread (the event loop keeps answering queries) under one lock: writers
wait for each other, readers never wait (they read the last snapshot, :mod:`explore_kg.store.writable`).
The order makes a write atomic and durable:

1. apply it to the live store (an update is one Oxigraph transaction) and compute its delta
   (:mod:`explore_kg.gate`); in the shipped graph's model, keep the default graph the merge of the others;
2. validate the delta; refused: undo it (the store's content is as before) and return the report;
3. append the change to the log and fsync it: from here the write survives a crash;
4. snapshot the live store and point the readers at it; only then is the write acknowledged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .changelog import Change, ChangeLog, new_change
from .gate import Delta, Gate, mirror_default_graph, undo
from .store.writable import CHANGES, WritableStore
from .validation.report import Report

log = logging.getLogger("explore_kg.write")


@dataclass
class Outcome:
    delta: Delta
    report: Report
    change: Change | None  # None: refused, or nothing changed
    ms: float
    snapshot_ms: float = 0.0  # of ms: making the committed state the readers' (store.writable)

    @property
    def accepted(self) -> bool:
        return self.report.conforms


class Writer:
    """The write path of a writable server (``app.state.writer``)."""

    def __init__(self, served: WritableStore, *, tokens: dict[str, str], curated: bool, shapes: Path | None,
                 allow_remote: bool = False, validate: bool = True):
        self.served = served
        self.store: ox.Store = served.store
        self.tokens = tokens
        self.curated = curated
        self.allow_remote = allow_remote
        self.gate = Gate(served.store, curated=curated, shapes=shapes)
        self.validate = validate
        self.changes = ChangeLog(served.directory / CHANGES)
        self.lock = threading.Lock()
        self.seq = served.generation
        self.timings: list[float] = []
        self._reader = None

    def reader(self):
        """The last committed state, for the server's own reads (GET /store): never the live store."""
        from .store.writable import GenerationStore

        if self._reader is None:
            self._reader = GenerationStore(self.served.directory)
        else:
            self._reader.refresh()
        return self._reader

    def write(self, mutate: Callable[[ox.Store], Delta], *, who: str, message: str = "",
              body_file: Path | None = None) -> Outcome:
        """Run ``mutate`` (it changes the live store and returns its delta) as one gated transaction."""
        with self.lock:
            started = time.perf_counter()
            delta = mutate(self.store)
            try:
                if self.curated and delta:
                    extra = mirror_default_graph(self.store, delta)
                    delta.added |= extra.added
                    delta.removed |= extra.removed
                report = self.gate.check(delta, body_file=body_file) if self.validate else Report()
            except BaseException:
                undo(self.store, delta)
                raise
            if not report.conforms:
                undo(self.store, delta)
                return Outcome(delta, report, None, (time.perf_counter() - started) * 1000)
            if not delta:
                return Outcome(delta, report, None, (time.perf_counter() - started) * 1000)
            seq = self.seq + 1
            change = new_change(seq, who, message, delta.sources(), delta.removed, delta.added)
            try:
                self.changes.append(change)
            except BaseException:
                undo(self.store, delta)
                raise
            snapshot_started = time.perf_counter()
            self.served.snapshot(seq)  # (a failure here: the logged change is recovered at the next start)
            snapshot_ms = (time.perf_counter() - snapshot_started) * 1000
            self.seq = seq
            if any(q.graph_name.value == "https://w3id.org/explore-kg/graph/ontology" for q in
                   delta.added | delta.removed if isinstance(q.graph_name, ox.NamedNode)):
                self.gate._ontology = self.gate._base = None
            ms = (time.perf_counter() - started) * 1000
            self.timings.append(ms)
            return Outcome(delta, report, change, ms, snapshot_ms)
