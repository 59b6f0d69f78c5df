"""The ``explore-kg`` command line: one thin command per module, so each stays importable alone.

Each command imports its module lazily, so ``explore-kg --help`` is quick and a broken optional part
cannot stop the others.

Exit status, the same for every command (README "Exit status"): 0 done, 1 ``validate`` found
violations, 2 a user error (bad option or argument, missing file, unreachable server, bad query or
parameter; one line on stderr, never a traceback), 3 a query over its time limit, 130 interrupted
(Ctrl-C), 70 an internal error (a traceback and a request to report it).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import typer

EXIT_OK, EXIT_USER_ERROR, EXIT_TIMEOUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 2, 3, 70, 130
ISSUES_URL = "https://github.com/explore-kg/explore-kg/issues"


class _CommandLine(typer.Typer):
    """Typer, except that every user error ends as one line on stderr and its exit status.

    Click's own usage errors (unknown option, value out of range...) print three lines; an OSError
    (a file that cannot be read or written) would print a traceback. Here each becomes
    ``error: <what> (see: explore-kg CMD --help)``; anything else is a bug and says so. (Typer 0.2x
    vendors click as ``typer._click``, older releases use ``click``: its errors are known by their shape.)
    """

    def __call__(self, *args, **kwargs):
        command = typer.main.get_command(self)
        kwargs.setdefault("prog_name", "explore-kg")
        try:
            code = command.main(*args, standalone_mode=False, **kwargs)
        except typer.Abort:  # end of input at a prompt
            _exit("interrupted", EXIT_INTERRUPTED, prefix="")
        except BrokenPipeError:  # the reader went away (| head): stop quietly, without a second one at exit
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_OK)
        except OSError as e:  # a file: missing, a directory, not writable...
            _exit(_os_error(e), EXIT_USER_ERROR)
        except Exception as e:  # noqa: BLE001 - either click's word for a user error, or a bug
            if type(e).__name__ == "NoArgsIsHelpError":  # plain `explore-kg`: the help
                e.show()
                sys.exit(EXIT_USER_ERROR)
            if hasattr(e, "format_message") and hasattr(e, "exit_code"):  # click's (typer's) ClickException
                ctx = getattr(e, "ctx", None)
                where = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
                _exit(f"{e.format_message()}{where}", e.exit_code)
            import traceback

            traceback.print_exc()
            _exit(f"this is a bug in explore-kg; please report it with the traceback above: {ISSUES_URL}",
                  EXIT_INTERNAL, prefix="internal error: ")
        if code == EXIT_INTERRUPTED:  # typer turns KeyboardInterrupt into Exit(130), silently
            _exit("interrupted", EXIT_INTERRUPTED, prefix="")
        sys.exit(code or EXIT_OK)


def _fail(message: str, code: int = EXIT_USER_ERROR) -> NoReturn:
    """End a command with one line on stderr and ``code`` (a user error)."""
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def _exit(message: str, code: int, prefix: str = "error: ") -> NoReturn:
    """End the process with one line on stderr and ``code`` (outside any command)."""
    print(f"{prefix}{message}", file=sys.stderr)
    sys.exit(code)


def _os_error(e: OSError) -> str:
    what = e.strerror or str(e)
    return f"{e.filename}: {what}" if e.filename else what


app = _CommandLine(
    help="explore-kg: a sourced knowledge graph of international space exploration. "
    "Serve it over SPARQL, validate new facts, run saved queries, export it. "
    "Exit status: 0 done, 1 validation failed, 2 user error, 3 query time limit, 130 interrupted.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: no "<bool>" type column, and the text reads the same in the README
)


def _print_version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"explore-kg {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print the version and exit."),
) -> None:
    """explore-kg command line."""


@app.command()
def version() -> None:
    """Print the package and ontology version."""
    from . import __version__

    typer.echo(__version__)


def _entailed(asserted: bool, inferred: bool) -> bool:
    """Whether to serve the RDFS-level entailments (on unless --asserted); --asserted --inferred is refused."""
    if asserted and inferred:
        typer.echo("error: --asserted and --inferred exclude each other", err=True)
        raise typer.Exit(2)
    return not asserted


# Commands below are added by each module's owner: serve, validate, query, queries, sparql, export, diagram.

TIMEOUT_HELP = ("Time limit of the query in seconds, as on the server (0: none); past it the query is "
                "stopped and the exit status is 3. In-process only: a server applies its own.")


@app.command()
def serve(
    files: list[str] = typer.Argument(None, help="RDF files to serve instead of the shipped graph "
                                      "(Turtle, TriG, N-Triples, N-Quads, JSON-LD, RDF/XML)."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind (default: loopback only)."),
    port: int = typer.Option(8000, help="TCP port, 1 to 65535."),
    timeout: float = typer.Option(5.0, min=0.001, help="Time limit of every query, in seconds (exceeded: 503)."),
    inferred: bool = typer.Option(False, "--inferred",
                                  help="Also serve OWL 2 RL inferences, in graph https://w3id.org/explore-kg/graph/inferred."),
    asserted: bool = typer.Option(False, "--asserted", help="Serve the asserted triples only: without the sub-class, "
                                  "sub-property, inverse and equivalence entailments served by default (in graph "
                                  "https://w3id.org/explore-kg/graph/entailed and the default graph)."),
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
    store: str = typer.Option("auto", help="Where the served data lives: memory (a copy in every query worker), "
                              "disk (one on-disk store all workers open read-only), or auto (disk for input "
                              "files of 64 MB or more, or with --store-dir)."),
    store_dir: str = typer.Option(None, help="Directory of the on-disk store (default: a cache directory keyed "
                                  "by the inputs, under $XDG_CACHE_HOME/explore-kg/stores); a restart with "
                                  "unchanged inputs opens it instead of loading again."),
    writable: bool = typer.Option(False, "--writable", help="Accept validated writes: SPARQL Update at /update, "
                                  "the Graph Store Protocol at /store, the change log at /changes (needs "
                                  "--store-dir and --token-file; see docs/writing.md)."),
    token_file: str = typer.Option(None, help="With --writable: the file of name:token lines; a write needs "
                                   "Authorization: Bearer <token>."),
    shapes: str = typer.Option(None, help="With --writable: SHACL shapes that every write to the FILEs served must "
                                "conform to (default: the shipped shapes for the shipped graph, none for other files)."),
) -> None:
    """Serve the graph over the SPARQL 1.1 Protocol (read-only, time-limited queries) at /sparql.

    Exit status: 0 stopped (Ctrl-C), 2 cannot listen on HOST:PORT or cannot load the files.
    """
    from .limits import ConnectionLimits
    from .server import ServerConfig, run

    if not 1 <= port <= 65535:
        _fail(f"--port {port} is not a TCP port (1 to 65535)")
    _check_can_listen(host, port)  # before loading: a busy port should not cost the user the load time
    limits = ConnectionLimits(max_connections=max_connections, header_timeout=header_timeout,
                              send_timeout=send_timeout, max_header_bytes=max_header_kb * 1024,
                              max_url_bytes=3 * max_query_bytes + 4096)
    config = ServerConfig(
        paths=files or (), host=host, port=port, timeout=timeout, inferred=inferred,
        entailed=_entailed(asserted, inferred),
        workers=workers or None,
        max_query_bytes=max_query_bytes, max_result_bytes=max_result_bytes, allow_remote=allow_remote,
        cache_bytes=cache_mb * 1024 * 1024, worker_memory_mb=worker_memory_mb, base_url=base_url,
        connection_limits=limits, client_queries=client_queries or None, client_queue=client_queue,
        shutdown_timeout=shutdown_timeout, store=store, store_dir=store_dir,
    )
    if writable or token_file or shapes:
        config.writable, config.tokens, config.shapes = _writable_options(writable, store_dir, token_file, shapes)
    if store not in ("auto", "memory", "disk"):
        _fail(f"--store {store!r} is not one of auto, memory, disk")
    raise typer.Exit(run(config, log_level=log_level))


changes_app = typer.Typer(help="The change log of a writable store (serve --writable).", no_args_is_help=True)
app.add_typer(changes_app, name="changes")


@changes_app.command("export")
def changes_export(
    store_dir: str = typer.Option(..., help="The writable store's directory (serve --writable --store-dir)."),
    out: str = typer.Option("data", help="Where the source documents' Turtle files are written (one per source)."),
    since: int = typer.Option(0, help="Only the graphs changed after this change number."),
) -> None:
    """Write the graphs that accepted changes touched as data/<source>.ttl files, to review and commit.

    Exit status: 0 written, 3 the store directory cannot be read.
    """
    from .changes_export import run_cli

    raise typer.Exit(run_cli(store_dir, out, since))


def _writable_options(writable: bool, store_dir: str | None, token_file: str | None, shapes: str | None):
    """(writable, tokens, shapes) of serve --writable, or exit 2 naming what is missing or wrong."""
    from .tokens import TokenFileError, read_tokens

    if not writable:
        _fail("--token-file and --shapes are options of --writable")
    if not store_dir:
        _fail("--writable needs --store-dir DIR: the store that writes go to (created on first start)")
    if not token_file:
        _fail("--writable needs --token-file FILE (name:token lines): no write is accepted without a token")
    try:
        tokens = read_tokens(token_file)
    except TokenFileError as e:
        _fail(str(e))
    if shapes and not Path(shapes).is_file():
        _fail(f"--shapes {shapes}: no such file")
    return True, tokens, shapes


@app.command()
def validate(
    paths: list[str] = typer.Argument(None, help="New fact files to check together with the shipped graph "
                                      "(none: validate the shipped graph itself)."),
    format: str = typer.Option("text", "--format", "-f", help="Report format: text, json or github "
                               "(GitHub Actions annotations).", case_sensitive=False),
    strict: bool = typer.Option(False, "--strict", help="Fail (exit 1) on warnings too, as CI does."),
) -> None:
    """Validate facts: syntax, SHACL shapes, terms, dates, claims, OWL RL consistency, references, duplicates, sources.

    Each problem names file:line:column of the offending triple and says what to change. Exit status: 0 conforms,
    1 violations (or warnings with --strict), 2 could not run (a missing file, a directory, a syntax error).
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

    _check_writable(output)
    raise typer.Exit(run_cli(fmt=format, inferred=inferred, graph=graph, profile=profile, output=output))


