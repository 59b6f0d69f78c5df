"""Child processes that must never outlive the process that started them.

Query workers, the in-process deadline's forked child and the store builder all run work that the
parent may need to stop at once; if the parent dies, Linux is asked to kill them with it.
"""

from __future__ import annotations

import contextlib
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Ask Linux to send this process SIGKILL when its parent dies (elsewhere: nothing to do)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
