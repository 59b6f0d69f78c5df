"""Release folders: every export of one version of the graph, described and checksummed.

``explore-kg release VERSION --out DIR`` writes ``DIR/VERSION/`` (so ``DIR`` is a folder of releases,
the one ``serve --releases DIR`` serves at ``/dumps/VERSION/...``). The folder holds:

* every export document (:mod:`explore_kg.export`): 6 formats x 3 profiles, asserted; the inferred
  triples alone in every format; asserted + inferred in TriG and N-Quads. Named as ``/dumps`` names
  them (:func:`explore_kg.dumps.download_name`), with exactly the bytes ``explore-kg export`` writes;
* ``void.ttl``: VoID + DCAT description of the release: version, release date, triple counts per
  graph, each file's size, media type and SHA-256, the validation status, the ontology version;
* ``iris.txt``: the IRIs under ``id/`` that are subjects in some graph (the stable-IRI list format);
* ``CHANGELOG.md``: the fact-level changes since the previous release (:mod:`explore_kg.diff`);
* ``SHA256SUMS``: ``sha256sum -c`` format, every other file.

Nothing depends on the clock: the release date comes from ``--date``, ``SOURCE_DATE_EPOCH``, the last
git commit, or the ontology's date, in that order, so two runs on the same data give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from . import writers
from .export import FORMATS, LICENSE, PROFILES, WRITE_PREFIXES, Exporter, graph_slug
from .namespaces import BASE, DCAT, DCTERMS, ID, ONTOLOGY_IRI, OWL, RDF, RDFS, VOID, XSD

SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
RELEASE = BASE + "release/"
DUMPS = BASE + "dumps/"
SPDX = "http://spdx.org/rdf/terms#"
DQV = "http://www.w3.org/ns/dqv#"
SD_NAME = "http://www.w3.org/ns/sparql-service-description#name"
VALIDATION_METRIC = BASE + "metric/validation"
IANA = "https://www.iana.org/assignments/media-types/"
VOID_FILE, IRIS_FILE, CHANGELOG_FILE, SUMS_FILE = "void.ttl", "iris.txt", "CHANGELOG.md", "SHA256SUMS"
PREFIXES = {**WRITE_PREFIXES, "spdx": SPDX, "dqv": DQV}
MEDIA_TYPES = {".ttl": "text/turtle", ".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
               "SHA256SUMS": "text/plain; charset=utf-8",
               **{"." + f.extension: f.media_type for f in FORMATS.values()}}


class ReleaseError(ValueError):
    """A release that cannot be made as asked (bad version, mismatch with the ontology...); exit ``code``."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def semver_key(version: str) -> tuple:
    """Order of semantic versions (pre-releases before their release); not a version: sorts first."""
    m = SEMVER.match(version)
    if not m:
        return (-1,)
    pre = m.group(4)
    pre_key = (1,) if pre is None else (0, *[(0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")])
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), pre_key)


def media_type(name: str) -> str:
    return MEDIA_TYPES.get(name) or MEDIA_TYPES.get(Path(name).suffix, "application/octet-stream")


# --- the release date -------------------------------------------------------------------------------


def release_date(given: str | None, exporter: Exporter) -> dt.date:
    """--date, else SOURCE_DATE_EPOCH, else the last git commit of the project, else the ontology's date."""
    if given:
        try:
            return dt.date.fromisoformat(given[:10])
        except ValueError:
            raise ReleaseError(f"--date {given!r} is not a date (YYYY-MM-DD)") from None
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
        except ValueError:
            raise ReleaseError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds") from None
    from .namespaces import PROJECT_ROOT

    try:
        done = subprocess.run(["git", "-C", str(PROJECT_ROOT), "log", "-1", "--format=%ct"],
                              capture_output=True, text=True, timeout=30)
        if done.returncode == 0 and done.stdout.strip():
            return dt.datetime.fromtimestamp(int(done.stdout.strip()), dt.UTC).date()
    except (OSError, ValueError, subprocess.TimeoutExpired):
        pass
    date = exporter.ontology.date
    if date is not None:
        return dt.date.fromisoformat(date.value[:10])
    raise ReleaseError("no release date: give --date YYYY-MM-DD or set SOURCE_DATE_EPOCH")


# --- what a release holds ---------------------------------------------------------------------------


def document_names() -> dict[str, tuple[str, str, str]]:
    """The export documents of a release: file name -> (format, content, profile), in /dumps' names."""
    from .dumps import file_name

    out = {}
    for profile in PROFILES:
        for fmt in FORMATS.values():
            for content in ["asserted", "inferred"] + (["all"] if fmt.quads else []):
                out[file_name(fmt.extension, content=content, profile=profile)] = (fmt.name, content, profile)
    return out


def documents(exporter: Exporter) -> dict[str, object]:
    """Every export document of a release, by file name."""
    return {name: exporter.document(fmt, content=content, profile=profile)
            for name, (fmt, content, profile) in document_names().items()}


def iri_list(exporter: Exporter, version: str) -> bytes:
    """The entity IRIs the release promises to keep: the same selection as the baseline ``releases/iris.txt``."""
    from .stable_iris import ENTITY_PREFIXES, subjects

    iris = subjects(exporter.quads, ENTITY_PREFIXES)
    header = (f"# explore-kg {version}: the entity IRIs under {ID} that the release describes "
              "(stable_iris.subjects); one per line, sorted by code point.\n")
    return (header + "".join(i + "\n" for i in iris)).encode("utf-8")


@dataclass(frozen=True)
class Validation:
    conforms: bool
    violations: int
    warnings: int
    triples: int
    checked: bool = True  # False: a server's files, not validated (the status is then left out)

    @property
    def text(self) -> str:
        if not self.checked:
            return "not validated (served from files given to the server)"
        return (f"{'conforms' if self.conforms else 'does not conform'}: {self.violations} violations, "
                f"{self.warnings} warnings, {self.triples} triples checked (explore-kg validate)")


def run_validation() -> Validation:
    from .validation import VIOLATION, WARNING, validate

    report = validate()
    return Validation(report.conforms, report.count(VIOLATION), report.count(WARNING), report.triples)


def describe_release(exporter: Exporter, version: str, date: dt.date, files: dict[str, bytes],
                     validation: Validation, previous: str | None = None) -> bytes:
    """void.ttl: the release as a void:Dataset and dcat:Dataset with a dcat:Distribution per file."""
    n = ox.NamedNode
    release = n(RELEASE + version)
    quads: list[ox.Quad] = []

    def add(s, p, o):
        quads.append(ox.Quad(s, p if isinstance(p, ox.NamedNode) else n(str(p)), o, ox.DefaultGraph()))

    def lit(value, datatype=None):
        return ox.Literal(str(value), datatype=n(str(datatype))) if datatype else ox.Literal(str(value))

    for cls in (VOID.Dataset, DCAT.Dataset):
        add(release, RDF.type, n(str(cls)))
    add(release, DCTERMS.title, ox.Literal(f"explore-kg {version}", language="en"))
    add(release, DCTERMS.description, ox.Literal(
        "A release of the explore-kg knowledge graph of international space exploration: every export "
        "format and profile, checksummed.", language="en"))
    add(release, n(str(DCAT) + "version"), lit(version))
    add(release, OWL.versionInfo, lit(version))
    add(release, DCTERMS.issued, lit(date.isoformat(), XSD.date))
    add(release, DCTERMS.license, n(LICENSE))
    add(release, DCTERMS.conformsTo, n(ONTOLOGY_IRI))
    add(release, DCTERMS.isVersionOf, n(BASE + "dataset"))
    if previous:
        add(release, n(str(DCAT) + "previousVersion"), n(RELEASE + previous))
    add(release, VOID.dataDump, n(f"{DUMPS}{version}/explore-kg.nq"))
    per_graph = Counter(q.graph_name.value for q in set(exporter.quads) if isinstance(q.graph_name, ox.NamedNode))
    add(release, VOID.triples, lit(sum(per_graph.values()), XSD.integer))
    for g in sorted(per_graph):
        sub = n(f"{RELEASE}{version}#{graph_slug(g)}")
        add(release, VOID.subset, sub)
        add(sub, RDF.type, n(str(VOID.Dataset)))
        add(sub, n(SD_NAME), n(g))
        add(sub, VOID.triples, lit(per_graph[g], XSD.integer))
    # the validation status, as a DQV quality measurement
    m = ox.BlankNode("validation")
    add(release, n(DQV + "hasQualityMeasurement"), m)
    add(m, RDF.type, n(DQV + "QualityMeasurement"))
    add(m, n(DQV + "isMeasurementOf"), n(VALIDATION_METRIC))
    if validation.checked:
        add(m, n(DQV + "value"), lit("true" if validation.conforms else "false", XSD.boolean))
    add(m, RDFS.comment, ox.Literal(validation.text, language="en"))
    # one distribution per file, with its checksum
    for name in sorted(files):
        d = n(f"{DUMPS}{version}/{name}")
        add(release, DCAT.distribution, d)
        add(d, RDF.type, n(str(DCAT.Distribution)))
        add(d, DCTERMS.title, lit(name))
        add(d, DCAT.downloadURL, d)
        add(d, DCAT.mediaType, n(IANA + media_type(name).split(";")[0]))
        add(d, DCAT.byteSize, lit(len(files[name]), XSD.nonNegativeInteger))
        c = ox.BlankNode("sum-" + hashlib.sha256(name.encode()).hexdigest()[:16])
        add(d, n(SPDX + "checksum"), c)
        add(c, RDF.type, n(SPDX + "Checksum"))
        add(c, n(SPDX + "algorithm"), n(SPDX + "checksumAlgorithm_sha256"))
        add(c, n(SPDX + "checksumValue"), lit(hashlib.sha256(files[name]).hexdigest(), XSD.hexBinary))
    # the ontology the terms mean
    onto = n(ONTOLOGY_IRI)
    add(onto, RDF.type, n(str(OWL.Ontology)))
    if exporter.ontology.version_iri is not None:
        add(onto, OWL.versionIRI, exporter.ontology.version_iri)
    add(onto, OWL.versionInfo, lit(exporter.ontology.version_info))
    header = f"explore-kg {version}, released {date.isoformat()}: what this folder holds (VoID + DCAT)."
    return writers.write_turtle(writers.canonical_quads(quads), PREFIXES, header)


def sha256sums(files: dict[str, bytes]) -> bytes:
    return "".join(f"{hashlib.sha256(files[n]).hexdigest()}  {n}\n" for n in sorted(files)).encode()


def build(exporter: Exporter, version: str, *, date: dt.date, changelog: bytes,
          validation: Validation, previous: str | None = None,
          progress: Callable[[str], None] = lambda _m: None) -> dict[str, bytes]:
    """All the files of a release, by name (in memory: the CLI writes them, the server may serve them)."""
    files: dict[str, bytes] = {}
    for name, doc in documents(exporter).items():
        progress(name)
        files[name] = doc.data
    files[IRIS_FILE] = iri_list(exporter, version)
    files[CHANGELOG_FILE] = changelog
    files[VOID_FILE] = describe_release(exporter, version, date, files, validation, previous)
    files[SUMS_FILE] = sha256sums(files)
    return files


def check_version(version: str, exporter: Exporter, force: bool) -> None:
    if not SEMVER.match(version):
        raise ReleaseError(f"version {version!r} is not a semantic version (MAJOR.MINOR.PATCH, e.g. 0.2.0)")
    info = exporter.ontology.version_info
    if version != info and not force:
        raise ReleaseError(f"version {version} differs from the ontology's owl:versionInfo {info!r} "
                           "(ontology/explore-kg.ttl): change one, or give --force")


def previous_release(out: Path, version: str) -> Path | None:
    """The highest release folder in ``out`` below ``version`` (the one the changelog compares with)."""
    key = semver_key(version)
    older = [p for p in out.iterdir() if p.is_dir() and SEMVER.match(p.name) and semver_key(p.name) < key
             and (p / "explore-kg.nq").is_file()] if out.is_dir() else []
    return max(older, key=lambda p: semver_key(p.name), default=None)


def changelog_for(exporter: Exporter, version: str, date: dt.date, previous: Path | None) -> bytes:
    from . import diff

    new = diff.Side.from_quads(exporter.quads, f"explore-kg {version}")
    if previous is None:
        return diff.first_release_changelog(new, version, date.isoformat()).encode("utf-8")
    old = diff.load_side(str(previous))
    changes = diff.compare(old, new)
    return diff.render_markdown(changes, title=f"explore-kg {version} ({date.isoformat()})",
                                since=f"changes since {previous.name}").encode("utf-8")


def run_cli(version: str, *, out: str, date: str | None, force: bool, previous: str | None) -> int:
    """``explore-kg release``: check, build, write DIR/VERSION/; returns the exit status."""
    from .loading import LoadError, load

    try:
        exporter = Exporter(load())
        check_version(version, exporter, force)
        root = Path(out)
        folder = root / version
        if folder.exists() and any(folder.iterdir()) and not force:
            raise ReleaseError(f"{folder} already holds a release (releases do not change): remove it, or give --force")
        when = release_date(date, exporter)
        validation = run_validation()
        if not validation.conforms and not force:
            raise ReleaseError(f"the data does not validate ({validation.text}): fix it, or give --force", 1)
        prev = Path(previous) if previous else previous_release(root, version)
        if prev is not None and not (prev / "explore-kg.nq").is_file():
            raise ReleaseError(f"--previous {prev}: not a release folder (no explore-kg.nq in it)")
        changelog = changelog_for(exporter, version, when, prev)
        files = build(exporter, version, date=when, changelog=changelog, validation=validation,
                      previous=prev.name if prev is not None else None)
    except (ReleaseError, LoadError) as e:
        print(f"error: {e}", file=sys.stderr)
        return getattr(e, "code", 2)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.iterdir():
        if stale.is_file() and stale.name not in files:
            stale.unlink()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    print(f"wrote {folder}/ ({len(files)} files, released {when.isoformat()}, {validation.text})", file=sys.stderr)
    return 0
