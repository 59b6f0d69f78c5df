"""The in-memory backend: the server builds the store from the loaded quads and keeps them (the web
pages, dumps and exports read them); each query worker loads its own copy from N-Quads sent over its
socket. Right for small data such as the shipped graph; see :mod:`explore_kg.store.disk` for large data."""

from __future__ import annotations

import pyoxigraph as ox

from ..loading import LoadedData
from . import WorkerBacked


class MemoryStore(WorkerBacked):
    """A :class:`~explore_kg.store.ServedStore` held in memory."""

    data_version = None  # the engine hashes the dump it sends

    def __init__(self, loaded: LoadedData, *, entailed: bool = True):
        self.loaded = loaded
        self.store = loaded.to_store(entailed=entailed)
        from ..server import graph_sizes  # (the server's, where it always was)

        self.sizes = graph_sizes(self.store)
        self.triples = len(loaded.quads)
        self.entailed = loaded.entailed
        self.files = loaded.files

    def worker_frame(self) -> bytes:
        return self.store.dump(format=ox.RdfFormat.N_QUADS)
