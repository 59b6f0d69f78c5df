"""The server's cache of serialized answers: LRU, bounded by the bytes it really holds.

The data does not change while the server runs, so an answer stays right for the server's life.
Each entry is charged its body, every string of its key (the query text, the Accept value, the bound
IRIs and literals, the dataset IRIs, the base IRI) and a fixed overhead for the objects around them,
so a flood of distinct bindings cannot grow it past its size.
"""

from __future__ import annotations

import sys
from collections import OrderedDict

from .engine import QueryResult

ENTRY_OVERHEAD = 600  # the entry's dict slot, key tuple, QueryResult object and its fields (measured ~550)
_STR_OVERHEAD = sys.getsizeof("")


def footprint(value) -> int:
    """Bytes held by a key part: strings counted with their object header, tuples walked."""
    if isinstance(value, str | bytes):
        return _STR_OVERHEAD + len(value)
    if isinstance(value, tuple):
        return 56 + 8 * len(value) + sum(footprint(v) for v in value)
    return 32


class ResultCache:
    """``get``/``put`` of answers by key, least recently used out first; ``size`` is what it holds."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[tuple, tuple[QueryResult, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every answer (a writable server's commit changed the data)."""
        self._entries.clear()
        self.size = 0

    def get(self, key: tuple) -> QueryResult | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: tuple, result: QueryResult) -> None:
        if result.file is not None or key in self._entries:
            return
        cost = ENTRY_OVERHEAD + len(result.body) + footprint(key) + footprint(result.media_type)
        if cost > self.max_bytes // 8:  # one entry never takes more than an eighth
            return
        self._entries[key] = (result, cost)
        self.size += cost
        while self.size > self.max_bytes and self._entries:
            _, (_, old) = self._entries.popitem(last=False)
            self.size -= old
