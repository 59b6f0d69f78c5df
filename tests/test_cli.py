"""The command line as a user meets it: the real ``explore-kg`` command run as a subprocess.

Every user error is one line on stderr with the documented exit status (README "Exit status"), never
a traceback; in-process queries have the server's deadline and stop on Ctrl-C. One test per problem
found in the first hour (issue 14), named after it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import free_port, ignores_sigint, start_server

import explore_kg
from explore_kg import cli
from explore_kg.engine import DEFAULT_TIMEOUT

_SCRIPT = Path(sys.executable).with_name("explore-kg")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "explore_kg"]
# Three copies of the graph joined with each other: ~3e10 rows to count, far beyond any deadline here.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def explore_kg_command(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="120")
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL, **kwargs)


def assert_user_error(done: subprocess.CompletedProcess, status: int, *words: str) -> None:
    """One line on stderr naming the problem, the documented status, no traceback."""
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == status, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


# --- user errors -----------------------------------------------------------------------------------

def test_serve_port_99999_is_refused_not_served_elsewhere():
    started = time.monotonic()
    done = explore_kg_command("serve", "--port", "99999")
    assert_user_error(done, 2, "--port 99999", "1 to 65535")
    assert time.monotonic() - started < 30  # refused before loading anything


def test_serve_on_a_busy_port_says_so_before_loading():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = explore_kg_command("serve", "--port", str(port))
    assert_user_error(done, 2, f"cannot listen on 127.0.0.1:{port}")


def test_serve_on_an_unknown_host_says_so():
    done = explore_kg_command("serve", "--host", "no-such-host.invalid", "--port", str(free_port()))
    assert_user_error(done, 2, "cannot listen on no-such-host.invalid")


def test_sparql_on_an_unreachable_endpoint_is_one_line_not_a_traceback():
    done = explore_kg_command("sparql", "-e", "http://127.0.0.1:9", "ASK { ?s ?p ?o }")
    assert_user_error(done, 2, "cannot reach http://127.0.0.1:9")


def test_endpoint_that_is_not_a_url_is_refused():
    done = explore_kg_command("query", "signatories", "-e", "localhost:8000")
    assert_user_error(done, 2, "--endpoint", "http://")


def test_export_below_a_file_is_one_line_not_file_exists_error(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    done = explore_kg_command("export", "-o", str(tmp_path / "file" / "x.ttl"))
    assert_user_error(done, 2, "is a file, not a directory")
    done = explore_kg_command("diagram", "-o", str(tmp_path))
    assert_user_error(done, 2, "is a directory")


def test_sparql_with_a_missing_query_file_says_no_such_file_not_expected_construct():
    done = explore_kg_command("sparql", "nonexistent.rq")
    assert_user_error(done, 2, "no such query file: nonexistent.rq")
    assert "CONSTRUCT" not in done.stderr
    done = explore_kg_command("sparql", "queries/no-such-dir/q.rq")
    assert_user_error(done, 2, "no such query file")
    done = explore_kg_command("sparql", "src")
    assert_user_error(done, 2, "is a directory")


def test_sparql_reads_a_file_and_standard_input(tmp_path):
    query = "ASK { ?s a <https://w3id.org/explore-kg/ontology#Mission> }"
    (tmp_path / "my queries").mkdir()
    for path in (tmp_path / "q.rq", tmp_path / "my queries" / "q.rq"):  # a space in the path is still a path
        path.write_text(query, encoding="utf-8")
        done = explore_kg_command("sparql", str(path), "-f", "json")
        assert done.returncode == 0 and '"boolean":true' in done.stdout.replace(" ", ""), done.stderr
    done = subprocess.run([*COMMAND, "sparql", "-", "-f", "json"], input=query, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and '"boolean":true' in done.stdout.replace(" ", ""), done.stderr


def test_malformed_query_is_one_line_with_its_position():
    done = explore_kg_command("sparql", "SELECT ?x WHERE { ?x ")
    assert_user_error(done, 2, "malformed query")


@pytest.mark.parametrize("param, words", [
    ("mission", ["NAME=VALUE", "'mission'"]),
    ("=LUPEX", ["NAME=VALUE"]),
    ("nosuch=1", ["no parameter 'nosuch'"]),
    ("mission=Hayabusa9", ["unknown label 'Hayabusa9'"]),
])
def test_bad_query_parameters_are_one_line_exit_2(param, words):
    done = explore_kg_command("query", "partners-of-mission", "-p", param)
    assert_user_error(done, 2, *words)


def test_unknown_saved_query_unknown_option_and_bad_values_exit_2():
    assert_user_error(explore_kg_command("query", "no-such-query"), 2, "no saved query named 'no-such-query'")
    assert_user_error(explore_kg_command("query", "signatories", "--bogus"), 2, "--bogus", "explore-kg query --help")
    assert_user_error(explore_kg_command("sparql", "ASK {}", "--timeout", "-1"), 2, "--timeout")
    assert_user_error(explore_kg_command("sparql"), 2, "Missing argument")


def test_version_option_and_command():
    for args in (["--version"], ["version"]):
        done = explore_kg_command(*args)
        assert done.returncode == 0 and explore_kg.__version__ in done.stdout, done


def test_help_shows_no_bool_placeholder_for_flags():
    """Typer's rich help printed ``--iris <bool>`` as if the flag took a value. Each command's help in this
    process (the same text as the command's but for line wrapping; 13 processes took ~8 s of CPU), and
    one from the real command."""
    from typer.testing import CliRunner

    group = cli.typer.main.get_command(cli.app)
    for args in ([], *([name] for name in group.commands)):
        done = CliRunner().invoke(cli.app, [*args, "--help"], prog_name="explore-kg", env={"COLUMNS": "120"})
        assert done.exit_code == 0 and done.output.startswith("Usage: explore-kg"), done.output
        assert "<bool>" not in done.output and "BOOLEAN" not in done.output, done.output
    real = explore_kg_command("sparql", "--help")
    assert real.returncode == 0 and "--iris " in real.stdout and "<bool>" not in real.stdout, real.stdout


def test_in_process_timeout_defaults_to_the_servers():
    group = cli.typer.main.get_command(cli.app)
    for name in ("serve", "query", "sparql"):
        (timeout,) = [p for p in group.commands[name].params if p.name == "timeout"]
        assert timeout.default == DEFAULT_TIMEOUT


def test_an_internal_error_is_a_traceback_with_a_request_to_report_it(monkeypatch, capsys):
    import explore_kg.api

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(explore_kg.api, "list_cli", broken)
    with pytest.raises(SystemExit) as stop:
        cli.app(["queries"])
    assert stop.value.code == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: a bug" in err and "please report it" in err


# --- the deadline and Ctrl-C --------------------------------------------------------------------------

def test_runaway_sparql_is_stopped_at_the_deadline_with_status_3():
    started = time.monotonic()
    process = subprocess.Popen([*COMMAND, "sparql", RUNAWAY, "--timeout", "1"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 3, err
    assert "did not finish within the time limit of 1 s" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and out == ""
    assert time.monotonic() - started < 60
    time.sleep(0.2)
    assert _group_gone(process.pid), "the query's process outlived the command"


def test_runaway_saved_query_parameters_still_bind_before_the_deadline():
    """The deadline is per query: binding a label (one query) and answering (another) both fit in it."""
    done = explore_kg_command("query", "partners-of-mission", "-p", "mission=LUPEX", "--timeout", "2", "-f", "csv")
    assert done.returncode == 0 and "isro" in done.stdout, done.stderr


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for the signal state")
def test_processes_the_tests_start_get_ctrl_c_as_from_a_terminal():
    """The cause of the Ctrl-C tests' CI hangs: a run started in the background by a script (``.ci/run &``)
    ignores SIGINT, and so did every command it started. conftest gives each pytest process Ctrl-C back:
    a child started here, from any thread, neither ignores nor blocks SIGINT, and Python in it raises
    KeyboardInterrupt. (Started under ``bash -c 'pytest ... &'`` without that, this test fails.)"""
    probe = ("import json, signal; print(json.dumps([signal.getsignal(signal.SIGINT) is signal.default_int_handler, "
             "[l.split()[1] for l in open('/proc/self/status') if l.startswith(('SigIgn:', 'SigBlk:'))]]))")
    bit = 1 << (signal.SIGINT - 1)
    answers = []

    def start() -> None:
        answers.append(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60))

    start()
    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    assert len(answers) == 2
    for done in answers:
        handled, masks = json.loads(done.stdout)
        assert handled and len(masks) == 2 and not any(int(m, 16) & bit for m in masks), done.stdout + done.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to see the query's process")
def test_ctrl_c_stops_a_runaway_query_with_one_line_and_status_130():
    ignored_here = ignores_sigint(os.getpid())  # (said if the test fails; conftest un-ignores it: the CI hangs)
    process = subprocess.Popen([*COMMAND, "sparql", RUNAWAY, "--timeout", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not any(ignores_sigint(c) for c in _children(process.pid)) and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()  # (waiting for the query's process)
            time.sleep(0.1)
        assert _children(process.pid), "the query never started"
        time.sleep(0.3)  # (into the query itself)
        stopped = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends: the whole process group
        try:
            out, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"Ctrl-C did not stop the command within 60 s (SIGINT ignored by the test process: "
                        f"{ignored_here})")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert time.monotonic() - stopped < 30
    assert process.returncode == 130 and err == "interrupted\n", (process.returncode, err)
    time.sleep(0.2)
    assert _group_gone(process.pid), "the query's process outlived Ctrl-C"


def test_remote_timeout_is_status_3_too():
    with start_server("--timeout", "1") as server:
        done = explore_kg_command("sparql", "-e", server.url, RUNAWAY)
    assert_user_error(done, 3, "time limit")


def test_output_cut_short_by_head_ends_quietly():
    """`explore-kg export | head -1`: the reader goes away; no BrokenPipeError traceback."""
    process = subprocess.Popen([*COMMAND, "export", "-f", "ntriples"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.read(100)
    process.stdout.close()  # the dump is far larger than a pipe's buffer: the next write fails
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0 and "Traceback" not in err and "BrokenPipe" not in err, err
