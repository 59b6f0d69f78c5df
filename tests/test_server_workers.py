"""The query worker pool: its default size, and what happens when workers cannot be replaced."""

from __future__ import annotations

import os

from explore_kg.engine import default_workers


def test_default_pool_has_two_workers_per_cpu_within_bounds():
    assert 2 <= default_workers() <= 8
    assert default_workers() == max(2, min(2 * (os.cpu_count() or 1), 8))
