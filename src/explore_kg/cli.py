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


FILES_HELP = ("RDF files to read instead of the shipped graph (as for serve); inputs of 16 MB or more are loaded "
              "once into the on-disk store (kept in the cache directory, as for serve) and read from there.")
UPDATE_URL_HELP = "The external store's SPARQL Update endpoint (default: derived from --store URL)."
GSP_URL_HELP = "The external store's Graph Store Protocol endpoint (default: derived from --store URL)."
AUTH_HELP = ("Credentials of the external store: USER:PASSWORD, or a token with --auth-type bearer (default: "
             "EXPLORE_KG_STORE_USER / EXPLORE_KG_STORE_PASSWORD / EXPLORE_KG_STORE_TOKEN); never logged.")
AUTH_TYPE_HELP = "basic (default), digest or bearer."
STORE_URL_HELP = "The URL of an external SPARQL store (docs/stores.md) instead of the embedded store."


def _is_store_url(value: str | None) -> bool:
    return bool(value) and value.startswith(("http://", "https://"))


@app.command()
def push(
    files: list[str] = typer.Argument(None, help="RDF files to push instead of the shipped graph (as for serve)."),
    store: str = typer.Option(..., help="The external SPARQL store's URL (its base URL or query endpoint)."),
    update_url: str = typer.Option(None, help=UPDATE_URL_HELP),
    gsp_url: str = typer.Option(None, help=GSP_URL_HELP),
    auth: str = typer.Option(None, help=AUTH_HELP),
    auth_type: str = typer.Option(None, help=AUTH_TYPE_HELP),
    replace: bool = typer.Option(False, "--replace", help="Replace each graph pushed (default: write only the graphs the store does not hold yet)."),
    inferred: bool = typer.Option(False, "--inferred", help="Also push the OWL 2 RL inferences (graph .../inferred)."),
    asserted: bool = typer.Option(False, "--asserted", help="Push the asserted triples only (no graph .../entailed)."),
    batch: int = typer.Option(20000, min=1, help="Triples per request."),
) -> None:
    """Load the graph into an external SPARQL store (Graph Store Protocol, else SPARQL Update), then verify
    every graph's triple count and content hash as the store computes them.

    Exit status: 0 pushed and verified, 1 the store holds other data than sent, 2 bad option or file,
    3 the store is down or refuses.
    """
    from .push import run_cli

    raise typer.Exit(run_cli(files or [], store=store, update_url=update_url, gsp_url=gsp_url, auth=auth,
                             auth_type=auth_type, replace=replace, entailed=_entailed(asserted, inferred),
                             inferred=inferred, batch=batch))


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
    spare_workers: int = typer.Option(None, min=0, help="Ready query workers kept idle to take the place of one "
                                      "killed at its deadline (or crashed) at once, while a new one starts in the "
                                      "background (default: 1; 0 when the data is served from memory and is over "
                                      "16 MB of N-Quads, since each worker then holds its own copy)."),
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
    forwarded_allow_ips: str = typer.Option(None, help="Reverse proxies (comma-separated addresses or networks, "
                                            "e.g. 127.0.0.1,10.0.0.0/8) whose X-Forwarded-For names the client; "
                                            "default none: the client is the connection's address."),
    store: str = typer.Option("auto", help="Where the served data lives: memory (a copy in every query worker), "
                              "disk (one on-disk store all workers open read-only), auto (disk for input "
                              "files of 64 MB or more, or with --store-dir), or the URL of an external SPARQL "
                              "store loaded by `explore-kg push` (docs/stores.md)."),
    store_dir: str = typer.Option(None, help="Directory of the on-disk store (default: a cache directory keyed "
                                  "by the inputs, under $XDG_CACHE_HOME/explore-kg/stores); a restart with "
                                  "unchanged inputs opens it instead of loading again."),
    releases: str = typer.Option(None, "--releases", help="Folder of release folders (`explore-kg release --out`) "
                                 "served at /dumps/VERSION/ and /dumps/latest/ (default: the served data, as the "
                                 "ontology's version)."),
    update_url: str = typer.Option(None, help=UPDATE_URL_HELP),
    gsp_url: str = typer.Option(None, help=GSP_URL_HELP),
    auth: str = typer.Option(None, help=AUTH_HELP),
    auth_type: str = typer.Option(None, help=AUTH_TYPE_HELP),
    writable: bool = typer.Option(False, "--writable", help="Accept validated writes: SPARQL Update at /update, "
                                  "the Graph Store Protocol at /store, the change log at /changes (needs "
                                  "--store-dir and --token-file; see docs/writing.md)."),
    token_file: str = typer.Option(None, help="With --writable: the file of name:token lines; a write needs "
                                   "Authorization: Bearer <token>."),
    shapes: str = typer.Option(None, help="SHACL shapes that every write to the FILEs served (--writable) and every "
                                "body sent to POST /validate must conform to (default: the shipped shapes for the "
                                "shipped graph, none for other files)."),
) -> None:
    """Serve the graph over the SPARQL 1.1 Protocol (read-only, time-limited queries) at /sparql.

    Exit status: 0 stopped (Ctrl-C), 2 cannot listen on HOST:PORT or cannot load the files.
    """
    from .limits import ConnectionLimits
    from .server import ServerConfig, run

    if not 1 <= port <= 65535:
        _fail(f"--port {port} is not a TCP port (1 to 65535)")
    proxies = _proxies(forwarded_allow_ips)  # a bad value is the user's error whether or not the port is free
    _check_can_listen(host, port)  # before loading: a busy port should not cost the user the load time
    limits = ConnectionLimits(max_connections=max_connections, header_timeout=header_timeout,
                              send_timeout=send_timeout, max_header_bytes=max_header_kb * 1024,
                              max_url_bytes=3 * max_query_bytes + 4096)
    config = ServerConfig(
        paths=files or (), host=host, port=port, timeout=timeout, inferred=inferred,
        entailed=_entailed(asserted, inferred),
        workers=workers or None, spare_workers=spare_workers,
        max_query_bytes=max_query_bytes, max_result_bytes=max_result_bytes, allow_remote=allow_remote,
        cache_bytes=cache_mb * 1024 * 1024, worker_memory_mb=worker_memory_mb, base_url=base_url,
        connection_limits=limits, client_queries=client_queries or None, client_queue=client_queue,
        shutdown_timeout=shutdown_timeout, forwarded_allow_ips=proxies, store=store,
        store_dir=store_dir, releases=releases,
        update_url=update_url, gsp_url=gsp_url, auth=auth, auth_type=auth_type,
    )
    if releases and not Path(releases).is_dir():
        _fail(f"--releases {releases}: not a directory")
    if writable and _is_store_url(store):
        _fail("--writable writes to explore-kg's own on-disk store (--store-dir DIR), not to an external store: "
              "write to that store through its own update endpoint")
    if writable or token_file:
        config.writable, config.tokens, config.shapes = _writable_options(writable, store_dir, token_file, shapes)
    elif shapes:
        if not Path(shapes).is_file():
            _fail(f"--shapes {shapes}: no such file")
        config.shapes = shapes  # a read-only server: the shapes POST /validate checks bodies with
    if store not in ("auto", "memory", "disk") and not _is_store_url(store):
        _fail(f"--store {store!r} is not one of auto, memory, disk or a store's URL (http(s)://...)")
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
        _fail("--token-file is an option of --writable")
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
    store: str = typer.Option(None, help="Check the new facts against the graph in this external SPARQL store "
                              "(its URL) instead of the shipped files."),
    auth: str = typer.Option(None, help=AUTH_HELP),
    auth_type: str = typer.Option(None, help=AUTH_TYPE_HELP),
    timeout: float = typer.Option(0.0, min=0, help="Inputs of 16 MB or more (checked in SPARQL on the on-disk "
                                  "store): time limit of each query in seconds, as for query (default 0: none); "
                                  "past it the query is stopped and the exit status is 3. Ctrl-C stops it at once."),
) -> None:
    """Validate facts: syntax, SHACL shapes, terms, dates, claims, OWL RL consistency, references, duplicates, sources.

    Each problem names file:line:column of the offending triple and says what to change. Exit status: 0 conforms,
    1 violations (or warnings with --strict), 2 could not run (a missing file, a directory, a syntax error).
    """
    from .validation import run_cli

    raise typer.Exit(run_cli(paths or [], fmt=format, strict=strict, store=_store_options(store, auth, auth_type),
                             timeout=timeout or None))


