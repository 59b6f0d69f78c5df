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
