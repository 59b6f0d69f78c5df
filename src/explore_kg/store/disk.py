"""The on-disk backend: the data is loaded once into an Oxigraph (RocksDB) store in a directory, which
the server and every query worker then open read-only, so the operating system's page cache holds it
once for all processes and no process holds a copy of its own.

The directory (``serve --store-dir DIR``, else ``$XDG_CACHE_HOME/explore-kg/stores/<key>``) holds

* ``oxigraph/``: the store: every quad of the input files (with the loader's date claims and
  ``ekg:statedIn``, as :func:`explore_kg.loading.load` gives them), the default graph as the merge of
  the named graphs, and with entailment on the graph ``graph/entailed`` (:mod:`explore_kg.entailment`);
* ``explore-kg-store.json``: the completion marker, written last (after flush and optimize, by an atomic
  rename): the key of the inputs, graph sizes, the file each graph came from.

The key is a hash of what changes the data: each input file's path, size and content hash, the shipped
ontology (its sub-property axioms decide which properties are dates), the explore-kg version and the
loader's own source, and the options ``entailed`` / ``inferred``. A directory without the marker (a load
that was killed) or with another key is rebuilt, never served; one with the marker and the same key is
opened as it is (a restart does not re-parse anything).

Loading runs in a separate process (``python -c "from explore_kg.store.disk import build_main; ..."``):
its parse buffers and Python objects go back to the operating system when it exits, so the server's
memory after loading is that of an empty store. Data files of 16 MB or more go into the store in one
``bulk_load`` pass each, default-graph copies and date claims included, with no quad in Python
(:mod:`explore_kg.store.bulk`); smaller N-Quads and TriG files stream through pyoxigraph's parser into
``bulk_extend``, other small files are parsed as :func:`loading.load` does. On a terminal, a progress
bar shows triples and triples/s. A restart hashes no input file again: the hashes are recorded with
each file's device, inode, size and mtime (``$XDG_CACHE_HOME/explore-kg/file-hashes.json``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from .. import __version__
from ..claims import CLAIM_CLASS, CLAIM_PREDICATES, DATE_DATATYPES, subproperty_edges
from ..entailment import ENTAILED_GRAPH
from ..lifecycle import die_with_parent
from ..loading import (
    QUAD_FORMATS,
    LoadedData,
    LoadError,
    assign_graphs,
    known_date_properties,
    parse_file,
    quad_file_additions,
    rdf_format,
    shipped_data_files,
    shipped_ontology_files,
    with_default_graph,
)
from . import DISK_FRAME, WorkerBacked
from .bulk import STREAM_BYTES, stream_file

log = logging.getLogger("explore_kg.store")

MARKER = "explore-kg-store.json"
STORE_SUBDIR = "oxigraph"
LOCK = ".lock"
SCRATCH = "scratch"  # temporary rewrites of Turtle, TriG... as N-Triples / N-Quads while building
LAYOUT = 1  # bump when what a store directory holds changes
_PACKAGE = Path(__file__).resolve().parent.parent
_KEYED_SOURCES = ("loading.py", "claims.py", "entailment.py", "reasoning.py", "store/disk.py", "store/bulk.py",
                  "store/bulk_claims.py")
_CHUNK = 1 << 20


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # (the loader reports a missing file)


def cache_root() -> Path:
    """Where stores go without ``--store-dir``: the XDG cache directory."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "explore-kg" / "stores"


def _file_hash(path: Path) -> str:
    """The SHA-256 of a file, read from the record when the file's (device, inode, size, mtime)
    are those recorded with it (:func:`_hashes_path`): a restart then reads no input file (2 GB at 10M quads); any write
    to the file changes its mtime, and the hash is computed again."""
    stat = path.stat()
    ident = f"{path.resolve()}\0{stat.st_dev}:{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}"
    recorded = _read_hashes()
    if ident in recorded:
        return recorded[ident]
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    if stat.st_mtime_ns < time.time_ns() - 2_000_000_000:  # a file written just now may change within its mtime tick
        _record_hash(ident, digest.hexdigest())
    return digest.hexdigest()


def _hashes_path() -> Path:
    """{path NUL dev:ino:size:mtime_ns: sha256} of the input files hashed so far, beside the stores."""
    return cache_root().parent / "file-hashes.json"


