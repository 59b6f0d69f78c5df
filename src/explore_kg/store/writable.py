"""The writable backend (``serve --writable --store-dir DIR``): one read-write Oxigraph store that only the
server's writer touches, and an immutable snapshot ("generation") of it per commit for everyone else.

Why snapshots: Oxigraph documents that opening a store read-only while another process writes to it is
undefined behaviour, so the query workers never open the live store. After each accepted write the
writer makes a RocksDB checkpoint (hard links of the immutable table files, ~70 ms on 100k triples) into
``generations/<seq>`` and points ``generations/CURRENT`` at it; a worker checks that pointer (one
``stat``) before each query and opens the newer snapshot read-only when it changed. Readers are never
blocked and always see a committed state: a write that is being applied or validated is only in the
live store.

The directory holds

* ``live/``: the writer's store (the server's own handle: graph list, web pages);
* ``generations/<seq>/`` and ``generations/CURRENT``: the committed snapshots, newest last;
* ``changes.rdfp``: the change log (:mod:`explore_kg.changelog`), appended and fsynced before a write is
  acknowledged: it is what makes an acknowledged write durable;
* ``explore-kg-writable.json``: written once when the store is created (the input files, their graphs).

Recovery at every start: the live store is thrown away and copied anew from the newest complete
snapshot (a half-applied or refused write leaves nothing behind), then every change-log record newer
than that snapshot is applied again (applying a record is idempotent: it sets the quads it names).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
from pathlib import Path

import pyoxigraph as ox

from .. import __version__

log = logging.getLogger("explore_kg.store")

WRITABLE_FRAME = b"\0explore-kg-writable:"
LIVE = "live"
GENERATIONS = "generations"
CURRENT = "CURRENT"
MARKER = "explore-kg-writable.json"
CHANGES = "changes.rdfp"
KEEP_SECONDS = 120.0  # an older snapshot stays this long: a query that started on it may still read it


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def generations(directory: Path) -> list[int]:
    """The complete snapshots' sequence numbers, oldest first."""
    try:
        names = os.listdir(directory / GENERATIONS)
    except FileNotFoundError:
        return []
    return sorted(int(n) for n in names if n.isdigit())


def current_generation(directory: Path) -> int | None:
    try:
        return int((directory / GENERATIONS / CURRENT).read_text().strip())
    except (OSError, ValueError):
        gens = generations(directory)
        return gens[-1] if gens else None


