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
    workers: int = typer.Option(0, help="Query worker processes (0: 1.5 per CPU, at least 2, at most 8)."),
    max_query_bytes: int = typer.Option(64 * 1024, help="Largest query text accepted (larger: 413)."),
    max_result_bytes: int = typer.Option(256 * 1024 * 1024, help="Largest serialized result sent."),
    cache_mb: int = typer.Option(64, help="Size of the in-memory result cache in MB (0: off)."),
    worker_memory_mb: int = typer.Option(4096, help="Address space of each query worker in MB; a query needing "
                                         "more fails and the worker is replaced (0: unlimited)."),
    allow_remote: bool = typer.Option(False, "--allow-remote",
                                      help="Let queries use SERVICE (off by default: the server fetches nothing)."),
    log_level: str = typer.Option("info", help="Logging level (access log is one JSON line per request)."),
    base_url: str = typer.Option(None, help="Public URL of the server (http(s)://host[:port]) written into service "
                                 "descriptions, redirects and dump links; default: the address served (a "
                                 "client's Host header is never echoed)."),
    max_connections: int = typer.Option(2048, help="Open connections; past it the longest-idle are closed."),
    header_timeout: float = typer.Option(10.0, help="Seconds a connection may take to send a request's headers "
                                         "(also the idle limit between requests); then 408 and closed."),
    max_header_kb: int = typer.Option(32, help="Largest request headers in KB (larger: 431)."),
    send_timeout: float = typer.Option(30.0, help="Seconds a client may leave its answer unread before the "
                                       "connection is dropped."),
    client_queries: int = typer.Option(0, help="/sparql requests one client address may have in progress "
                                       "(0: twice the query workers); more wait in its queue."),
    client_queue: int = typer.Option(64, help="Requests one client may have waiting; past it 429 + Retry-After."),
    shutdown_timeout: float = typer.Option(10.0, help="On SIGTERM, seconds to let requests in progress finish."),
) -> None:
    """Serve the graph over the SPARQL 1.1 Protocol (read-only, time-limited queries) at /sparql."""
    from .limits import ConnectionLimits
    from .server import ServerConfig, run

    limits = ConnectionLimits(max_connections=max_connections, header_timeout=header_timeout,
                              send_timeout=send_timeout, max_header_bytes=max_header_kb * 1024,
                              max_url_bytes=3 * max_query_bytes + 4096)
    config = ServerConfig(
        paths=files or (), host=host, port=port, timeout=timeout, inferred=inferred, workers=workers or None,
        max_query_bytes=max_query_bytes, max_result_bytes=max_result_bytes, allow_remote=allow_remote,
        cache_bytes=cache_mb * 1024 * 1024, worker_memory_mb=worker_memory_mb, base_url=base_url,
        connection_limits=limits, client_queries=client_queries or None, client_queue=client_queue,
        shutdown_timeout=shutdown_timeout,
    )
    raise typer.Exit(run(config, log_level=log_level))


@app.command()
def validate(
    paths: list[str] = typer.Argument(None, help="New fact files to check together with the shipped graph "
                                      "(none: validate the shipped graph itself)."),
    format: str = typer.Option("text", "--format", "-f", help="Report format: text, json or github "
                               "(GitHub Actions annotations).", case_sensitive=False),
    strict: bool = typer.Option(False, "--strict", help="Fail (exit 1) on warnings too."),
) -> None:
    """Validate facts: syntax, OWL RL consistency, SHACL shapes, references, duplicates, sources.

    Exit status: 0 conforms, 1 violations (or warnings with --strict), 2 could not run.
    """
    from .validation import run_cli

    raise typer.Exit(run_cli(paths or [], fmt=format, strict=strict))