@app.command()
def export(
    files: list[str] = typer.Argument(None, help=FILES_HELP),
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
    store: str = typer.Option(None, help=STORE_URL_HELP),
    auth: str = typer.Option(None, help=AUTH_HELP),
    auth_type: str = typer.Option(None, help=AUTH_TYPE_HELP),
) -> None:
    """Export the graph as a deterministic dump (same data, same bytes) with a VoID/DCAT description.

    Every document describes itself: triple counts overall and per graph, source documents, licence (CC BY 4.0) and ontology version. Exit status: 0 written, 2 bad request (unknown graph, format...).
    """
    from .export import run_cli

    _check_writable(output)
    raise typer.Exit(run_cli(fmt=format, inferred=inferred, graph=graph, profile=profile, output=output,
                             store=_store_options(store, auth, auth_type), files=files or []))


@app.command()
def release(
    version: str = typer.Argument(..., help="The release's semantic version; must equal the ontology's "
                                  "owl:versionInfo (unless --force)."),
    out: str = typer.Option("releases", "--out", help="Folder of releases: the release is written to OUT/VERSION/ "
                            "(what `serve --releases OUT` serves)."),
    date: str = typer.Option(None, "--date", help="Release date YYYY-MM-DD (default: $SOURCE_DATE_EPOCH, else the "
                             "last git commit's date, else the ontology's date)."),
    previous: str = typer.Option(None, "--previous", help="Release folder the CHANGELOG.md compares with (default: "
                                 "the highest older version in OUT; none: first release)."),
    force: bool = typer.Option(False, "--force", help="Release even if VERSION differs from the ontology's, the data "
                               "does not validate, or OUT/VERSION exists."),
) -> None:
    """Write a release folder: every export, VoID/DCAT with checksums, iris.txt, CHANGELOG.md, SHA256SUMS.

    Byte-identical when run twice on the same data. Exit status: 0 written, 1 the data does not validate, 2 bad
    version or options.
    """
    from .release import run_cli

    raise typer.Exit(run_cli(version, out=out, date=date, force=force, previous=previous))