@app.command()
def diagram(
    output: str = typer.Option("docs/data-model.svg", "--output", "-o", help="SVG file to write ('-': stdout)."),
) -> None:
    """Draw the data model (classes, their standard super-classes, object properties) as an SVG."""
    from .diagram import run_cli

    _check_writable(output)
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
    inferred: bool = typer.Option(False, "--inferred", help="Include OWL 2 RL inferences (in-process only)."),
    asserted: bool = typer.Option(False, "--asserted", help="Asserted triples only, without the sub-class/-property, "
                                  "inverse and equivalence entailments (in-process only)."),
    timeout: float = typer.Option(5.0, min=0, help=TIMEOUT_HELP),
) -> None:
    """Run a saved query; parameters are bound as RDF terms.

    Exit status: 0 ok, 2 bad name or parameter (or server unreachable), 3 over the time limit, 130 interrupted.
    """
    from .api import run_cli

    raise typer.Exit(run_cli(name, param or [], fmt=format, iris=iris, endpoint=endpoint, inferred=inferred,
                             entailed=_entailed(asserted, inferred), timeout=timeout))


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
    inferred: bool = typer.Option(False, "--inferred", help="Include OWL 2 RL inferences (in-process only)."),
    asserted: bool = typer.Option(False, "--asserted", help="Asserted triples only, without the sub-class/-property, "
                                  "inverse and equivalence entailments (in-process only)."),
    timeout: float = typer.Option(5.0, min=0, help=TIMEOUT_HELP),
) -> None:
    """Run an ad-hoc SPARQL query on the graph, the same way the server does (same checks, formats and
    time limit).

    Exit status: 0 ok, 2 bad query or file (or server unreachable), 3 over the time limit, 130 interrupted.
    """
    from .api import run_cli

    raise typer.Exit(run_cli(_query_text(query_or_file), (), fmt=format, iris=iris, endpoint=endpoint,
                             inferred=inferred, entailed=_entailed(asserted, inferred), timeout=timeout))


