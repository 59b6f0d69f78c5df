"""One write, start to end: serialised, applied, validated, logged, committed or undone.

:meth:`Writer.write` runs in a thread (the event loop keeps answering queries) under one lock: writers
wait for each other, readers never wait (they follow the change log, :mod:`explore_kg.store.writable`).
The order makes a write atomic and durable:

1. apply it to the live store (an update is one Oxigraph transaction) and compute its delta
   (:mod:`explore_kg.gate`); add what the loader would add (:mod:`explore_kg.derive`: date claims,
   ekg:statedIn); in the shipped graph's model, keep the default graph the merge of the others;
2. validate the delta; refused: undo it (the store's content is as before) and return the report;
3. append the change to the log and fsync it: from here the write survives a crash, and every query
   that starts after this sees it (the readers apply the log's new records first); it is acknowledged.

Now and then (every :data:`~explore_kg.store.writable.SNAPSHOT_EVERY` writes, or once writes pause for
:data:`IDLE_SNAPSHOT_S`), the live store is checkpointed as a snapshot, under the lock, so that a new
reader or a restart replays a short log tail; a write never waits for one otherwise.
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
from .store.writable import CHANGES, SNAPSHOT_EVERY, WritableStore
from .validation.report import Report

log = logging.getLogger("explore_kg.write")
IDLE_SNAPSHOT_S = 2.0  # a snapshot once no write came for this long (and some came since the last one)


@dataclass
class Outcome:
    delta: Delta
    report: Report
    change: Change | None  # None: refused, or nothing changed
    ms: float
    snapshot_ms: float = 0.0  # of ms: a snapshot taken with this write (one per SNAPSHOT_EVERY writes)

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
        from .history import History

        self.history = History(self.changes)  # each fact's changes, for the entity pages
        self.lock = threading.Lock()
        self.seq = served.generation
        self.snapshot_seq = served.generation
        self.timings: list[float] = []
        self._reader = None
        self._dates = None
        self._last_write = time.monotonic()
        self._stop = threading.Event()
        self._idle = threading.Thread(target=self._snapshot_when_idle, name="explore-kg-snapshots", daemon=True)
        self._idle.start()

    def reader(self):
        """The last committed state, for the server's own reads (GET /store): never the live store."""
        from .store.writable import FollowerStore

        if self._reader is None:
            self._reader = FollowerStore(self.served.directory)
        else:
            self._reader.refresh()
        return self._reader

    def close(self) -> None:
        """Stop the idle snapshots, and drop the server's own reader copy."""
        self._stop.set()
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def dates(self) -> frozenset:
        """The date properties (the loader's: the shipped ontology's and the store's sub-property axioms)."""
        if self._dates is None:
            from .claims import subproperty_edges
            from .loading import known_date_properties

            self._dates = known_date_properties(subproperty_edges(self.gate.ontology_quads()))
        return self._dates

    def snapshot(self) -> float:
        """Checkpoint the live store (the caller holds the lock); its duration in ms."""
        started = time.perf_counter()
        self.served.snapshot(self.seq, self.changes.size())
        self.snapshot_seq = self.seq
        return (time.perf_counter() - started) * 1000

    def _snapshot_when_idle(self) -> None:
        while not self._stop.wait(IDLE_SNAPSHOT_S / 2):
            if self.seq == self.snapshot_seq or time.monotonic() - self._last_write < IDLE_SNAPSHOT_S:
                continue
            if not self.lock.acquire(timeout=0.1):
                continue
            try:
                if self.seq != self.snapshot_seq:
                    self.snapshot()
            except OSError as e:  # (the log has the changes: the next start recovers them)
                log.warning("could not take a snapshot of the writable store: %s", e)
            finally:
                self.lock.release()

    def write(self, mutate: Callable[[ox.Store], Delta], *, who: str, message: str = "",
              body_file: Path | None = None) -> Outcome:
        """Run ``mutate`` (it changes the live store and returns its delta) as one gated transaction."""
        with self.lock:
            started = time.perf_counter()
            delta = mutate(self.store)
            try:
                if delta:
                    from .derive import derived_changes

                    more, fewer = derived_changes(self.store, delta.added, delta.removed, self.dates())
                    delta.added = (delta.added | more) - fewer
                    delta.removed |= fewer - delta.added
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
            change = new_change(seq, who, message, delta.sources(), delta.removed, delta.added,
                                created=delta.created, dropped=delta.dropped)
            try:
                self.changes.append(change)
            except BaseException:
                undo(self.store, delta)
                raise
            self.seq = seq
            self.history.note(change)
            self._last_write = time.monotonic()
            snapshot_ms = 0.0
            if self.seq - self.snapshot_seq >= SNAPSHOT_EVERY:
                try:
                    snapshot_ms = self.snapshot()
                except OSError as e:  # (the log has the change: readers and the next start have it)
                    log.warning("could not take a snapshot of the writable store: %s", e)
            if any(q.graph_name.value == "https://w3id.org/explore-kg/graph/ontology" for q in
                   delta.added | delta.removed if isinstance(q.graph_name, ox.NamedNode)):
                self.gate.ontology_changed()
                self._dates = None
            ms = (time.perf_counter() - started) * 1000
            self.timings.append(ms)
            return Outcome(delta, report, change, ms, snapshot_ms)
