"""The one report model of a validation run, and its three renderings: text, JSON and GitHub annotations.

The CLI, the CI workflow and the Python API all see the same :class:`Report` of :class:`Result` s; the
renderings only format it.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rdflib.term import Node

from ..namespaces import PREFIXES

REPORT_SCHEMA_VERSION = 2

VIOLATION, WARNING, INFO = "violation", "warning", "info"


@dataclass(frozen=True)
class Result:
    """One problem: which rule, how bad, what to do, where (the offending triple's file, line and column,
    and the line of its focus node), about what (focus, path, value)."""

    rule: str
    severity: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    graph: str | None = None
    focus: str | None = None
    path: str | None = None
    value: str | None = None
    constraint: str | None = None
    hint: str | None = None
    focus_line: int | None = None

    @property
    def where(self) -> str:
        """``file:line:column`` as editors and compilers print it (as much of it as is known)."""
        if not self.file:
            return "(no file)"
        return self.file + (f":{self.line}" if self.line else "") + (f":{self.column}" if self.line and self.column else "")


@dataclass
class Report:
    """All results of one run, and the exit status they imply."""

    results: list[Result] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # the files under review, as displayed
    strict: bool = False
    could_not_run: bool = False
    triples: int = 0
    omitted: int = 0  # warnings and infos about shipped files not under review, left out
    timings: dict[str, float] = field(default_factory=dict)  # phase -> milliseconds

    def count(self, severity: str) -> int:
        return sum(1 for r in self.results if r.severity == severity)

    @property
    def status(self) -> int:
        """0 conforms, 1 violations (or warnings when strict), 2 could not run."""
        if self.could_not_run:
            return 2
        if self.count(VIOLATION) or (self.strict and self.count(WARNING)):
            return 1
        return 0

    @property
    def conforms(self) -> bool:
        return self.status == 0

    def to_dict(self) -> dict:
        """The JSON report; its schema is documented in docs/validation-report.md."""
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "status": self.status,
            "conforms": self.conforms,
            "strict": self.strict,
            "files": self.files,
            "triples": self.triples,
            "omitted": self.omitted,
            "counts": {s: self.count(s) for s in (VIOLATION, WARNING, INFO)},
            "results": [asdict(r) for r in self.results],
            "timings_ms": {k: round(v, 1) for k, v in self.timings.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def display_path(path: Path | str) -> str:
    """A path relative to the working directory when it is below it (what editors and GitHub expect)."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):
        return str(p)


def curie(term: Node | str | None) -> str | None:
    """A short, readable form of a term or of a text holding IRIs: prefixed names where we have a prefix."""
    if term is None:
        return None
    if isinstance(term, Node):
        term = term.n3()
    return re.sub(r"<(https?://[^>\s]+)>|(?<![<\w])(https?://[^\s,;)>]+)",
                  lambda m: _prefixed(m.group(1) or m.group(2)) or m.group(0), term)


def _prefixed(iri: str) -> str | None:
    best = None
    for prefix, ns in PREFIXES.items():
        ns = str(ns)
        local = iri[len(ns):]
        if iri.startswith(ns) and re.fullmatch(r"[A-Za-z0-9_][\w.-]*|", local) and not local.endswith("."):
            if best is None or len(ns) > best[0]:
                best = (len(ns), f"{prefix}:{local}")
    return best[1] if best else None


# --- GitHub Actions -----------------------------------------------------------------------------


def render_github(report: Report) -> str:
    """GitHub Actions workflow commands: each result becomes an annotation on the offending line."""
    kinds = {VIOLATION: "error", WARNING: "warning", INFO: "notice"}
    lines = []
    for r in report.results:
        props = []
        if r.file:
            props.append(f"file={_gh_property(r.file)}")
        if r.line:
            props.append(f"line={r.line}")
        if r.line and r.column:
            props.append(f"col={r.column}")
        props.append(f"title={_gh_property('explore-kg ' + r.rule)}")
        message = r.message + (f" Hint: {r.hint}" if r.hint else "")
        detail = [f"{k} {curie(v)}" for k, v in (("focus", r.focus), ("path", r.path), ("value", r.value)) if v]
        if r.focus_line and r.focus_line != r.line:
            detail.insert(1 if r.focus else 0, f"focus described at line {r.focus_line}")
        if detail:
            message += f" ({'; '.join(detail)})"
        lines.append(f"::{kinds.get(r.severity, 'error')} {','.join(props)}::{_gh_data(message)}")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


# --- text ---------------------------------------------------------------------------------------


def summary(report: Report) -> str:
    seconds = report.timings.get("total", sum(report.timings.values())) / 1000
    if report.could_not_run:
        return f"Could not validate: {len(report.results)} problem(s) stopped the run."
    v, w = report.count(VIOLATION), report.count(WARNING)
    files = f"{len(report.files)} file(s), {report.triples} triples"
    if not v and not w:
        omitted = f" ({report.omitted} warning(s) about other shipped files not shown)" if report.omitted else ""
        return f"Conforms: {files} checked in {seconds:.1f} s{omitted}."
    verdict = "Does not conform" if report.status else "Conforms, with warnings"
    omitted = f"; {report.omitted} warning(s) about other shipped files not shown" if report.omitted else ""
    return f"{verdict}: {v} violation(s), {w} warning(s) in {files} ({seconds:.1f} s{omitted})."


def one_line(r: Result) -> str:
    """A result as one line, compiler style: ``file:line:col: rule: message Hint: ...``."""
    return f"{r.where}: {r.rule}: {r.message}" + (f" Hint: {r.hint}" if r.hint else "")


def print_text(report: Report, console=None, err_console=None) -> None:
    """The readable report: results grouped by file, each with file:line:col, rule, message and hint.

    A run that could not start prints one line per problem (and the summary on stderr).
    """
    from rich.console import Console
    from rich.markup import escape

    console = console or Console(soft_wrap=True, highlight=False, emoji=False)
    if report.could_not_run:
        for r in report.results:
            console.print(escape(one_line(r)))
        (err_console or Console(stderr=True, soft_wrap=True, highlight=False, emoji=False)).print(escape(summary(report)))
        return
    style = {VIOLATION: "bold red", WARNING: "yellow", INFO: "cyan"}
    groups: dict[str, list[Result]] = defaultdict(list)
    for r in report.results:
        groups[r.file or "(no file)"].append(r)
    for file, results in groups.items():
        console.print(f"[bold]{escape(file)}[/bold]")
        for r in results:
            console.print(f"  {escape(r.where)}  [{style.get(r.severity, 'red')}]{r.severity}[/]  "
                          f"[bold]{escape(r.rule)}[/bold]  {escape(r.message)}")
            if r.hint:
                console.print(f"      hint: {escape(r.hint)}")
            if r.focus:
                at = f"  (described at {r.file}:{r.focus_line})" if r.focus_line and r.file else ""
                console.print(f"      focus: {escape(curie(r.focus))}{escape(at)}", style="dim")
            for label, value in (("path", r.path), ("value", r.value)):
                if value:
                    console.print(f"      {label}: {escape(curie(value))}", style="dim")
        console.print()
    colour = "green" if report.status == 0 else "red"
    console.print(f"[{colour}]{escape(summary(report))}[/]")
