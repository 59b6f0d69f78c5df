"""Inputs too large to hold in Python: one threshold and one way in, for every command.

``validate``, ``export``, ``query`` and ``sparql`` on files of :data:`LARGE_BYTES` or more (in all) do not
load them into Python objects (rdflib or lists of quads: about 1 KB per triple): they load them, once,
into the on-disk Oxigraph store that ``serve`` uses (:class:`explore_kg.store.disk.DiskStore`: streaming
parse and bulk load in a child process, a progress bar on a terminal, kept in the cache directory keyed
by the inputs, so the next command on the same files opens it at once) and read from there.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

LARGE_BYTES = 16 * 1024 * 1024


def input_bytes(paths: Iterable[str | os.PathLike]) -> int:
    size = 0
    for p in paths:
        try:
            size += Path(p).stat().st_size
        except OSError:
            continue  # (the loader reports a missing file)
    return size


def is_large(paths: Iterable[str | os.PathLike]) -> bool:
    return input_bytes(paths) >= LARGE_BYTES


def open_disk_store(paths: Iterable[str | os.PathLike], *, entailed: bool = False, inferred: bool = False):
    """The on-disk store of ``paths`` (built on first use, else reopened): a DiskStore. Raises LoadError."""
    from .server import ServerConfig
    from .store.disk import DiskStore

    return DiskStore.open_or_build(ServerConfig(paths=[Path(p) for p in paths], entailed=entailed,
                                                inferred=inferred, store="disk"))
