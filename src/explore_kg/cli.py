"""The ``explore-kg`` command line: one thin command per module, so each stays importable alone.

Each command imports its module lazily, so ``explore-kg --help`` is quick and a broken optional part
cannot stop the others.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    help="explore-kg: a sourced knowledge graph of international space exploration. "
    "Serve it over SPARQL, validate new facts, run saved queries, export it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """explore-kg command line."""


@app.command()
def version() -> None:
    """Print the package and ontology version."""
    from . import __version__

    typer.echo(__version__)


# Commands below are added by each module's owner: serve, validate, query, queries, sparql, export, diagram.


@app.command()
def serve(
    files: list[str] = typer.Argument(None, help="RDF files to serve instead of the shipped graph "
                                      "(Turtle, TriG, N-Triples, N-Quads, JSON-LD, RDF/XML)."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind (default: loopback only)."),
    port: int = typer.Option(8000, help="TCP port."),
    timeout: float = typer.Option(5.0, help="Time limit of every query, in seconds (exceeded: 503)."),
    inferred: bool = typer.Option(False, "--inferred/--asserted",
                                  help="Also serve OWL 2 RL inferences, in graph https://w3id.org/explore-kg/graph/inferred."),
    workers: int = typer.Option(0, help="Query worker processes (0: max(2, CPU count))."),
    max_query_bytes: int = typer.Option(64 * 1024, help="Largest query text accepted (larger: 413)."),
    max_result_bytes: int = typer.Option(256 * 1024 * 1024, help="Largest serialized result sent."),
    cache_mb: int = typer.Option(64, help="Size of the in-memory result cache in MB (0: off)."),
    allow_remote: bool = typer.Option(False, "--allow-remote",
                                      help="Let queries use SERVICE (off by default: the server fetches nothing)."),
    log_level: str = typer.Option("info", help="Logging level (access log is one JSON line per request)."),
) -> None:
    """Serve the graph over the SPARQL 1.1 Protocol (read-only, time-limited queries) at /sparql."""
    from .server import ServerConfig, run

    config = ServerConfig(
        paths=files or (), host=host, port=port, timeout=timeout, inferred=inferred, workers=workers or None,
        max_query_bytes=max_query_bytes, max_result_bytes=max_result_bytes, allow_remote=allow_remote,
        cache_bytes=cache_mb * 1024 * 1024,
    )
    raise typer.Exit(run(config, log_level=log_level))