@app.command()
def diff(
    old: str = typer.Argument(None, help="Old version: a release folder, an RDF file, or a directory of data files."),
    new: str = typer.Argument(None, help="New version, the same kinds as OLD."),
    rev: str = typer.Option(None, "--rev", help="Compare data/ and ontology/ of two git revisions A..B of the "
                            "repository in the current directory instead."),
    format: str = typer.Option(None, "--format", "-f", help="text (default on a terminal), markdown (default "
                               "otherwise), json, or patch (RDF Patch)."),
) -> None:
    """Fact-level changes between two versions, grouped by source document and entity.

    Exit status: 0 no differences, 1 differences, 2 usage error (missing file, bad revision).
    """
    from .diff import run_cli

    raise typer.Exit(run_cli(old, new, rev=rev, fmt=format))


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
    files: list[str] = typer.Argument(None, help=FILES_HELP),
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
    store: str = typer.Option(None, help=STORE_URL_HELP),
    auth: str = typer.Option(None, help=AUTH_HELP),
    auth_type: str = typer.Option(None, help=AUTH_TYPE_HELP),
) -> None:
    """Run a saved query; parameters are bound as RDF terms.

    Exit status: 0 ok, 2 bad name or parameter (or server unreachable), 3 over the time limit, 130 interrupted.
    """
    from .api import run_cli

    raise typer.Exit(run_cli(name, param or [], fmt=format, iris=iris, endpoint=endpoint, inferred=inferred,
                             entailed=_entailed(asserted, inferred), timeout=timeout,
                             store=_store_options(store, auth, auth_type), files=files or []))


def _store_options(store: str | None, auth: str | None, auth_type: str | None) -> dict | None:
    """--store URL and its credentials for the in-process commands (None: the embedded store)."""
    if not store or store in ("auto", "memory", "disk"):
        return None
    if not _is_store_url(store):
        _fail(f"--store {store!r} is not one of auto, memory, disk or a store's URL (http(s)://...)")
    return {"store": store, "auth": auth, "auth_type": auth_type}


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
    files: list[str] = typer.Argument(None, help=FILES_HELP),
    format: str = typer.Option("table", "--format", "-f", help="table, csv, tsv, json, xml, turtle, ntriples, jsonld."),
    iris: bool = typer.Option(False, "--iris", help="Show IRIs (as prefixed names) instead of labels in the table."),
    endpoint: str = typer.Option(None, "--endpoint", "-e", help="Send the query to a server's /sparql instead."),
    inferred: bool = typer.Option(False, "--inferred", help="Include OWL 2 RL inferences (in-process only)."),
    asserted: bool = typer.Option(False, "--asserted", help="Asserted triples only, without the sub-class/-property, "
                                  "inverse and equivalence entailments (in-process only)."),
    timeout: float = typer.Option(5.0, min=0, help=TIMEOUT_HELP),
    store: str = typer.Option(None, help=STORE_URL_HELP),
    auth: str = typer.Option(None, help=AUTH_HELP),
    auth_type: str = typer.Option(None, help=AUTH_TYPE_HELP),
) -> None:
    """Run an ad-hoc SPARQL query on the graph, the same way the server does (same checks, formats and
    time limit).

    Exit status: 0 ok, 2 bad query or file (or server unreachable), 3 over the time limit, 130 interrupted.
    """
    from .api import run_cli

    raise typer.Exit(run_cli(_query_text(query_or_file), (), fmt=format, iris=iris, endpoint=endpoint,
                             inferred=inferred, entailed=_entailed(asserted, inferred), timeout=timeout,
                             store=_store_options(store, auth, auth_type), files=files or []))


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


def _proxies(value: str | None) -> tuple[str, ...]:
    """``--forwarded-allow-ips``: each an IP address or network (a typo would silently trust nobody)."""
    import ipaddress

    proxies = tuple(p.strip() for p in (value or "").split(",") if p.strip())
    for p in proxies:
        try:
            ipaddress.ip_network(p, strict=False)
        except ValueError:
            _fail(f"--forwarded-allow-ips: {p!r} is not an IP address or network (e.g. 127.0.0.1 or 10.0.0.0/8)")
    return proxies


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
