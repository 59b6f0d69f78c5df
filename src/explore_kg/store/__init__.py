"""Where the served data lives: one small interface, one module per backend.

* :mod:`explore_kg.store.memory`: an in-memory Oxigraph store built from :class:`~explore_kg.loading.LoadedData`
  in the server process; each query worker receives it as N-Quads over its socket and holds its own copy.
  Cheapest for small data (the shipped graph), and what ``create_app(loaded=...)`` uses.
* :mod:`explore_kg.store.disk`: an on-disk (RocksDB) Oxigraph store, loaded once (in a separate process,
  streaming), kept in a directory keyed by a hash of the inputs, and opened read-only by the server and
  every query worker: the operating system's page cache holds the data once for all of them, and a
  restart with unchanged inputs opens it again instead of re-loading.

A backend gives the server a :class:`ServedStore`; a query worker turns the first frame it receives
(:meth:`WorkerBacked.worker_frame`) back into a store with :func:`open_worker_store`.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

import pyoxigraph as ox

DISK_FRAME = b"\0explore-kg-store:"  # N-Quads never start with a NUL byte
DISK_THRESHOLD_BYTES = 64 * 1024 * 1024  # serve --store auto: input files at least this big go on disk
BACKENDS = ("auto", "memory", "disk")


class ServedStore(Protocol):
    """What the server needs of the data it serves."""

    store: ox.Store  # the server's own handle (graph list, sizes); queries run in the workers
    loaded: Any  # what app.state.loaded is: LoadedData, or disk.StoredData (its quads read on demand)
    sizes: dict[str, int]  # triples per named graph, "" the default graph (see server.graph_sizes)
    triples: int  # source quads (what /health calls "triples")
    entailed: int | None  # entailed triples added, None when not asked
    files: list  # the input files
    data_version: str | None  # a stable hash of the data, None: let the engine compute one

    def engine(self, config):
        """What answers queries for the server (``config``: its ServerConfig): a
        :class:`~explore_kg.pool.QueryEngine` of worker processes, or the external store's client."""
        ...


class WorkerBacked:
    """The backends whose queries run in explore-kg's own worker processes (memory, disk, writable):
    each worker receives :meth:`worker_frame` first and opens the data with :func:`open_worker_store`."""

    store: ox.Store
    data_version: str | None

    def worker_frame(self) -> bytes:
        """The first frame each query worker gets: the data itself, or where to open it."""
        raise NotImplementedError

    def engine(self, config):
        from ..pool import QueryEngine

        return QueryEngine(self.store, workers=config.workers, spares=config.spare_workers, timeout=config.timeout,
                           max_query_bytes=config.max_query_bytes, max_result_bytes=config.max_result_bytes,
                           allow_remote=config.allow_remote, cache_bytes=config.cache_bytes,
                           worker_memory_mb=config.worker_memory_mb, worker_frame=self.worker_frame(),
                           data_version=self.data_version)


def open_worker_store(frame: bytes) -> ox.Store:
    """The store a query worker answers from, given the first frame it received."""
    from .writable import WRITABLE_FRAME, FollowerStore

    if frame.startswith(WRITABLE_FRAME):  # serve --writable: a copy of the last snapshot, following the change log
        return FollowerStore(os.fsdecode(frame[len(WRITABLE_FRAME):]))
    if frame.startswith(DISK_FRAME):
        return ox.Store.read_only(os.fsdecode(frame[len(DISK_FRAME):]))
    store = ox.Store()
    store.load(frame, format=ox.RdfFormat.N_QUADS)
    return store


def wants_disk(backend: str, store_dir: str | os.PathLike | None, paths) -> bool:
    """Whether ``serve --store BACKEND [--store-dir DIR] FILES`` serves from disk."""
    if backend.startswith(("http://", "https://")):
        return False  # an external SPARQL store: explore_kg.store.remote
    if backend not in BACKENDS:
        raise ValueError(f"unknown store backend {backend!r} (known: {', '.join(BACKENDS)})")
    if backend != "auto":
        return backend == "disk"
    if store_dir is not None:
        return True
    size = 0
    for path in paths:
        try:
            size += os.stat(path).st_size
        except OSError:
            return False  # the loader reports a missing file with its name
    return size >= DISK_THRESHOLD_BYTES


def open_for_serving(config, loaded=None) -> ServedStore:
    """The store for a :class:`~explore_kg.server.ServerConfig` (``loaded``: data already read, kept in memory)."""
    if loaded is None and str(getattr(config, "store", "auto")).startswith(("http://", "https://")):
        from .remote import RemoteStore  # an external SPARQL store: nothing loaded here

        return RemoteStore.open(config)
    if getattr(config, "writable", False):
        from .writable import WritableStore

        return WritableStore.open(config)
    if loaded is None and wants_disk(getattr(config, "store", "auto"), getattr(config, "store_dir", None),
                                     config.paths):
        from .disk import DiskStore

        return DiskStore.open_or_build(config)
    from .memory import MemoryStore

    if loaded is None:
        from ..server import load_for_serving

        loaded = load_for_serving(config)
    return MemoryStore(loaded, entailed=config.entailed)
