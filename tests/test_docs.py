r"""Docs as tests: every fenced code block of README.md and docs/*.md runs as written, and every command
and option of the command line is mentioned in the README (Datasette's ``test_docs`` habit).

How a block is treated is said by its fence and, optionally, by one HTML comment on the line just
before it (invisible on GitHub, visible to anyone editing the file)::

    ```bash / ```sh     run with ``bash -euo pipefail`` in a fresh copy of the repository, with this
                        venv's ``bin`` first on PATH and as ``.venv`` (so ``explore-kg`` and
                        ``.venv/bin/explore-kg`` resolve); must exit 0. A block that runs ``pip install``
                        gets a copy of its own without ``.venv``, so it never installs into this venv
    ```python           run with this venv's python in that copy; must exit 0
    ```json             must parse
    ```turtle           must parse (rdflib)                          \  the project's prefixes
    ```sparql           must run on the shipped graph (in-process)   /  (ekg:, mission:...) are declared
    ```text             an output sample: never run (the fence itself is the mark)

    <!-- docs-test: skip REASON -->           not run; the reason is required and reported
    <!-- docs-test: server -->                every line starts a server: each is run in the background
                                              on a free port (its ``--port N`` replaced, or ``--port``
                                              added after ``serve``) until ``/health`` answers, then stopped
    <!-- docs-test: needs-server -->          run while a server of the shipped graph runs (the
                                              ``live_server`` fixture); ``http://127.0.0.1:8000`` in the
                                              block is replaced by its URL
    <!-- docs-test: given NAME=PATH ... -->   the block names files a reader brings: PATH (in the
                                              repository) is copied to NAME in the copy first

Directives combine with ``;`` (``<!-- docs-test: server; given my.trig=tests/... -->``). A block in any
other language, an untagged fence, or an unknown directive fails :func:`test_every_block_is_run_or_marked`.

A `server` block that installs the package (the README's first command) starts with the session, in a
process of its own (:class:`EarlyRun`); its test waits for the outcome.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from conftest import EARLY_DIR_ENV, free_port

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNABLE = {"bash", "sh", "python", "json", "turtle", "sparql"}
SAMPLE = {"text"}
DIRECTIVES = {"skip", "server", "needs-server", "given"}
BLOCK_SECONDS = 600  # a block that installs the package into a fresh venv takes a minute or two
SERVER_URL = "http://127.0.0.1:8000"

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[^\s`]*)[^`]*$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<body>.*?)\s*-->\s*$")


@dataclass
class Block:
    """One fenced code block: where it is, its language, its text and its docs-test directives."""

    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    directives: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def given(self) -> dict[str, str]:
        pairs = (item.partition("=") for item in self.directives.get("given", "").split())
        return {name: source for name, _, source in pairs}


def code_blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown file, with the directive comment just before it, if any."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence = match["indent"], match["fence"]
        end = i + 1
        while end < len(lines) and not _closes(lines[end], fence):
            end += 1
        body = "\n".join(line[len(indent):] if line.startswith(indent) else line.lstrip()
                         for line in lines[i + 1:end])
        block = Block(path, i + 1, match["lang"].lower(), body + "\n")
        before = i - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        directive = _DIRECTIVE.match(lines[before]) if before >= 0 else None
        if directive:
            body = directive["body"]  # `skip` takes the rest of the comment as its reason
            parts = [body] if body.startswith("skip") else [p.strip() for p in body.split(";") if p.strip()]
            for part in parts:
                name, _, value = part.partition(" ")
                if name not in DIRECTIVES:
                    block.problems.append(f"unknown docs-test directive {name!r} (known: {', '.join(sorted(DIRECTIVES))})")
                block.directives[name] = value.strip()
        blocks.append(block)
        i = end + 1
    return blocks


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


ALL_BLOCKS = [block for path in DOCUMENTS for block in code_blocks(path)]


def test_the_documents_have_code_blocks():
    """A parser that finds nothing would make every other test here pass vacuously."""
    readme = [b for b in ALL_BLOCKS if b.path.name == "README.md"]
    assert len(readme) >= 5 and {"bash", "python"} <= {b.lang for b in readme}


def test_every_block_is_run_or_marked():
    """Each block either runs (its language has a runner below) or says why not, visibly."""
    problems = []
    for block in ALL_BLOCKS:
        problems += [f"{block.id}: {p}" for p in block.problems]
        if "skip" in block.directives and not block.directives["skip"]:
            problems.append(f"{block.id}: `docs-test: skip` needs a reason")
        if block.lang not in RUNNABLE | SAMPLE and "skip" not in block.directives:
            problems.append(f"{block.id}: a ```{block.lang or '(no language)'} block is neither run nor marked: "
                            "use ```bash/```python/```json/```turtle/```sparql (run), ```text (an output sample), "
                            "or <!-- docs-test: skip REASON --> on the line before it")
        for name, source in block.given.items():
            if not name or not (ROOT / source).is_file():
                problems.append(f"{block.id}: `given {name}={source}`: no such file in the repository")
    assert not problems, "\n".join(problems)


# --- running blocks ---------------------------------------------------------------------------------

_IGNORED = shutil.ignore_patterns(".git", ".venv", "node_modules", "__pycache__", "*.egg-info", ".pytest_cache",
                                  ".ruff_cache", "*.pyc")


def repository_copy(target: Path) -> Path:
    """The repository as a reader has it (no venv, no caches), so a block cannot touch the real one."""
    shutil.copytree(ROOT, target, ignore=_IGNORED, symlinks=True)
    return target


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """One copy shared by the blocks that install nothing (they may write files into it). Its ``.venv``
    is this test's venv, as if the reader had run the first command (``.venv/bin/explore-kg`` works)."""
    where = repository_copy(tmp_path_factory.mktemp("docs") / "repo")
    (where / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return where


def installs(text: str) -> bool:
    """Whether a block installs packages: it then runs in a copy of its own, never in this test's venv."""
    return "pip install" in text


def _environment() -> dict[str, str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="120")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("VIRTUAL_ENV", None)
    return env


def _command(block: Block, text: str) -> list[str]:
    if block.lang == "python":
        return [sys.executable, "-c", text]
    return ["bash", "-euo", "pipefail", "-c", text]


def _prepare(block: Block, where: Path) -> None:
    for name, source in block.given.items():
        shutil.copyfile(ROOT / source, where / name)


def _run(block: Block, where: Path, text: str | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(_command(block, text or block.text), cwd=where, env=_environment(), capture_output=True,
                          text=True, timeout=BLOCK_SECONDS, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, (f"{block.id} ({block.lang}) exited {done.returncode}:\n{block.text}\n"
                                  f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}")
    assert "Traceback" not in done.stderr, f"{block.id} printed a traceback:\n{done.stderr[-3000:]}"
    return done


def _with_port(line: str, port: int) -> str:
    """A serve command line on ``port``: its own --port replaced, or --port added after ``serve``."""
    if re.search(r"--port[ =]\d+", line):
        return re.sub(r"--port[ =]\d+", f"--port {port}", line)
    return re.sub(r"(explore-kg serve)\b", rf"\1 --port {port}", line, count=1)


def _serve(block: Block, where: Path, line: str) -> None:
    """Run one serve line in the background until its /health answers, then stop it (its process group)."""
    port = free_port()
    command = _with_port(line, port)
    assert str(port) in command, f"{block.id}: cannot tell where the server of {line!r} listens"
    log = where / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(["bash", "-euo", "pipefail", "-c", command], cwd=where, env=_environment(),
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + BLOCK_SECONDS
        while time.monotonic() < deadline:
            assert process.poll() is None, (f"{block.id}: `{command}` exited {process.returncode}:\n"
                                            f"{log.read_text(errors='replace')[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            pytest.fail(f"{block.id}: `{command}` did not answer /health within {BLOCK_SECONDS} s")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C in a terminal
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")[-3000:]


@pytest.fixture(scope="module")
def shipped_graph():
    import explore_kg

    return explore_kg.open(timeout=60)


def with_prefixes(text: str, declaration: str) -> str:
    """``text`` with the project's prefixes it uses and does not declare itself declared first (docs
    write ``mission:lupex`` the way the README's namespaces section introduces it)."""
    from explore_kg.namespaces import PREFIXES

    declared = {m.lower() for m in re.findall(r"(?:@?prefix)\s+([\w-]*):", text, re.I)}
    used = set(re.findall(r"(?<![\w<#/.-])([A-Za-z][\w-]*):", text))
    missing = sorted(name for name in used if name in PREFIXES and name.lower() not in declared)
    return "".join(declaration.format(f"{name}:", PREFIXES[name]) for name in missing) + text


def _server_lines(text: str) -> list[str]:
    """The commands of a server block: one per line (bash reads the comments), blank lines left out."""
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


RUN_BLOCKS = [b for b in ALL_BLOCKS if b.lang in RUNNABLE and "skip" not in b.directives and not b.problems]


def _run_server_block(block: Block, where: Path) -> None:
    """Each line of a `server` block, in ``where``; a block that installs the package also shows that
    what the Python API section needs comes with it (the first command)."""
    lines = _server_lines(block.text)
    assert lines and all("explore-kg serve" in line for line in lines), (
        f"{block.id}: every line of a `server` block starts a server")
    _prepare(block, where)
    for line in lines:
        _serve(block, where, line)
    if installs(block.text):
        _run(Block(block.path, block.line, "bash", ""), where,
             '.venv/bin/python -c "import explore_kg, pandas; explore_kg.open().df(\'planned-launches\')"')


class EarlyRun:
    """A `server` block that installs the package (the README's first command: a fresh venv, pip
    install, serve) run as written in a fresh copy, started when the session begins, in a process of
    its own: its minute of pip waiting on the network overlaps the other tests instead of holding a
    worker. Its test waits for the outcome. conftest.py starts it (in xdist's controller, or in a
    plain run's only process) and stops it at the end of the session if it still runs."""

    def __init__(self, block: Block, folder: Path):
        self.block, self.outcome = block, folder / (re.sub(r"\W", "-", block.id) + ".json")
        self.started = self.outcome.with_suffix(".started")  # holds the process id

    @classmethod
    def of(cls, block: Block) -> EarlyRun | None:
        folder = os.environ.get(EARLY_DIR_ENV)
        early = cls(block, Path(folder)) if folder else None
        return early if early is not None and early.started.exists() else None

    @classmethod
    def start_all(cls, test_ids: set[str], folder: Path) -> list[subprocess.Popen]:
        """Start each install block whose test is in ``test_ids``; the processes, to stop at the end."""
        started = []
        for block in RUN_BLOCKS:
            if f"tests/test_docs.py::test_code_block_runs_as_written[{block.id}]" in test_ids \
                    and "server" in block.directives and installs(block.text):
                early = cls(block, folder)
                process = subprocess.Popen(
                    [sys.executable, __file__, block.id, str(early.outcome)], cwd=ROOT, env=_environment(),
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                early.started.write_text(str(process.pid))
                started.append(process)
        return started

    def result(self) -> None:
        """Wait for the outcome; fail with its message if the block failed."""
        pid = int(self.started.read_text())
        deadline = time.monotonic() + 2 * BLOCK_SECONDS
        while not self.outcome.exists():
            assert time.monotonic() < deadline, f"{self.block.id}: no outcome within {2 * BLOCK_SECONDS} s"
            assert Path(f"/proc/{pid}").exists() or self.outcome.exists(), (
                f"{self.block.id}: its process ({pid}) ended without an outcome")
            time.sleep(0.5)
        outcome = json.loads(self.outcome.read_text(encoding="utf-8"))
        assert outcome["ok"], outcome["error"]


def _run_early(block_id: str, outcome: Path) -> None:
    """The process EarlyRun.start_all starts: run one block in a fresh copy, write the outcome."""
    import tempfile
    import traceback

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stopped at the end of the session: clean up
    block = next(b for b in RUN_BLOCKS if b.id == block_id)
    where = Path(tempfile.mkdtemp(prefix="explore-kg-first-command-"))
    result = {"ok": True, "error": ""}
    try:
        _run_server_block(block, repository_copy(where / "repo"))
    except BaseException as e:  # noqa: BLE001 - the test reports it
        text = str(e) if isinstance(e, AssertionError) else traceback.format_exc()
        result = {"ok": False, "error": text or f"{block.id}: {type(e).__name__}"}
    finally:
        partial = outcome.with_suffix(".partial")
        partial.write_text(json.dumps(result), encoding="utf-8")
        partial.replace(outcome)  # the test need not wait for the copy (and its venv) to be removed
        shutil.rmtree(where, ignore_errors=True)


@pytest.mark.parametrize("block", RUN_BLOCKS, ids=[b.id for b in RUN_BLOCKS])
def test_code_block_runs_as_written(block: Block, workdir: Path, request):
    if block.lang == "json":
        json.loads(block.text)
        return
    if block.lang == "turtle":
        from rdflib import Graph

        Graph().parse(data=with_prefixes(block.text, "@prefix {} <{}> .\n"), format="turtle")
        return
    if block.lang == "sparql":
        answer = request.getfixturevalue("shipped_graph").query(with_prefixes(block.text, "PREFIX {} <{}>\n"))
        assert answer.kind in ("bindings", "boolean", "graph")
        return
    if "server" in block.directives:
        if installs(block.text):  # builds its own venv: a copy of its own, without the shared .venv link
            early = EarlyRun.of(block)
            if early is not None:  # started at the beginning of the session (see EarlyRun)
                early.result()
                return
            _run_server_block(block, repository_copy(request.getfixturevalue("tmp_path") / "repo"))
        else:
            _run_server_block(block, workdir)
        return
    text = block.text
    if "needs-server" in block.directives:
        text = text.replace(SERVER_URL, request.getfixturevalue("live_server"))
    where = repository_copy(request.getfixturevalue("tmp_path") / "repo") if installs(text) else workdir
    _prepare(block, where)
    _run(block, where, text)


def test_skipped_blocks_say_why():
    """The blocks that do not run, listed with their reasons (shown by ``pytest -rA``)."""
    skipped = {b.id: b.directives["skip"] for b in ALL_BLOCKS if "skip" in b.directives}
    assert all(skipped.values()), skipped
    print("\n".join(f"not run: {where}: {why}" for where, why in skipped.items()))


# --- the command line is documented --------------------------------------------------------------------

def _cli_commands():
    import typer

    from explore_kg.cli import app

    group = typer.main.get_command(app)
    return group, group.commands


def test_every_command_and_option_is_in_the_readme():
    """Like Datasette's test_docs: every command has a row in the README's "Every command and option"
    table naming all its long options, so a new option cannot go undocumented."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Every command and option", 1)[1].split("\n#", 1)[0]
    rows = {}
    for line in table.splitlines():
        for name in re.findall(r"`explore-kg ([\w-]+)", line.split("|")[1] if line.startswith("|") else ""):
            rows[name] = line
    group, commands = _cli_commands()
    missing = []
    for param in group.params:
        missing += [f"explore-kg {o}" for o in param.opts + param.secondary_opts
                    if o.startswith("--") and o != "--help" and f"`explore-kg {o}`" not in table]
    for name, command in commands.items():
        if name not in rows:
            missing.append(f"explore-kg {name} (no row)")
            continue
        for param in command.params:
            missing += [f"explore-kg {name} {o}" for o in param.opts + param.secondary_opts
                        if o.startswith("--") and o != "--help" and f"`{o}`" not in rows[name]]
    assert not missing, "not in README.md's table of commands and options: " + ", ".join(missing)


def test_exit_statuses_are_documented_in_the_readme():
    from explore_kg import cli

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Exit status", 1)[1].split("\n#", 1)[0]
    for code in (cli.EXIT_OK, 1, cli.EXIT_USER_ERROR, cli.EXIT_TIMEOUT, cli.EXIT_INTERRUPTED, cli.EXIT_INTERNAL):
        assert re.search(rf"^\| {code} \|", section, re.M), f"exit status {code} is not in README's table"


def test_ci_runs_the_readmes_test_command_word_for_word():
    """.ci/run runs the README's second command in two lines (apt installs meanwhile): joined by
    " && ", they are the README's command, so what CI runs is what a reader types."""
    readme = [b.text.strip() for b in ALL_BLOCKS if b.path.name == "README.md" and "pytest" in b.text
              and "pip install" in b.text]
    assert len(readme) == 1, readme
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    first = [line for line in lines if line.startswith("python3 -m venv .venv")]
    second = [line for line in lines if line.startswith(".venv/bin/ruff check")]
    assert len(first) == len(second) == 1, (first, second)
    assert f"{first[0]} && {second[0]}" == readme[0]


if __name__ == "__main__":  # EarlyRun's process: python tests/test_docs.py BLOCK-ID OUTCOME.json
    _run_early(sys.argv[1], Path(sys.argv[2]))
