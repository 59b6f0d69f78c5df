"""Stable IRIs: the baseline lists of every IRI a release published, so that none silently disappears.

``releases/iris.txt`` lists every entity IRI (under https://w3id.org/explore-kg/id/) that is a subject in
the data (but the claims the loader mints from a hash of their date, see ``MINTED_CLAIM``); ``releases/terms.txt`` every ontology term and vocabulary concept (under ``ontology#`` and
``vocab/``). The format is the one ``explore-kg release`` writes for ``iris.txt``: UTF-8, one absolute
IRI per line, sorted by code point, lines starting ``#`` are comments. The validator's ``iri-removed``
check (:mod:`explore_kg.validation.released`) fails a change that drops a listed IRI without deprecating
it (``owl:deprecated true`` and ``dcterms:isReplacedBy``).

``python -m explore_kg.stable_iris`` prints what the lists would be for the current data; ``--write``
writes them (after a release), ``--check`` exits 1 when a listed IRI is no longer a subject.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path

from .namespaces import BASE, EKG, GRAPH, ID, PROJECT_ROOT, VOCAB

RELEASES_DIR = PROJECT_ROOT / "releases"
IRIS_FILE = RELEASES_DIR / "iris.txt"
TERMS_FILE = RELEASES_DIR / "terms.txt"
ENTITY_PREFIXES = (str(ID),)
TERM_PREFIXES = (str(EKG), str(VOCAB))
# Claims the loader mints for a date (claim: + 16 hex digits of a hash of the triple) name one value, not a
# thing: a corrected date gets a new one. They are left out; claims written in the data keep their names.
MINTED_CLAIM = re.compile(re.escape(str(ID)) + r"claim/[0-9a-f]{16}$")
_DERIVED = frozenset({str(GRAPH["entailed"]), str(GRAPH["inferred"])})

_HEADERS = {
    IRIS_FILE.name: "Every entity IRI under https://w3id.org/explore-kg/id/ that the released data describes.",
    TERMS_FILE.name: "Every ontology term and vocabulary concept under https://w3id.org/explore-kg/ontology# "
                     "and https://w3id.org/explore-kg/vocab/ that the released ontology describes.",
}


def subjects(quads: Iterable, prefixes: tuple[str, ...]) -> list[str]:
    """IRIs under ``prefixes`` that are the subject of an asserted quad, sorted by code point."""
    import pyoxigraph as ox

    found = set()
    for q in quads:
        graph = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
        if graph in _DERIVED or not isinstance(q.subject, ox.NamedNode):
            continue
        if q.subject.value.startswith(prefixes) and not MINTED_CLAIM.match(q.subject.value):
            found.add(q.subject.value)
    return sorted(found)


def current() -> dict[Path, list[str]]:
    """What each baseline list would hold for the shipped data and ontology."""
    from .loading import load

    quads = load().quads
    return {IRIS_FILE: subjects(quads, ENTITY_PREFIXES), TERMS_FILE: subjects(quads, TERM_PREFIXES)}


def render(path: Path, iris: Iterable[str]) -> str:
    lines = [f"# {_HEADERS.get(path.name, 'IRIs of explore-kg.')}",
             "# One IRI a line, sorted by code point. An IRI listed here must stay in the graph: deprecate it",
             "# (owl:deprecated true ; dcterms:isReplacedBy <new>) rather than delete it. Regenerate after a",
             "# release with: python -m explore_kg.stable_iris --write",
             *sorted(set(iris))]
    return "\n".join(lines) + "\n"


def read_list(path: Path | str) -> list[tuple[int, str]]:
    """(line number, IRI) of each non-comment line of a list; [] when the file does not exist."""
    path = Path(path)
    if not path.is_file():
        return []
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            out.append((number, line))
    return out


def baselines() -> list[Path]:
    """The shipped baseline lists (the validator checks each)."""
    return [IRIS_FILE, TERMS_FILE]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    unknown = [a for a in args if a not in ("--write", "--check")]
    if unknown:
        print(f"unknown option {unknown[0]}: use --write or --check", file=sys.stderr)
        return 2
    lists = current()
    if "--write" in args:
        RELEASES_DIR.mkdir(exist_ok=True)
        for path, iris in lists.items():
            path.write_text(render(path, iris), encoding="utf-8")
            print(f"{path.relative_to(PROJECT_ROOT)}: {len(iris)} IRIs")
        return 0
    if "--check" in args:
        status = 0
        for path, iris in lists.items():
            live = set(iris)
            for number, iri in read_list(path):
                if iri not in live:
                    print(f"{path.relative_to(PROJECT_ROOT)}:{number}: {iri} is no longer described", file=sys.stderr)
                    status = 1
        return status
    for path, iris in lists.items():
        sys.stdout.write(render(path, iris))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

__all__ = ["BASE", "IRIS_FILE", "TERMS_FILE", "baselines", "current", "read_list", "render", "subjects"]
