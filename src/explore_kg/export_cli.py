"""The ``explore-kg export`` command: which exporter, where the bytes go, errors as one line.

The shipped graph and small files go through :class:`explore_kg.export.Exporter` (in memory, cached:
what /dumps and releases use); files of :data:`explore_kg.large_inputs.LARGE_BYTES` or more are loaded
into the on-disk store and streamed out by :class:`explore_kg.export_streaming.StreamingExporter`, with
a progress bar on a terminal. Both give the same bytes for the same data.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .export import FORMAT_BY_EXTENSION, FORMATS, Exporter, ExportError, inferred_path


def run_cli(*, fmt: str, inferred: bool, graph: str | None, profile: str, output: str | None,
            store: dict | None = None, files: list[str] | tuple = ()) -> int:
    """Write the document(s), report errors plainly; returns the exit status."""
    from .large_inputs import is_large
    from .loading import LoadError, load

    fmt, profile = fmt.lower(), profile.lower()
    rdf_format = FORMATS.get(fmt) or FORMAT_BY_EXTENSION.get(fmt)
    try:
        if rdf_format is None:
            raise ExportError(f"unknown format {fmt!r}; known formats: {', '.join(FORMATS)}")
        if inferred and not rdf_format.quads and not output:
            raise ExportError(
                f"--inferred with {rdf_format.name} writes the inferred triples to a second file: give -o FILE, "
                "or use --format trig or nquads to get them in their own named graph on standard output")
        if files and not store and is_large(files):
            return _streamed(files, rdf_format.name, inferred=inferred, graph=graph, profile=profile, output=output)
        if store:  # --store URL: the same documents from the quads in an external store
            from .store.remote import StoreUnavailable, stored_data

            try:
                exporter = Exporter(stored_data(store))
            except StoreUnavailable as e:
                print(f"explore-kg export: {e.message}", file=sys.stderr)
                return 3
        else:
            exporter = Exporter(load(files, shipped=not files))
        content = "all" if inferred and rdf_format.quads else "asserted"
        main = exporter.document(rdf_format.name, content=content, graph=graph, profile=profile)
        extra = (exporter.document(rdf_format.name, content="inferred", graph=graph, profile=profile)
                 if inferred and not rdf_format.quads else None)
    except (ExportError, LoadError) as e:
        print(f"explore-kg export: {e}", file=sys.stderr)
        return 2
    if not output or output == "-":
        sys.stdout.buffer.write(main.data)
        sys.stdout.buffer.flush()
        return 0
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(main.data)
    print(f"wrote {path} ({main.triples} triples, {len(main.data)} bytes)", file=sys.stderr)
    if extra is not None:
        side = inferred_path(path)
        side.write_bytes(extra.data)
        print(f"wrote {side} ({extra.triples} inferred triples, {len(extra.data)} bytes)", file=sys.stderr)
    return 0


def _streamed(files, fmt: str, *, inferred: bool, graph: str | None, profile: str, output: str | None) -> int:
    """A large input: on-disk store, streaming export (raises ExportError / LoadError for run_cli)."""
    from .export_streaming import StreamingExporter
    from .large_inputs import input_bytes, open_disk_store
    from .progress import TerminalProgress

    if inferred:
        raise ExportError(f"--inferred is not available for {input_bytes(files) / 2**20:,.0f} MB of input: OWL 2 RL "
                          "reasoning (owlrl) holds the whole graph in memory and does not scale to it; export the "
                          "asserted triples (--asserted)")
    print(f"note: {input_bytes(files) / 2**20:,.0f} MB of input: loading it into an on-disk store and streaming "
          "the export from there", file=sys.stderr)
    served = open_disk_store(files, entailed=True)  # the store `serve FILES` and `query` use: built once for all
    with TerminalProgress() as progress:
        exporter = StreamingExporter(served.loaded, progress=progress)
        if not output or output == "-":
            doc = exporter.write(sys.stdout.buffer, fmt, graph=graph, profile=profile)
            sys.stdout.buffer.flush()
            return 0
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.partial")
        try:
            with open(tmp, "wb") as f:
                doc = exporter.write(f, fmt, graph=graph, profile=profile)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
    print(f"wrote {path} ({doc.triples} triples, {doc.bytes} bytes)", file=sys.stderr)
    return 0
