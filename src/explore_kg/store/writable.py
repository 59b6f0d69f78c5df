"""The writable backend (``serve --writable --store-dir DIR``): one read-write Oxigraph store that only the
server's writer touches; everyone else follows the change log.

Why followers: Oxigraph documents that opening a store read-only while another process writes to it is
undefined behaviour (and pyoxigraph 0.5 has no secondary instance that catches up), so no reader opens
the live store. A reader (:class:`FollowerStore`: each query worker, the server's own GET /store) holds a
private copy of the newest snapshot (a RocksDB checkpoint: hard links, made once when it starts) and,
before each query, applies the change-log records appended since (one ``stat`` when nothing changed, a
few quads per write otherwise). So a write is visible to every query that starts after it was
acknowledged, readers are never blocked, and a write costs no checkpoint: the writer makes a snapshot
only now and then (:data:`SNAPSHOT_EVERY` writes, or when writes pause), which bounds what a new reader
and a restart replay. A write being applied or validated is only in the live store: readers see
committed states only.

The directory holds

* ``live/``: the writer's store (the server's own handle: graph list, web pages);
* ``generations/<seq>/`` and ``generations/CURRENT``: the snapshots, newest last; CURRENT says
  ``<seq> <offset>``: the snapshot holds the changes up to ``seq``, the log's later records start at
  byte ``offset``;
* ``readers/``: the followers' private copies (removed at every start);
* ``changes.rdfp``: the change log (:mod:`explore_kg.changelog`), appended and fsynced before a write is
  acknowledged: it is what makes an acknowledged write durable, and what the followers read;
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
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

from .. import __version__
from . import WorkerBacked

log = logging.getLogger("explore_kg.store")

WRITABLE_FRAME = b"\0explore-kg-writable:"
LIVE = "live"
GENERATIONS = "generations"
CURRENT = "CURRENT"
MARKER = "explore-kg-writable.json"
CHANGES = "changes.rdfp"
READERS = "readers"
KEEP_SECONDS = 120.0  # an older snapshot stays this long: a reader that is starting may still copy it
# Writes between two snapshots while writes keep coming (commit.Writer); the environment may set it (the
# kill -9 harness sets a small one, so that a crash falls between snapshots).
SNAPSHOT_EVERY = int(os.environ.get("EXPLORE_KG_SNAPSHOT_EVERY", "1000"))


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


def pointer(directory: Path) -> tuple[int | None, int | None]:
    """(snapshot seq, log offset after it) of ``generations/CURRENT``; the offset None when not written."""
    try:
        parts = (directory / GENERATIONS / CURRENT).read_text().split()
        return int(parts[0]), (int(parts[1]) if len(parts) > 1 else None)
    except (OSError, ValueError, IndexError):
        gens = generations(directory)
        return (gens[-1] if gens else None), None


def current_generation(directory: Path) -> int | None:
    return pointer(directory)[0]


class FollowerStore:
    """What a reader of a writable store answers from (see the module docstring): a private copy of the
    newest snapshot, brought up to date with the change log by :meth:`refresh` (the query worker calls
    it before each query). One thread at a time: a worker answers one query at a time."""

    def __init__(self, directory: str | os.PathLike):
        from ..changelog import ChangeLog

        self.directory = Path(directory)
        self.changes = ChangeLog(self.directory / CHANGES)
        readers = self.directory / READERS
        readers.mkdir(exist_ok=True)
        _remove_copies_of_dead_readers(readers)
        self._private = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=readers))
        for _ in range(50):
            seq, offset = pointer(self.directory)
            if seq is None:
                raise OSError(f"no committed snapshot in {self.directory / GENERATIONS}")
            try:
                ox.Store.read_only(str(self.directory / GENERATIONS / str(seq))).backup(str(self._private / "store"))
                break
            except OSError:  # replaced meanwhile (and the older one removed): read the pointer again
                shutil.rmtree(self._private / "store", ignore_errors=True)
                time.sleep(0.02)
        else:
            raise OSError(f"could not copy the newest snapshot of {self.directory}")
        self._store = ox.Store(str(self._private / "store"))
        self.generation = seq  # the last change this copy holds
        self.offset = offset if offset is not None else self.changes.offset_after(seq)
        self.refresh()

    def refresh(self) -> bool:
        """Apply the change-log records appended since the last call; True when something changed."""
        applied = False
        records, self.offset = self.changes.read_from(self.offset)
        for record in records:
            if record.seq <= self.generation:
                continue
            apply_record(self._store, record)
            self.generation = record.seq
            applied = True
        return applied

    def close(self) -> None:
        self._store = None
        shutil.rmtree(self._private, ignore_errors=True)

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


def _remove_copies_of_dead_readers(readers: Path) -> None:
    """A worker that was replaced (killed at a timeout, crashed) left its copy: remove the copies whose
    process is gone, so their hard links do not keep the live store's old files on disk."""
    for path in readers.iterdir():
        pid = path.name.partition("-")[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:  # alive, another user's
            continue


def apply_record(store: ox.Store, record) -> None:
    """Apply one change-log record (idempotent: it sets the quads and graphs it names)."""
    for q in record.removed:
        store.remove(q)
    if record.added:
        store.extend(record.added)
    for g in record.dropped:
        store.remove_graph(ox.NamedNode(g))
    for g in record.created:
        store.add_graph(ox.NamedNode(g))


def committed_graph(directory: Path, graph: ox.NamedNode) -> set[ox.Quad]:
    """One named graph as committed (the newest snapshot and the log's later records), without a
    private copy of the store: what ``changes export`` reads, a running server undisturbed."""
    from ..changelog import ChangeLog

    for _ in range(50):
        seq, offset = pointer(directory)
        if seq is None:
            raise OSError(f"no committed snapshot in {directory / GENERATIONS}")
        try:
            quads = set(ox.Store.read_only(str(directory / GENERATIONS / str(seq))).quads_for_pattern(
                None, None, None, graph))
            break
        except OSError:
            time.sleep(0.02)
    else:
        raise OSError(f"could not read the newest snapshot of {directory}")
    changes = ChangeLog(directory / CHANGES)
    records, _end = changes.read_from(offset if offset is not None else changes.offset_after(seq))
    for record in records:
        if record.seq > seq:
            quads.difference_update(q for q in record.removed if q.graph_name == graph)
            quads.update(q for q in record.added if q.graph_name == graph)
    return quads


class WritableStore(WorkerBacked):
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
        shutil.rmtree(directory / READERS, ignore_errors=True)  # the copies of readers that are gone
        for tmp in (directory / GENERATIONS).glob("*.tmp"):
            shutil.rmtree(tmp, ignore_errors=True)
        ox.Store.read_only(str(directory / GENERATIONS / str(newest))).backup(str(directory / LIVE))
        self = cls(directory)
        self.generation = newest
        replayed = 0
        for record in changes.records(after=newest):
            apply_record(self.store, record)
            replayed += 1
        if replayed:
            log.info("recovered %d change(s) logged after snapshot %d", replayed, newest)
            self.snapshot(last, changes.size())
            self.generation = last
        else:
            self._point_to(newest, changes.size())
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

    def snapshot(self, seq: int, offset: int) -> None:
        """The live store (changes up to ``seq``, the log's later records from byte ``offset``) as a snapshot
        that new readers and the next start copy (the caller holds the writer's lock: nothing uncommitted)."""
        target = self.directory / GENERATIONS / str(seq)
        tmp = self.directory / GENERATIONS / f"{seq}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        if target.exists():
            shutil.rmtree(target)
        self.store.backup(str(tmp))
        os.replace(tmp, target)
        self._point_to(seq, offset)
        self._forget_old()

    def _point_to(self, seq: int, offset: int) -> None:
        pointer = self.directory / GENERATIONS / CURRENT
        tmp = pointer.with_suffix(".new")
        with open(tmp, "w") as f:
            f.write(f"{seq} {offset}\n")
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
