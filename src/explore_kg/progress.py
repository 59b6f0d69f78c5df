"""A progress bar for long commands (export, validate, query on large inputs): on a terminal only.

One callable, ``progress(phase, done, total)``, so the modules doing the work need not know rich: on a
terminal (stderr) it draws ``phase  [bar]  done/total  rate/s  elapsed``; elsewhere (CI, pipes) it
does nothing. The bar appears only once work has lasted :data:`AFTER` seconds, so quick runs stay quiet.
"""

from __future__ import annotations

import sys
import time

AFTER = 1.0  # seconds of work before the bar is shown


class TerminalProgress:
    def __init__(self, unit: str = "quads"):
        self.unit = unit
        self.enabled = sys.stderr.isatty()
        self._bar = None
        self._task = None
        self._started = self._phase_started = time.monotonic()
        self._phase = None

    def __call__(self, phase: str, done: int, total: int | None = None) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            if time.monotonic() - self._started < AFTER:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn(self.unit), TextColumn("{task.fields[rate]:,.0f}/s"), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True)
            self._task = self._bar.add_task(phase, total=total, rate=0.0)
            self._bar.start()
        if phase != self._phase:  # a new phase: its own count and rate
            self._phase, self._phase_started = phase, time.monotonic()
        elapsed = max(time.monotonic() - self._phase_started, 1e-6)
        self._bar.update(self._task, description=phase, completed=done, total=total, rate=done / elapsed)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
