"""The SHACL results of a validation run, kept by the content of everything they depend on.

pyshacl is the most expensive part of ``explore-kg validate`` on the shipped graph (importing it and its
SPARQL engine, then running the shapes: about half of the run), and its results depend only on:

* the bytes of every file read (shapes, ontology, data, the files under review),
* the code that turns them into the graph and the results (every module of explore_kg),
* the versions of pyshacl, rdflib and pyoxigraph, and the working directory (results name files
  relative to it).

So the results are stored under a hash of all of those in ``$XDG_CACHE_HOME/explore-kg/validation/``
and a run with the same inputs reads them instead of running pyshacl again; any change to any of them
is a different key. Every other check still runs. Nothing is cached for ``validate --store URL`` (the
store's content is not a file), and an unreadable or damaged entry is ignored (the shapes run).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
from dataclasses import asdict
from pathlib import Path

from .report import Result

_PACKAGE = Path(__file__).resolve().parent.parent
KEEP = 16  # entries kept (the oldest are removed)


def _directory(kind: str = "validation") -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "explore-kg" / kind


def installed_version(name: str) -> str:
    """The installed distribution's name and version (its .dist-info directory), found without importing it
    (importlib.metadata.version scans every distribution: ~50 ms)."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return "?"
    package = Path(spec.origin).parent
    found = sorted(p.name for p in package.parent.glob(f"{name}-*.dist-info"))
    return ",".join(found) or str(package.stat().st_mtime_ns)


def key(files: list[Path]) -> str | None:
    """The hash of the inputs (None if a file cannot be read: then nothing is cached)."""
    digest = hashlib.sha256()
    try:
        for path in sorted({Path(p).resolve() for p in files}):
            digest.update(f"{path}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        for source in sorted(_PACKAGE.rglob("*.py")):
            digest.update(source.relative_to(_PACKAGE).as_posix().encode())
            digest.update(hashlib.sha256(source.read_bytes()).digest())
    except OSError:
        return None
    for name in ("pyshacl", "rdflib", "pyoxigraph"):
        digest.update(f"{name}={installed_version(name)}\0".encode())
    digest.update(os.getcwd().encode())
    return digest.hexdigest()


def read(cache_key: str | None) -> list[Result] | None:
    entries = read_entry("validation", cache_key)
    try:
        return None if entries is None else [Result(**entry) for entry in entries]
    except TypeError:
        return None


def write(cache_key: str | None, results: list[Result]) -> None:
    write_entry("validation", cache_key, [asdict(r) for r in results])


def read_entry(kind: str, cache_key: str | None):
    """The JSON value kept under ``cache_key`` in ``$XDG_CACHE_HOME/explore-kg/KIND/`` (None: none, or unreadable)."""
    if cache_key is None:
        return None
    try:
        return json.loads((_directory(kind) / f"{cache_key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_entry(kind: str, cache_key: str | None, value) -> None:
    """Keep ``value`` (JSON) under ``cache_key`` (an atomic rename; the oldest past :data:`KEEP` are removed)."""
    if cache_key is None:
        return
    with contextlib.suppress(OSError):
        directory = _directory(kind)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{cache_key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(value), encoding="utf-8")
        os.replace(tmp, directory / f"{cache_key}.json")
        entries = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for old in entries[:-KEEP]:
            old.unlink(missing_ok=True)