@app.command()
def export(
    format: str = typer.Option("turtle", "--format", "-f", help="turtle, ntriples, jsonld, rdfxml, trig or nquads."),
    inferred: bool = typer.Option(
        False, "--inferred/--asserted",
        help="Also export the OWL 2 RL inferences, kept apart from the asserted triples: trig and nquads put them "
        "in graph https://w3id.org/explore-kg/graph/inferred; turtle, ntriples, jsonld and rdfxml (no named graphs) "
        "write them to a second file next to -o FILE, named FILE-STEM.inferred.EXT (so -o is required)."),
    graph: str = typer.Option(None, "--graph", "-g", help="Export one named graph only: a source's slug "
                              "(e.g. lupex-mission-overview), 'ontology', or a full graph IRI."),
    profile: str = typer.Option(
        "core", "--profile", "-p",
        help="core: our terms plus their standard super-classes/-properties (graph .../graph/alignment); "
        "schema: schema.org terms only; wikidata: wdt: statements about entities with a Wikidata exactMatch."),
    output: str = typer.Option(None, "--output", "-o", help="File to write (default: standard output)."),
) -> None:
    """Export the graph as a deterministic dump (same data, same bytes) with a VoID/DCAT description.

    Every document describes itself: triple counts overall and per graph, source documents, licence (CC BY 4.0) and ontology version. Exit status: 0 written, 2 bad request (unknown graph, format...).
    """
    from .export import run_cli

    raise typer.Exit(run_cli(fmt=format, inferred=inferred, graph=graph, profile=profile, output=output))


@app.command()
def diagram(
    output: str = typer.Option("docs/data-model.svg", "--output", "-o", help="SVG file to write ('-': stdout)."),
) -> None:
    """Draw the data model (classes, their standard super-classes, object properties) as an SVG."""
    from .diagram import run_cli

    raise typer.Exit(run_cli(output))


@app.command()
def query(
    name: str = typer.Argument(..., help="A saved query's name (see `explore-kg queries`)."),
    param: list[str] = typer.Option(None, "--param", "-p", help="A parameter as NAME=VALUE (repeatable); a label, "
                                    "IRI, prefixed name or literal, as the query's catalogue entry says."),
    format: str = typer.Option("table", "--format", "-f", help="table, csv, tsv, json, xml, turtle, ntriples, jsonld."),
    iris: bool = typer.Option(False, "--iris", help="Show IRIs (as prefixed names) instead of labels in the table."),
    endpoint: str = typer.Option(None, "--endpoint", "-e", help="Run on a server (e.g. http://127.0.0.1:8000) "
                                 "instead of in-process."),
    inferred: bool = typer.Option(False, "--inferred/--asserted", help="Include OWL 2 RL inferences (in-process only)."),
) -> None:
    """Run a saved query; parameters are bound as RDF terms. Exit status: 0 ok, 2 bad name or parameter."""
    from .api import run_cli

    raise typer.Exit(run_cli(name, param or [], fmt=format, iris=iris, endpoint=endpoint, inferred=inferred))


@app.command()
def queries(
    format: str = typer.Option("table", "--format", "-f", help="table or json."),
) -> None:
    """List the saved queries: what each answers and its parameters (type, default, example)."""
    from .api import list_cli

    raise typer.Exit(list_cli(format))


@app.command()
def sparql(
    query_or_file: str = typer.Argument(..., help="SPARQL query text, a file holding one, or '-' for standard input."),
    format: str = typer.Option("table", "--format", "-f", help="table, csv, tsv, json, xml, turtle, ntriples, jsonld."),
    iris: bool = typer.Option(False, "--iris", help="Show IRIs (as prefixed names) instead of labels in the table."),
    endpoint: str = typer.Option(None, "--endpoint", "-e", help="Send the query to a server's /sparql instead."),
    inferred: bool = typer.Option(False, "--inferred/--asserted", help="Include OWL 2 RL inferences (in-process only)."),
) -> None:
    """Run an ad-hoc SPARQL query on the graph, the same way the server does (same checks and formats)."""
    import sys
    from pathlib import Path

    from .api import run_cli

    if query_or_file == "-":
        text = sys.stdin.read()
    elif "{" not in query_or_file and Path(query_or_file).is_file():
        text = Path(query_or_file).read_text(encoding="utf-8")
    else:
        text = query_or_file
    raise typer.Exit(run_cli(text, (), fmt=format, iris=iris, endpoint=endpoint, inferred=inferred))