def _read_hashes() -> dict[str, str]:
    try:
        return json.loads(_hashes_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _record_hash(ident: str, digest: str) -> None:
    """Add one hash to the record (kept to the last 256 files; an atomic rename, so readers see a whole file)."""
    with contextlib.suppress(OSError):
        path = _hashes_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        recorded = _read_hashes()
        recorded.pop(ident, None)
        recorded[ident] = digest
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(dict(list(recorded.items())[-256:])), encoding="utf-8")
        os.replace(tmp, path)


def inputs(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[Path]]:
    """(ontology files, data files) that ``load(paths, shipped=not paths)`` reads, in its order."""
    paths = [Path(p) for p in paths]
    if paths:
        return [], paths
    return shipped_ontology_files(), shipped_data_files()


def store_key(paths: Iterable[str | os.PathLike], *, entailed: bool, inferred: bool) -> str:
    """The hash of everything that changes the store's content (see the module docstring)."""
    ontology, data = inputs(paths)
    described = []
    for role, files in (("ontology", ontology), ("data", data), ("shipped-ontology", shipped_ontology_files())):
        for path in files:
            try:
                stat = path.stat()
                described.append([role, str(path.resolve()), stat.st_size, _file_hash(path)])
            except OSError as e:
                raise LoadError(path, f"cannot read file: {e.strerror or e}") from e
    code = hashlib.sha256()
    for name in _KEYED_SOURCES:
        with contextlib.suppress(OSError):
            code.update((_PACKAGE / name).read_bytes())
    spec = {"layout": LAYOUT, "version": __version__, "pyoxigraph": ox.__version__, "code": code.hexdigest(),
            "files": described, "entailed": entailed, "inferred": inferred}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def graph_sizes(store: ox.Store) -> dict[str, int]:
    """As :func:`explore_kg.store.memory.graph_sizes`, counted inside the store (no quad reaches Python)."""
    sizes: dict[str, int] = {}
    for row in store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"):
        sizes[row["g"].value] = int(row["n"].value)
    sizes[""] = int(next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")))["n"].value)
    return sizes


def read_marker(directory: Path) -> dict | None:
    try:
        return json.loads((directory / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class StoredQuads:
    """The source quads of a disk store (every named graph but graph/entailed), read on demand:
    iterating reads them from the store; nothing is kept."""

    def __init__(self, store: ox.Store, count: int, path: Path | None = None):
        self._store, self._count = store, count
        self.path = path  # the store's directory, when other processes may open it read-only

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[ox.Quad]:
        entailed = ox.NamedNode(str(ENTAILED_GRAPH))
        for graph in sorted(self._store.named_graphs(), key=str):
            if graph != entailed:
                yield from self._store.quads_for_pattern(None, None, None, graph)

    def with_predicates(self, predicates: Iterable[str]) -> Iterator[ox.Quad]:
        """The source quads whose predicate is one of ``predicates`` (IRIs): an index look-up per
        predicate, where iterating every quad of a large store reads all of it (names for the web pages)."""
        entailed = ox.NamedNode(str(ENTAILED_GRAPH))
        for predicate in predicates:
            for q in self._store.quads_for_pattern(None, ox.NamedNode(predicate), None, None):
                if q.graph_name != entailed and not isinstance(q.graph_name, ox.DefaultGraph):
                    yield q

    def dump_graph(self, graph: str, output) -> None:
        """Write one named graph as N-Triples to ``output`` (a binary file-like object), as Oxigraph serializes
        it: the streaming export works on these lines, where a Python Quad per quad costs more than the read."""
        self._store.dump(output, format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))

    @contextlib.contextmanager
    def graphs_dumped_by_a_child(self, graphs: list[str]) -> Iterator[BinaryIO]:
        """The N-Triples of ``graphs``, each ended by a line holding one NUL, as a child process that opens the
        store read-only writes them: Oxigraph's reading (decoding every term: most of an export's time, with
        the GIL held) then runs beside the Python that consumes the lines. Needs :attr:`path`."""
        child = subprocess.Popen([sys.executable, "-c", _DUMP_GRAPHS, str(self.path)],  # noqa: S603 - our code
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            child.stdin.write("\n".join(graphs).encode("utf-8"))
            child.stdin.close()  # the child reads every name before it writes
            yield child.stdout
            status = child.wait()
            if status:
                raise RuntimeError(f"the store's dump process failed ({status}): "
                                   + child.stderr.read().decode("utf-8", "replace").strip())
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            child.stdout.close()
            child.stderr.close()

    def graph_names(self) -> set[str]:
        """The IRIs of the named graphs these quads are in, as the store lists them (no quad is read)."""
        return {g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)} - {str(ENTAILED_GRAPH)}


class StoredData:
    """What ``app.state.loaded`` is for a disk store: like :class:`~explore_kg.loading.LoadedData`,
    but its quads stay in the store and are read when asked for (a dump, an export)."""

    def __init__(self, store: ox.Store, marker: dict, path: Path | None = None):
        self.quads = StoredQuads(store, marker["triples"], path)
        self.graph_files: dict[str, str] = marker.get("graph_files", {})
        self.files = [Path(p) for p in marker.get("files", [])]
        self.entailed = marker.get("entailed")
        self.lock = None  # the store directory's lock file, held shared while the store is served

    def to_dataset(self):
        return LoadedData(list(self.quads), self.graph_files, self.files).to_dataset()


class DiskStore(WorkerBacked):
    """A :class:`~explore_kg.store.ServedStore` in a directory, opened read-only."""

    def __init__(self, directory: Path, marker: dict, *, built: bool):
        self.directory = directory
        self.path = directory / STORE_SUBDIR
        self.built = built  # False: an existing store was opened as it was
        self.store = ox.Store.read_only(str(self.path))
        self.marker = marker
        self.loaded = StoredData(self.store, marker, self.path)
        self.sizes = {k: int(v) for k, v in marker["sizes"].items()}
        self.triples = int(marker["triples"])
        self.entailed = marker.get("entailed")
        self.files = self.loaded.files
        self.data_version = marker["key"][:16]

    def worker_frame(self) -> bytes:
        return DISK_FRAME + os.fsencode(str(self.path))

    @classmethod
    def open_or_build(cls, config) -> DiskStore:
        """The store for ``config`` (a ServerConfig): opened if its directory holds a complete store of
        the same inputs, else (re)built first. Raises LoadError for a file that cannot be loaded."""
        started = time.perf_counter()
        entailed, inferred = bool(config.entailed), bool(config.inferred)
        key = store_key(config.paths, entailed=entailed, inferred=inferred)
        store_dir = getattr(config, "store_dir", None)
        directory = Path(store_dir) if store_dir else cache_root() / key[:32]
        directory.mkdir(parents=True, exist_ok=True)
        # The lock file: held exclusively while a store is checked or built, shared while it is served
        # (by any number of servers of the same inputs); so no store is rebuilt under a running server.
        lock = open(directory / LOCK, "a")  # noqa: SIM115 - kept open for as long as the store is served
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # being built (wait for it) or served by another server
                log.info("the store in %s is in use by another process: waiting for it", directory)
                fcntl.flock(lock, fcntl.LOCK_SH)
            marker = read_marker(directory)
            if marker is not None and marker.get("key") == key and (directory / STORE_SUBDIR).is_dir():
                log.info("reusing the store in %s (complete, same inputs: nothing re-loaded)", directory)
                fcntl.flock(lock, fcntl.LOCK_SH)
                store = cls(directory, marker, built=False)
            else:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise LoadError(directory, "is served by another explore-kg server with other inputs or "
                                    "options; stop it or name another --store-dir") from None
                _clear(directory, stale=marker is not None)
                _build_in_subprocess(directory, key, config.paths, entailed=entailed, inferred=inferred)
                marker = read_marker(directory)
                if marker is None or marker.get("key") != key:  # pragma: no cover - the builder writes it
                    raise RuntimeError(f"building the store in {directory} did not complete")
                fcntl.flock(lock, fcntl.LOCK_SH)
                store = cls(directory, marker, built=True)
        except BaseException:
            lock.close()
            raise
        store.loaded.lock = lock  # (app.state.loaded lives as long as the server: so does the shared lock)
        log.info("store ready in %.0f ms: %s", (time.perf_counter() - started) * 1000, store.path)
        return store


def _clear(directory: Path, *, stale: bool) -> None:
    """Empty a store directory before a build; refuse one that holds anything but a store of ours."""
    ours = {MARKER, STORE_SUBDIR, LOCK, MARKER + ".tmp", SCRATCH}
    others = [p.name for p in directory.iterdir() if p.name not in ours]
    if others:
        raise LoadError(directory, "is not an explore-kg store directory (it holds "
                        f"{', '.join(sorted(others)[:3])}); name an empty or new directory with --store-dir")
    if (directory / STORE_SUBDIR).exists():
        log.warning("the store in %s is %s: rebuilding it", directory,
                    "of other inputs or options" if stale else "incomplete (no completion marker)")
    with contextlib.suppress(FileNotFoundError):
        (directory / MARKER).unlink()
    shutil.rmtree(directory / STORE_SUBDIR, ignore_errors=True)
    shutil.rmtree(directory / SCRATCH, ignore_errors=True)


def _build_in_subprocess(directory: Path, key: str, paths, *, entailed: bool, inferred: bool) -> None:
    spec = {"directory": str(directory), "key": key, "paths": [str(p) for p in paths],
            "entailed": entailed, "inferred": inferred}
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PACKAGE.parent), env.get("PYTHONPATH")]))
    log.info("building the store in %s (loading once; the query workers will share it)", directory)
    done = subprocess.run([sys.executable, "-c", "from explore_kg.store.disk import build_main; build_main()"],
                          input=json.dumps(spec), stdout=subprocess.PIPE, text=True, env=env, check=False)
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}
    except ValueError:
        answer = {}
    if "error" in answer:
        e = answer["error"]
        raise LoadError(e["path"], e["message"], e.get("line"), e.get("column"))
    if done.returncode != 0:
        raise RuntimeError(f"building the store in {directory} failed (exit status {done.returncode}); see above")


