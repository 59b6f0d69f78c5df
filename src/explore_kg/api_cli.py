"""The command line's ``query``, ``queries`` and ``sparql``: run through the Python API, print, exit status.

Split from :mod:`explore_kg.api` (which still offers ``run_cli`` and ``list_cli``). With FILES of
:data:`explore_kg.large_inputs.LARGE_BYTES` or more the graph is the on-disk store of those files
(:meth:`explore_kg.api.KnowledgeGraph.load`), built once with a progress bar on a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from . import saved_queries
from .api import ParameterError, UnknownQuery, connect, open
from .engine import DEFAULT_TIMEOUT


def _console():
    from rich.console import Console

    return Console(soft_wrap=False)


def run_cli(name_or_sparql: str, params: Sequence[str] = (), *, fmt: str = "table", iris: bool = False,
            endpoint: str | None = None, inferred: bool = False, entailed: bool = True,
            timeout: float | None = DEFAULT_TIMEOUT, store: dict | None = None, files: Sequence[str] = ()) -> int:
    """``explore-kg query`` / ``sparql``: run, print, and return the exit status: 0 ok, 2 bad input or
    unreachable server, 3 over the time limit. Ctrl-C raises KeyboardInterrupt once the query's
    process is gone (the command line turns it into status 130)."""
    import sys

    import httpx

    from .engine import QueryError, QueryTimeout, format_to_accept
    from .loading import LoadError

    given: dict[str, str] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            print(f"error: --param takes NAME=VALUE, got {item!r}", file=sys.stderr)
            return 2
        given[key.strip()] = value
    if endpoint and not endpoint.startswith(("http://", "https://")):
        print(f"error: --endpoint takes a server's URL (http://host:port), got {endpoint!r}", file=sys.stderr)
        return 2
    try:
        if store:  # --store URL: an external SPARQL store (explore_kg.store.remote)
            from .store.remote import StoreUnavailable, store_graph

            try:
                kg = store_graph(store, timeout=timeout)
            except StoreUnavailable as e:
                print(f"error: {e.message}", file=sys.stderr)
                return 3
        else:
            if files and not endpoint:
                from .large_inputs import input_bytes, is_large

                if is_large(files):
                    print(f"note: {input_bytes(files) / 2**20:,.0f} MB of input: querying it in the on-disk store "
                          "(loaded once, then reused)", file=sys.stderr)
            kg = connect(endpoint) if endpoint else open(files, inferred=inferred, entailed=entailed, timeout=timeout)
        if fmt == "table":
            result = kg.query(name_or_sparql, **given)
            title = None
            if result.query:
                saved = saved_queries.get(result.query)
                title = saved.title
            _console().print(result.to_table(iris=iris, title=title))
            if result.kind == "bindings":
                print(f"{len(result.rows)} rows, {result.elapsed_ms:.1f} ms", file=sys.stderr)
            return 0
        answer = kg.run(name_or_sparql, media_type=format_to_accept(fmt), **given)
        sys.stdout.buffer.write(answer.body)
        sys.stdout.flush()
        return 0
    except QueryTimeout as e:
        print(f"error: {_one_line(e.message)}", file=sys.stderr)
        return 3
    except (ParameterError, UnknownQuery, QueryError, LoadError) as e:
        print(f"error: {_one_line(str(getattr(e, 'message', e)))}", file=sys.stderr)
        return 3 if store and getattr(e, "status", 0) in (502, 504) else 2  # (--store: down or refusing)
    except httpx.TimeoutException:
        print(f"error: {endpoint} did not answer within {kg.client.timeout.read:g} s", file=sys.stderr)
        return 3
    except (httpx.HTTPError, OSError) as e:  # a server that cannot be reached
        if not endpoint or isinstance(e, BrokenPipeError):  # (a closed standard output is the caller's)
            raise
        reason = str(e) or type(e).__name__
        print(f"error: cannot reach {endpoint}: {reason}", file=sys.stderr)
        return 2


def _one_line(message: str) -> str:
    """An error message on one line: the parser's list of every letter it would have accepted (several
    lines of Unicode ranges) becomes "a name"."""
    import re

    message = re.sub(r"\['A' \.\.= 'Z'[^\]]*\]", "a name", message)
    return " ".join(message.split())


def list_cli(fmt: str = "table") -> int:
    """``explore-kg queries``: the saved queries with their parameters."""
    queries = saved_queries.load_saved_queries()
    if fmt == "json":
        print(json.dumps([q.to_json() for q in queries], indent=2, ensure_ascii=False))
        return 0
    from rich.table import Table

    table = Table(title="Saved queries (run with: explore-kg query NAME --param name=value)", show_lines=True)
    for col in ("name", "what it answers", "parameters"):
        table.add_column(col, overflow="fold")
    for q in queries:
        params = "\n".join(
            f"{p.name}: {p.type_label}"
            + (" (required)" if p.required else f" (default {p.default})" if p.default else " (optional)")
            + (f", e.g. {p.example}" if p.example else "")
            for p in q.parameters
        )
        table.add_row(q.name, f"[bold]{q.title}[/bold]\n{q.description}", params or "-")
    _console().print(table)
    return 0
