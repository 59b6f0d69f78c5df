"""The checks that SHACL cannot express well, each a function from the run's :class:`Context` to results,
and the order they run in. Each family lives in its own module: terms (:mod:`.term_checks`), dates
(:mod:`.date_checks`), sources and claims (:mod:`.source_checks`), duplicates (:mod:`.duplicate_checks`),
OWL RL consistency (:mod:`.owl_checks`) and released IRIs (:mod:`.released`).

Every result names the offending triple (focus, path, value), so the locator can point at its line and
column, and carries a hint that says what to change. The rule ids are documented in
docs/validation-report.md (a test checks that every id emitted here is).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .context import Context, Quad
from .date_checks import claim_bounds, date_values, dates_without_bounds, end_before_start, plans_as_facts
from .duplicate_checks import duplicates
from .owl_checks import covered_by_quick_check, disjoint_classes, ill_typed_literals
from .released import released_iris_kept
from .report import Result
from .source_checks import (
    basis_outside_curation,
    claims_without_source,
    missing_sources,
    qualifiers_on_subjects,
)
from .term_checks import dangling_references, http_namespace, schema_only_types, text_values, unknown_terms

__all__ = ["CHECKS", "Context", "Quad", "covered_by_quick_check", "run_all"]

CHECKS: tuple[Callable[[Context], Iterable[Result]], ...] = (
    http_namespace, unknown_terms, dangling_references, schema_only_types, text_values, date_values, end_before_start,
    plans_as_facts, missing_sources, duplicates, basis_outside_curation, qualifiers_on_subjects, claims_without_source,
    claim_bounds,
    dates_without_bounds,
    disjoint_classes, ill_typed_literals, released_iris_kept,
)


def run_all(ctx: Context) -> list[Result]:
    out: list[Result] = []
    for check in CHECKS:
        out.extend(check(ctx))
    return out