class GenerationStore:
    """What a query worker of a writable server answers from: the newest committed snapshot, opened
    read-only, re-opened when ``generations/CURRENT`` changes (checked by :meth:`refresh`)."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self._pointer = self.directory / GENERATIONS / CURRENT
        self._stamp: tuple | None = None
        self._store: ox.Store | None = None
        self.generation: int | None = None
        self.refresh()

    def refresh(self) -> bool:
        """Open the newest snapshot if it is not the one held; True when it changed."""
        for _ in range(20):
            try:
                st = os.stat(self._pointer)
            except FileNotFoundError:
                time.sleep(0.05)
                continue
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
            if stamp == self._stamp:
                return False
            seq = current_generation(self.directory)
            try:
                self._store = ox.Store.read_only(str(self.directory / GENERATIONS / str(seq)))
            except OSError:  # replaced meanwhile (and the older one removed): read the pointer again
                time.sleep(0.01)
                continue
            self._stamp, self.generation = stamp, seq
            return True
        raise OSError(f"no committed snapshot in {self.directory / GENERATIONS}")

    def query(self, *args, **kwargs):
        return self._store.query(*args, **kwargs)

    def named_graphs(self):
        return self._store.named_graphs()

    def quads_for_pattern(self, *args, **kwargs):
        return self._store.quads_for_pattern(*args, **kwargs)

    def contains_named_graph(self, graph) -> bool:
        return self._store.contains_named_graph(graph)

    def __len__(self) -> int:
        return len(self._store)


class WritableStore:
    """A :class:`~explore_kg.store.ServedStore` that accepts writes (see the module docstring)."""

    entailed = None  # no materialised entailments: they would go stale with the first write

    def __init__(self, directory: Path):
        from .disk import StoredData

        self.directory = directory
        self.marker = json.loads((directory / MARKER).read_text(encoding="utf-8"))
        self.store = ox.Store(str(directory / LIVE))
        self.generation = current_generation(directory) or 0
        self.files = [Path(p) for p in self.marker.get("files", [])]
        self.loaded = StoredData(self.store, {"triples": 0, "graph_files": self.marker.get("graph_files", {}),
                                              "files": self.marker.get("files", []), "entailed": None})
        self.loaded.lock = None
        self.refresh_sizes()

    @property
    def data_version(self) -> str:
        return f"w{self.marker.get('created_id', '0')}-{self.generation}"

    def refresh_sizes(self) -> None:
        from .disk import graph_sizes

        self.sizes = graph_sizes(self.store)
        self.triples = sum(n for g, n in self.sizes.items() if g)
        self.loaded.quads._count = self.triples

    def worker_frame(self) -> bytes:
        return WRITABLE_FRAME + os.fsencode(str(self.directory))

    # -- opening ------------------------------------------------------------------------------------

    @classmethod
    def open(cls, config) -> WritableStore:
        """Create the store in ``config.store_dir`` from the input files (first start), or recover it."""
        from ..changelog import ChangeLog

        directory = Path(config.store_dir)
        directory.mkdir(parents=True, exist_ok=True)
        if not (directory / MARKER).exists():
            cls._create(directory, config.paths)
        elif config.paths:
            log.info("the writable store in %s exists: serving it (the files given were read when it was created)",
                     directory)
        changes = ChangeLog(directory / CHANGES)
        last = changes.repair()  # drop a record cut short by a crash; the last complete one's seq
        gens = generations(directory)
        if not gens:
            raise OSError(f"{directory} holds no committed snapshot: it is not a writable explore-kg store")
        newest = gens[-1]
        shutil.rmtree(directory / LIVE, ignore_errors=True)
        for tmp in (directory / GENERATIONS).glob("*.tmp"):
            shutil.rmtree(tmp, ignore_errors=True)
        ox.Store.read_only(str(directory / GENERATIONS / str(newest))).backup(str(directory / LIVE))
        self = cls(directory)
        self.generation = newest
        replayed = 0
        for record in changes.records(after=newest):
            self.apply(record.removed, record.added)
            replayed += 1
        if replayed:
            log.info("recovered %d change(s) logged after snapshot %d", replayed, newest)
            self.snapshot(last)
        else:
            self._point_to(newest)
        for seq in generations(directory):
            if seq != self.generation:
                shutil.rmtree(directory / GENERATIONS / str(seq), ignore_errors=True)
        self.refresh_sizes()
        return self

    @classmethod
    def _create(cls, directory: Path, paths) -> None:
        from .disk import _build_in_subprocess, read_marker, store_key

        others = [p.name for p in directory.iterdir()]
        if others:
            raise OSError(f"{directory} is not empty and holds no writable explore-kg store; name a new directory")
        build_dir = directory / "build.tmp"
        build_dir.mkdir()
        key = store_key(paths, entailed=False, inferred=False)
        _build_in_subprocess(build_dir, key, paths, entailed=False, inferred=False)
        built = read_marker(build_dir)
        (directory / GENERATIONS).mkdir()
        tmp = directory / GENERATIONS / "0.tmp"
        ox.Store.read_only(str(build_dir / "oxigraph")).backup(str(tmp))
        os.replace(tmp, directory / GENERATIONS / "0")
        shutil.rmtree(build_dir)
        marker = {"version": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "created_id": key[:12], "files": built.get("files", []), "graph_files": built.get("graph_files", {})}
        tmp_marker = directory / (MARKER + ".tmp")
        tmp_marker.write_text(json.dumps(marker, indent=1), encoding="utf-8")
        os.replace(tmp_marker, directory / MARKER)
        _fsync_dir(directory)

    # -- writing (the writer's lock is held by the caller) ------------------------------------------

    def apply(self, removed, added) -> None:
        """Remove then add quads in the live store (a record of the change log, or a rollback)."""
        for q in removed:
            self.store.remove(q)
        if added:
            self.store.extend(added)

    def snapshot(self, seq: int) -> None:
        """Commit: the live store as snapshot ``seq``, then point the readers at it."""
        target = self.directory / GENERATIONS / str(seq)
        tmp = self.directory / GENERATIONS / f"{seq}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        if target.exists():
            shutil.rmtree(target)
        self.store.backup(str(tmp))
        os.replace(tmp, target)
        self._point_to(seq)
        self.generation = seq
        self._forget_old()

    def _point_to(self, seq: int) -> None:
        pointer = self.directory / GENERATIONS / CURRENT
        tmp = pointer.with_suffix(".new")
        with open(tmp, "w") as f:
            f.write(f"{seq}\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, pointer)
        _fsync_dir(pointer.parent)

    def _forget_old(self) -> None:
        """Remove snapshots older than the newest two that no query can still be reading."""
        gens = generations(self.directory)
        now = time.time()
        for seq in gens[:-2]:
            path = self.directory / GENERATIONS / str(seq)
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime > KEEP_SECONDS:
                    shutil.rmtree(path, ignore_errors=True)
