"""Files that cannot be read or parsed: one line each, file:line:column, the parser's message and a hint.

The parser reports where it noticed the problem, which for the common slips is not where the slip is:
a missing ``;`` or ``.`` is noticed at the start of the next line, an unescaped quote as "Moon is not a
valid subject". For those, the result points at the slip (the end of the line that lacks the
punctuation) and keeps the parser's own position in the message.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..loading import FORMATS, LoadError, parse_file
from ..namespaces import PREFIXES
from .report import VIOLATION, Result, display_path

_NOT_VALID = re.compile(r"(?P<token>.+?) is not a valid (?:subject|object|predicate)", re.S)
_UNDECLARED = re.compile(r"The prefix (?P<prefix>[^\s:]*): has not been declared")


def path_problem(path: Path) -> str | None:
    """Why a given path cannot be validated (missing, a directory, a symlink loop...), or None."""
    try:
        if path.is_symlink():
            try:
                path.resolve(strict=True)
            except RuntimeError:
                return "a symbolic link that loops back on itself: give the file it should point to"
            except OSError:
                return f"a symbolic link to {os.readlink(path)!s}, which does not exist"
        if path.is_dir():
            return "a directory: give the files to validate, e.g. data/*.ttl"
        if not path.exists():
            return "no such file"
        if path.suffix.lower() not in FORMATS:
            return f"unknown RDF file extension {path.suffix!r} (known: {', '.join(sorted(FORMATS))})"
        with path.open("rb"):
            pass
    except RuntimeError:
        return "a symbolic link that loops back on itself: give the file it should point to"
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    return None


def unreadable_results(paths: list[Path]) -> list[Result]:
    """One ``file-unreadable`` result per given path that is not a readable RDF file."""
    out = []
    for p in paths:
        problem = path_problem(p)
        if problem:
            out.append(Result("file-unreadable", VIOLATION, problem[0].upper() + problem[1:] + ".", display_path(p),
                              hint="Pass the path of an existing Turtle (.ttl) or other RDF file."))
    return out


def syntax_results(error: LoadError, review: list[Path]) -> list[Result]:
    """The first parse error, plus any other file under review that does not parse either."""
    errors = [error]
    for path in review:
        if str(path) == str(Path(error.path).resolve()):
            continue
        try:
            parse_file(path)
        except LoadError as e:
            errors.append(e)
    seen, results = set(), []
    for e in errors:
        key = (str(Path(e.path).resolve()), e.line, e.message)
        if key not in seen:
            seen.add(key)
            results.append(syntax_result(e))
    return results


def syntax_result(e: LoadError) -> Result:
    """A parse error with a hint for the common slip it probably is, pointing at the slip."""
    message = re.sub(r"^Parser error (at |between )?", "", e.message).strip()
    message = re.sub(r"\s*\(line \d+\)$", "", message)
    # the position is the result's own: keep the parser's words only
    message = re.sub(r"^line \d+ (?:between columns \d+ and \d+|column \d+(?: and line \d+ column \d+)?): ", "", message)
    line, column, hint = e.line, e.column, None
    try:
        lines = Path(e.path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    text = lines[line - 1] if line and line <= len(lines) else ""
    before = text[: (column or 1) - 1]

    if "A dot is expected" in message and line:
        slip = _previous_statement_end(lines, line, column or 1)
        if slip and before.strip() == "":
            line, column = slip
            if (e.column or 1) == 1 or not text[:1].isspace():
                hint = (f"The statement that ends on line {line} lacks its closing ' .'; "
                        "end every subject's block with a dot.")
            else:
                hint = (f"Line {line} lacks a ';' at its end: separate the predicate-object pairs of one subject "
                        "with ';' (and objects of one predicate with ',').")
        else:
            hint = ("Two terms follow each other without punctuation: separate objects with ',', "
                    "predicate-object pairs with ';', and end the statement with '.'.")
    elif (m := _UNDECLARED.search(message)) is not None:
        prefix = m["prefix"]
        known = PREFIXES.get(prefix)
        hint = (f"Declare it at the top of the file: @prefix {prefix}: <{known}> ." if known
                else f"Declare it at the top of the file (@prefix {prefix}: <...> .) or use a full <IRI>.")
    elif (m := _NOT_VALID.search(message)) is not None:
        token = m["token"].strip()
        if before.count('"') % 2 == 1 or before.count("'") % 2 == 1 or ('"' in before and token[:1].isalpha()):
            hint = ('An unescaped quote ends the string early: write \\" inside a "..." string, '
                    "or use '...' or \"\"\"...\"\"\" around text that contains quotes.")
        elif re.fullmatch(r"-\d\d(-\d\d)?", token) or re.match(r"\d{4}-", text[(column or 1) - 5:] if column else ""):
            hint = 'A date must be a quoted literal with a datatype, e.g. "2024-05-01"^^xsd:date.'
        elif token == ".":
            hint = "A stray '.': a statement ends with exactly one dot, and a ';' before the dot is fine but not needed."
        else:
            hint = "Check the punctuation before this token: a subject is followed by predicate-object pairs."
    elif "Invalid IRI code point ' '" in message:
        hint = "IRIs cannot contain spaces: use hyphens in slugs (id/<kind>/<lowercase-slug>)."
    elif "Unexpected end of file" in message:
        hint = "The file ends inside a string, a '[' or a '(': close it (an unterminated \" is the usual cause)."
    elif "cannot read file" in message:
        hint = "Pass the path of an existing, readable RDF file."
    if (line, column) != (e.line, e.column) and e.line:
        message += f" (noticed by the parser at line {e.line}, column {e.column})"
    return Result("syntax", VIOLATION, message, display_path(e.path), line, column, hint=hint)


def _previous_statement_end(lines: list[str], line: int, column: int) -> tuple[int, int] | None:
    """(line, column just after the last token) of the last non-blank, non-comment text before a position."""
    for n in range(line - 1, 0, -1):
        text = _strip_comment(lines[n - 1]).rstrip()
        if text:
            return n, len(text) + 1
    return None


def _strip_comment(text: str) -> str:
    """The line without a trailing # comment (a # inside a string or an IRI is kept)."""
    quote = None
    in_iri = escaped = False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
        elif in_iri:
            in_iri = ch != ">"
        elif ch in "\"'":
            quote = ch
        elif ch == "<":
            in_iri = True
        elif ch == "#":
            return text[:i]
    return text