_SPARQL_START = ("select", "ask", "construct", "describe", "prefix", "base")


def _query_text(query_or_file: str) -> str:
    """The query an argument of ``sparql`` means: standard input ('-'), an existing file, query text
    (it has a brace, or a space, or starts like a query), or else a file that is missing: an error."""
    if query_or_file == "-":
        return sys.stdin.read()
    if "{" in query_or_file or "\n" in query_or_file:
        return query_or_file
    path = Path(query_or_file)
    try:
        is_file, is_dir = path.is_file(), path.is_dir()
    except OSError:  # a name too long to be a path: text
        return query_or_file
    if is_file:
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            _fail(f"{query_or_file} is not UTF-8 text")
    if is_dir:
        _fail(f"{query_or_file} is a directory, not a query file")
    if any(c.isspace() for c in query_or_file) or query_or_file.lower().startswith(_SPARQL_START):
        return query_or_file
    _fail(f"no such query file: {query_or_file} (give a file holding a query, the query text itself, or '-')")


def _check_can_listen(host: str, port: int) -> None:
    """Fail with one line if HOST:PORT cannot be listened on (unknown host, port in use, privileged)."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as e:
        _fail(f"cannot listen on {host}:{port}: unknown host ({e.strerror})")
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            sock.bind(address)
        except OSError as e:
            _fail(f"cannot listen on {host}:{port}: {e.strerror or e}")


def _check_writable(output: str | None) -> None:
    """Fail with one line if ``-o`` names a directory, or a path through a file."""
    if not output or output == "-":
        return
    path = Path(output)
    if path.is_dir():
        _fail(f"cannot write {output}: it is a directory")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                _fail(f"cannot write {output}: {parent} is a file, not a directory")
            break