# The child of StoredQuads.graphs_dumped_by_a_child: the store's directory as argument, graph names on stdin,
# each graph's N-Triples and then a NUL line on stdout. Only pyoxigraph is imported: it starts in ~0.1 s.
_DUMP_GRAPHS = """
import ctypes, signal, sys
import pyoxigraph as ox
if sys.platform.startswith("linux"):  # die with the export (lifecycle.die_with_parent)
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except Exception:
        pass
store = ox.Store.read_only(sys.argv[1])
names = sys.stdin.read().split("\\n")
out = sys.stdout.buffer
try:
    for name in names:
        if name:
            store.dump(out, format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(name))
        out.write(b"\\0\\n")
    out.flush()
except BrokenPipeError:  # the export stopped reading
    sys.exit(1)
"""


def build_main() -> None:
    """Entry point of the loading process: a JSON spec on stdin, a JSON answer on stdout."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    die_with_parent()  # end with the server: it holds the directory's lock, not this process
    spec = json.loads(sys.stdin.read())
    try:
        build(Path(spec["directory"]), spec["key"], spec["paths"], entailed=spec["entailed"],
              inferred=spec["inferred"])
    except LoadError as e:
        print(json.dumps({"error": {"path": e.path, "message": e.message, "line": e.line, "column": e.column}}))
        sys.exit(2)
    print(json.dumps({"ok": True}))


class _Progress:
    """Triples loaded and triples/s, as a rich progress bar on a terminal (stderr), else nothing."""

    def __init__(self, total_bytes: int):
        self.count = 0
        self._bar = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("loading"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                                 TextColumn("{task.fields[triples]:,} triples"),
                                 TextColumn("{task.fields[rate]:,.0f} triples/s"), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True)
            self._task = self._bar.add_task("load", total=max(total_bytes, 1), triples=0, rate=0.0)
            self._bar.start()
        self._started = time.perf_counter()
        self._done_bytes = 0

    def update(self, count: int, position: int = 0) -> None:
        self.count += count
        if self._bar is not None:
            rate = self.count / max(time.perf_counter() - self._started, 1e-6)
            self._bar.update(self._task, completed=self._done_bytes + position, triples=self.count, rate=rate)

    def file_done(self, size: int) -> None:
        self._done_bytes += size
        self.update(0)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


_KEPT_PREDICATES = CLAIM_PREDICATES | {ox.NamedNode(p) for p in (
    "http://www.w3.org/2000/01/rdf-schema#subPropertyOf", "http://www.w3.org/2002/07/owl#equivalentProperty")}
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_KEPT_TYPES = frozenset({CLAIM_CLASS, ox.NamedNode("https://w3id.org/explore-kg/ontology#SourceDocument")})


def _stream_quad_file(store: ox.Store, path: Path, fmt, edges: list, progress: _Progress) -> dict[str, None]:
    """Stream an N-Quads/TriG file into ``store`` (and its default graph); then add the claims of its
    date triples and their statedIn, as :func:`loading.assign_graphs` does. Returns its named graphs."""
    kept: list[ox.Quad] = []
    graphs: dict[str, None] = {}
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below; its position drives the progress bar
    except OSError as e:
        raise LoadError(path, f"cannot read file: {e.strerror or e}") from e

    def parsed() -> Iterator[ox.Quad]:
        """Each quad and its default-graph copy; one generator, each term read once (per-quad Python
        work is most of the load time that is not Oxigraph's)."""
        n = 0
        last_graph = None
        literal, date_types, kept_predicates, kept_types = ox.Literal, DATE_DATATYPES, _KEPT_PREDICATES, _KEPT_TYPES
        quad, rdf_type, default_graph = ox.Quad, _RDF_TYPE, ox.DefaultGraph
        for q in ox.parse(f, format=fmt, base_iri=path.resolve().as_uri()):
            p, o, g = q.predicate, q.object, q.graph_name
            if p in kept_predicates or (type(o) is literal and o.datatype in date_types) or (
                    p == rdf_type and o in kept_types):
                kept.append(q)
            yield q
            n += 1
            if n == 16384:
                progress.update(n, f.tell())
                n = 0
            if type(g) is default_graph:
                continue
            if g != last_graph:
                last_graph = g
                graphs[g.value] = None
            yield quad(q.subject, p, o)
        progress.update(n, f.tell())
        edges.extend(subproperty_edges(kept))  # then the claims, in the same bulk load (one is cheaper than two)
        added = quad_file_additions(kept, known_date_properties(edges))
        yield from with_default_graph(added)
        progress.update(len(added))

    with f:
        try:
            store.bulk_extend(parsed())
        except (SyntaxError, ValueError, OSError) as e:
            raise LoadError.from_parser(path, e) from e
    return graphs


def build(directory: Path, key: str, paths, *, entailed: bool, inferred: bool) -> None:
    """Load the inputs into ``directory/oxigraph`` and write the completion marker last."""
    started = time.perf_counter()
    ontology, data = inputs(paths)
    store = ox.Store(str(directory / STORE_SUBDIR))
    progress = _Progress(sum(p.stat().st_size for p in [*ontology, *data] if p.exists()))
    graph_files: dict[str, str] = {}
    try:
        if inferred:  # OWL RL reasoning (owlrl) needs the whole graph in rdflib: the small-data path
            from ..server import ServerConfig, load_for_serving

            loaded = load_for_serving(ServerConfig(paths=paths, inferred=True))
            store.bulk_extend(with_default_graph(loaded.quads))
            progress.update(len(loaded.quads))
            graph_files = loaded.graph_files
        else:
            edges: list = []
            for path, is_ontology in [(p, True) for p in ontology] + [(p, False) for p in data]:
                fmt = rdf_format(path)
                if not is_ontology and _size(path) >= STREAM_BYTES:  # one bulk load, no quad in Python
                    before = set(store.named_graphs())
                    scratch = directory / SCRATCH
                    scratch.mkdir(exist_ok=True)
                    stream_file(store, path, fmt, edges, progress.update, scratch)
                    for g in set(store.named_graphs()) - before:
                        if isinstance(g, ox.NamedNode):
                            graph_files.setdefault(g.value, str(path))
                elif fmt in QUAD_FORMATS and not is_ontology:
                    for g in _stream_quad_file(store, path, fmt, edges, progress):
                        graph_files.setdefault(g, str(path))
                else:
                    parsed = parse_file(path)
                    edges += subproperty_edges(parsed)
                    quads = assign_graphs(path, parsed, ontology=is_ontology, dates=known_date_properties(edges))
                    store.bulk_extend(with_default_graph(quads))
                    progress.update(len(quads))
                    for g in {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}:
                        graph_files.setdefault(g, str(path))
                progress.file_done(path.stat().st_size)
    finally:
        progress.close()
    loaded_at = time.perf_counter()
    log.info("loaded %d quads from %d files in %.1f s (%.0f triples/s)", progress.count, len(ontology) + len(data),
             loaded_at - started, progress.count / max(loaded_at - started, 1e-6))
    added = None
    if entailed:
        from ..entailment import materialise

        added = materialise(store)
        log.info("entailment: %d triples in %.1f s", added, time.perf_counter() - loaded_at)
    store.flush()
    store.optimize()
    sizes = graph_sizes(store)
    triples = sum(n for g, n in sizes.items() if g and g != str(ENTAILED_GRAPH))
    del store  # closed before the marker says it is complete
    marker = {"key": key, "layout": LAYOUT, "version": __version__, "built": time.strftime("%Y-%m-%dT%H:%M:%SZ",
              time.gmtime()), "files": [str(p) for p in [*ontology, *data]], "triples": triples, "entailed": added,
              "sizes": sizes, "graph_files": graph_files, "load_seconds": round(time.perf_counter() - started, 3)}
    tmp = directory / (MARKER + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(marker, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, directory / MARKER)
    log.info("store complete: %d triples in %d graphs, %.1f s in all", triples, len(sizes) - 1,
             time.perf_counter() - started)
