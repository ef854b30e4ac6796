"""lm_eval_jaster.code_exec (the public entry point, an alias of lm_eval_jaster.sandbox): verdicts, limits, the
permission gate, batches and pylint, in both sandbox modes.

Containment is asserted on the host (files, processes, sockets), never only on the verdict; the attacks that
only the bwrap sandbox stops are in test_sandbox_host.py, verdict forgery in test_sandbox_verdict.py.
"""

from __future__ import annotations

import os
import socket
import time

import pytest

from lm_eval_jaster import code_exec, sandbox
from lm_eval_jaster.code_exec import CodeExecutionNotAllowed, Limits, run_many, run_tests
from test_sandbox_host import MODES, ProcessWatch, run_watched

FAST = Limits(timeout_s=5, cpu_s=5)


@pytest.fixture(autouse=True)
def allowed(monkeypatch):
    monkeypatch.setenv(code_exec.ALLOW_ENV, "1")
    monkeypatch.delenv("JASTER_SANDBOX", raising=False)


# --- the entry point ----------------------------------------------------------------------------------------------

def test_public_entry_point_defaults_to_bwrap():
    result = code_exec.run_tests("def add(a, b):\n    return a + b", ["assert add(1, 2) == 3"])
    assert result.passed and result.reason == "passed"
    assert result.isolation[0] == "bwrap" and "netns" in result.isolation and "pidns" in result.isolation
    assert code_exec.run_tests("def add(a, b):\n    return a - b", ["assert add(1, 2) == 3"]).passed is False
    assert code_exec.run_tests is sandbox.run_tests and code_exec.ExecResult is sandbox.ExecResult


# --- verdicts -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_correct_solution_passes(mode):
    result, _ = run_watched("def add(a, b):\n    return a + b", ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"],
                            mode)
    assert result.passed and result.reason == "passed"
    assert result.isolation[0] == mode and result.isolation[-1] == "audit-hook"


@pytest.mark.parametrize("mode", MODES)
def test_wrong_answer_fails_with_the_failing_test(mode):
    result, _ = run_watched("def add(a, b):\n    return a - b", ["assert add(0, 0) == 0", "assert add(1, 2) == 3"],
                            mode)
    assert not result.passed and result.reason == "test 2 raised AssertionError"


@pytest.mark.parametrize("mode", MODES)
def test_errors_in_the_solution_fail(mode):
    assert run_tests("def f(:\n    pass", [], FAST, mode=mode).reason.startswith("solution raised SyntaxError")
    assert run_tests("raise ValueError('x')", [], FAST, mode=mode).reason == "solution raised ValueError: x"
    exited = run_tests("import sys\nsys.exit(0)", [], FAST, mode=mode)
    assert not exited.passed and exited.reason == "solution raised SystemExit: 0"
    gone = run_tests("import os\nos._exit(0)", [], FAST, mode=mode)
    assert not gone.passed and gone.reason == "exited without a result (exit status 0)"
    bad_test = run_tests("x = 1", ["assert x ==", "assert x == 1"], FAST, mode=mode)
    assert bad_test.reason.startswith("test 1 raised SyntaxError")


@pytest.mark.parametrize("mode", MODES)
def test_one_namespace_recursion_imports_and_main_guard(mode):
    code = ("import math\nfrom collections import namedtuple\nfrom dataclasses import dataclass\n"
            "Point = namedtuple('Point', 'x y')\n@dataclass\nclass Box:\n    w: int = 2\n"
            "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
            "def root(n):\n    return math.isqrt(n)\nif __name__ == '__main__':\n    raise SystemExit(1)")
    tests = ["assert fib(10) == 55", "assert root(fib(12)) == 12", "assert Point(1, 2).y == 2 and Box().w == 2"]
    assert run_tests(code, tests, FAST, mode=mode).passed


@pytest.mark.parametrize("mode", MODES)
def test_the_environment_packages_are_importable(mode):
    """Model code may import what the evaluator's environment has (as llm-jp-eval's in-process exec could)."""
    pytest.importorskip("numpy")
    result = run_tests("import numpy as np\ndef f():\n    return int(np.arange(5).sum())", ["assert f() == 10"],
                       Limits(timeout_s=30, cpu_s=30), mode=mode)
    assert result.passed, result.reason


@pytest.mark.parametrize("mode", MODES)
def test_files_in_the_work_directory_are_allowed_and_do_not_outlive_the_sample(mode, tmp_path, monkeypatch):
    host_tmp = tmp_path / "host_tmp"
    host_tmp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(host_tmp))  # where process mode creates its work folder
    code = ("import tempfile, os\nopen('notes.txt', 'w').write('x')\nos.mkdir('d')\nopen('d/y', 'w').close()\n"
            "fd, name = tempfile.mkstemp()\nos.close(fd)\nos.remove(name)\n"
            "def f():\n    return open('notes.txt').read()")
    result = run_tests(code, ["assert f() == 'x'"], FAST, mode=mode)
    assert result.passed, result.reason
    assert list(host_tmp.iterdir()) == []


@pytest.mark.parametrize("mode", MODES)
def test_environment_is_clean(mode, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("HF_TOKEN", "hf_secret_token_value")
    code = ("import os, sys\ndef leaked():\n    return sorted(k for k in os.environ if 'PROXY' in k.upper() "
            "or 'TOKEN' in k.upper())\ndef home_is_cwd():\n    return os.environ['HOME'] == os.getcwd()\n"
            "def isolated():\n    return sys.flags.isolated == 1 and sys.flags.no_site == 1")
    assert run_tests(code, ["assert leaked() == []", "assert home_is_cwd()", "assert isolated()"], FAST,
                     mode=mode).passed


@pytest.mark.parametrize("mode", MODES)
def test_output_flood_is_discarded(mode):
    result = run_tests("import sys\nfor _ in range(200000):\n    print('x' * 100)\n    sys.stderr.write('y')\n"
                       "def f():\n    return 1", ["assert f() == 1"], Limits(timeout_s=30, cpu_s=30), mode=mode)
    assert result.passed, result.reason


@pytest.mark.parametrize("mode", MODES)
def test_a_denied_action_fails_the_sample_even_when_caught(mode):
    code = "import os\ntry:\n    os.fork()\nexcept Exception:\n    pass\ndef f():\n    return 1"
    result = run_tests(code, ["assert f() == 1"], FAST, mode=mode)
    assert not result.passed and result.reason == "sandbox: denied os.fork"


def test_results_are_cached_per_code_tests_limits_and_mode():
    first = run_tests("x = 1", ["assert x == 1"], FAST)
    assert run_tests("x = 1", ["assert x == 1"], FAST) is first
    assert run_tests("x = 1", ["assert x == 1"], FAST, mode="process") is not first


def test_bad_arguments():
    with pytest.raises(TypeError):
        run_tests("x = 1", "assert x == 1", FAST)
    with pytest.raises(TypeError):
        run_tests(b"x = 1", [], FAST)
    with pytest.raises(ValueError, match="jaster_sandbox / JASTER_SANDBOX"):
        run_tests("x = 1", [], FAST, mode="docker")


# --- limits -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["while True:\n    pass", "import time\ntime.sleep(60)"], ids=["busy", "sleep"])
@pytest.mark.parametrize("mode", MODES)
def test_infinite_loop_is_killed_at_the_wall_clock_timeout(mode, code):
    limits = Limits(timeout_s=2, cpu_s=10)
    started = time.monotonic()
    result, watch = run_watched(code, [], mode, limits)
    assert time.monotonic() - started < limits.timeout_s + 3
    assert not result.passed and result.reason == "timeout after 2s"
    assert watch.survivors() == []


@pytest.mark.parametrize("mode", MODES)
def test_cpu_limit_kills_a_runaway_even_without_the_wall_clock(mode):
    result, watch = run_watched("while True:\n    pass", [], mode, Limits(timeout_s=60, cpu_s=1))
    assert not result.passed and result.duration_s < 30, result
    assert result.reason in ("killed by SIGXCPU (CPU time limit)", "killed by SIGKILL (CPU time limit)")
    assert watch.survivors() == []


@pytest.mark.parametrize("mode", MODES)
def test_huge_memory_allocation_is_refused(mode):
    limits = Limits(timeout_s=20, cpu_s=20, memory_bytes=512 * 1024 ** 2)
    result = run_tests("x = bytearray(64 * 2**30)", [], limits, mode=mode)
    assert not result.passed and result.reason == "solution raised MemoryError"
    result = run_tests("chunks = []\nwhile True:\n    chunks.append(bytearray(64 * 2**20))", [], limits, mode=mode)
    assert not result.passed and result.reason == "solution raised MemoryError", result.reason
    assert result.max_rss_kb is not None and result.max_rss_kb < 512 * 1024  # stopped at the limit


@pytest.mark.parametrize("mode", MODES)
def test_disk_use_is_bounded(mode):
    big = run_tests("open('big', 'wb').write(b'x' * (64 * 2**20))", [], FAST, mode=mode)  # RLIMIT_FSIZE = 16 MiB
    assert not big.passed and big.reason.startswith("solution raised OSError"), big.reason
    many = run_tests("for i in range(1000):\n    open('f%d' % i, 'w').write('x')", [], FAST, mode=mode)
    assert many.reason == "sandbox: denied open for writing (more than 64 files or directories written)"
    dirs = run_tests("import os\nfor i in range(1000):\n    os.mkdir('d%d' % i)", [], FAST, mode=mode)
    assert dirs.reason == "sandbox: denied mkdir (more than 64 files or directories written)"


def test_the_bwrap_work_directory_is_a_bounded_tmpfs():
    limits = Limits(timeout_s=20, cpu_s=20, work_dir_bytes=8 * 1024 ** 2, created_files=100)
    result = run_tests("for i in range(4):\n    open('f%d' % i, 'wb').write(b'x' * 4 * 2**20)", [], limits,
                       mode="bwrap")
    assert not result.passed and "No space left on device" in result.reason, result.reason


@pytest.mark.parametrize("mode", MODES)
def test_limits_cannot_be_raised_and_native_code_is_unavailable(mode):
    raised = run_tests("import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))", [], FAST, mode=mode)
    assert raised.reason == "sandbox: denied resource.setrlimit"
    native = run_tests("import ctypes\nctypes.CDLL(None).fork()", [], FAST, mode=mode)
    assert native.reason == "solution raised ImportError: sandbox: import of ctypes denied"


# --- containment that both modes provide (the audit hook; bwrap adds the kernel) ----------------------------------

FORK_BOMBS = {
    "os.fork": "import os\nwhile True:\n    os.fork()",
    "subprocess": "import subprocess\nwhile True:\n    subprocess.Popen(['sleep', '30'])",
    "multiprocessing": ("import multiprocessing, time\ndef spin():\n    time.sleep(30)\n"
                        "while True:\n    multiprocessing.Process(target=spin).start()"),
    "posix_spawn": "import os\nwhile True:\n    os.posix_spawn('/bin/sleep', ['sleep', '30'], {})",
    "spawnv": "import os\nwhile True:\n    os.spawnv(os.P_NOWAIT, '/bin/sleep', ['sleep', '30'])",
    "pty": "import pty\npty.fork()",
    "exec": "import os\nos.execv('/bin/sleep', ['sleep', '30'])",
    "thread": "import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, args=(30,)).start()",
}


@pytest.mark.parametrize("name", list(FORK_BOMBS))
@pytest.mark.parametrize("mode", MODES)
def test_fork_bomb_creates_no_process(mode, name):
    result, watch = run_watched(FORK_BOMBS[name], [], mode)
    assert not result.passed
    assert watch.peak <= watch.baseline, f"{watch.peak} processes in the sandbox"
    assert watch.survivors() == []
    assert result.reason.startswith(("sandbox: denied", "solution raised ImportError: sandbox")), result.reason


WRITES = {
    "open": "open({target!r}, 'w').write('pwned')",
    "append": "open({target!r}, 'a').write('pwned')",
    "os.open": "import os\nos.close(os.open({target!r}, os.O_WRONLY | os.O_CREAT))",
    "pathlib": "import pathlib\npathlib.Path({target!r}).write_text('pwned')",
    "shutil.copy": "import shutil\nopen('a', 'w').close()\nshutil.copy('a', {target!r})",
    "rename out": "import os\nopen('a', 'w').close()\nos.rename('a', {target!r})",
    "relative ..": "import os\nrel = os.path.relpath({target!r})\nopen(rel, 'w').write('pwned')",
    "dir_fd": ("import os\nd = os.open(os.path.dirname({target!r}), os.O_RDONLY)\n"
               "os.close(os.open(os.path.basename({target!r}), os.O_WRONLY | os.O_CREAT, dir_fd=d))"),
    "mkdir": "import os\nos.mkdir({target!r})",
}


@pytest.mark.parametrize("name", list(WRITES))
@pytest.mark.parametrize("mode", MODES)
def test_write_outside_the_work_directory_leaves_the_host_untouched(mode, name, tmp_path):
    target = tmp_path / "outside.txt"
    result = run_tests(WRITES[name].format(target=str(target)), [], FAST, mode=mode)
    assert not target.exists() and list(tmp_path.iterdir()) == []
    assert not result.passed
    if mode == "process":  # bwrap: the host folder does not exist in the sandbox (an OSError, or the hook first)
        assert result.reason.startswith("sandbox: denied"), result.reason


DELETES = {
    "os.remove": "import os\nos.remove({victim!r})",
    "pathlib.unlink": "import pathlib\npathlib.Path({victim!r}).unlink()",
    "truncate": "import os\nos.truncate({victim!r}, 0)",
    "rename in": "import os\nos.rename({victim!r}, 'stolen')",
    "rmtree": "import shutil\nshutil.rmtree({folder!r})",
    "chmod": "import os\nos.chmod({victim!r}, 0o4777)",
    "utime": "import os\nos.utime({victim!r}, (0, 0))",
}


@pytest.mark.parametrize("name", list(DELETES))
@pytest.mark.parametrize("mode", MODES)
def test_deleting_or_changing_host_files_is_impossible(mode, name, tmp_path):
    folder = tmp_path / "keep"
    folder.mkdir()
    victim = folder / "victim.txt"
    victim.write_text("precious")
    before = victim.stat()
    result = run_tests(DELETES[name].format(victim=str(victim), folder=str(folder)), [], FAST, mode=mode)
    after = victim.stat()
    assert victim.read_text() == "precious"
    assert (after.st_mode, after.st_uid, after.st_mtime_ns, after.st_ctime_ns) == (
        before.st_mode, before.st_uid, before.st_mtime_ns, before.st_ctime_ns)
    assert not result.passed


@pytest.fixture
def listener():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.5)
    yield server
    server.close()


NETWORK = {
    "create_connection": "import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)",
    "raw socket": ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
                   "s.settimeout(2)\ns.connect(('127.0.0.1', {port}))"),
    "urllib": "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{port}/', timeout=2)",
    "http.client": ("import http.client\nc = http.client.HTTPConnection('127.0.0.1', {port}, timeout=2)\n"
                    "c.request('GET', '/')"),
}


@pytest.mark.parametrize("name", list(NETWORK))
@pytest.mark.parametrize("mode", MODES)
def test_network_connection_never_arrives(mode, name, listener):
    port = listener.getsockname()[1]
    result = run_tests(NETWORK[name].format(port=port), [], FAST, mode=mode)
    with pytest.raises(socket.timeout):
        connection, _ = listener.accept()
        connection.close()
    assert not result.passed and result.reason.startswith("sandbox: denied"), result.reason


@pytest.mark.parametrize("mode", MODES)
def test_evaluator_cannot_be_signalled_through_the_audited_calls(mode):
    for code in ["import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
                 "import os, signal\nos.killpg(os.getpgid(os.getppid()), signal.SIGKILL)",
                 "import os, signal\nsignal.pidfd_send_signal(os.pidfd_open(os.getppid()), signal.SIGKILL)"]:
        assert not run_tests(code, [], FAST, mode=mode).passed
    os.kill(os.getpid(), 0)  # still alive


# --- permission gate ----------------------------------------------------------------------------------------------

def test_refuses_without_permission(monkeypatch, tmp_path):
    monkeypatch.delenv(code_exec.ALLOW_ENV)
    monkeypatch.delenv(code_exec.HF_ALLOW_ENV, raising=False)
    marker = tmp_path / "ran"
    watch = ProcessWatch()
    with pytest.raises(CodeExecutionNotAllowed, match="--confirm_run_unsafe_code"):
        run_tests(f"open({str(marker)!r}, 'w')", [], FAST, on_start=watch.on_start)
    with pytest.raises(CodeExecutionNotAllowed):
        run_many([("x = 1", [])])
    assert watch.root is None and not marker.exists()
    monkeypatch.setenv(code_exec.ALLOW_ENV, "true")  # the settings table's boolean spellings
    assert run_tests("x = 2", ["assert x == 2"], FAST).passed
    monkeypatch.delenv(code_exec.ALLOW_ENV)
    monkeypatch.setenv(code_exec.HF_ALLOW_ENV, "1")  # lm-eval's own code tasks' switch is accepted too
    assert run_tests("x = 1", ["assert x == 1"], FAST).passed


def test_lm_eval_confirmation_opens_the_gate(monkeypatch):
    """Called from lm-eval's evaluate(confirm_run_unsafe_code=True): allowed without any environment variable."""
    monkeypatch.delenv(code_exec.ALLOW_ENV)
    monkeypatch.delenv(code_exec.HF_ALLOW_ENV, raising=False)
    namespace = {"__name__": "lm_eval.evaluator", "allowed": code_exec.execution_allowed}
    exec("def evaluate(confirm_run_unsafe_code=False):\n    return allowed()", namespace)
    assert namespace["evaluate"](confirm_run_unsafe_code=True) is True
    assert namespace["evaluate"](confirm_run_unsafe_code=False) is False
    assert code_exec.execution_allowed() is False


def test_permission_error_is_a_jaster_error():
    from lm_eval_jaster.errors import JasterError

    assert issubclass(CodeExecutionNotAllowed, JasterError)


# --- batch and pylint ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_run_many_keeps_order(mode):
    jobs = [(f"def f():\n    return {i}", [f"assert f() == {i if i % 2 else -1}"]) for i in range(6)]
    results = run_many(jobs, FAST, workers=2, mode=mode)
    assert [r.passed for r in results] == [i % 2 == 1 for i in range(6)]


@pytest.mark.parametrize("mode", MODES)
def test_pylint_check(mode):
    pytest.importorskip("pylint")
    sandbox.configure(mode)
    try:
        assert code_exec.pylint_check("def add(a, b):\n    return a + b") is True
        assert code_exec.pylint_check("def f():\n    return undefined_name") is False  # E0602
        assert code_exec.pylint_check("def f(:\n") is False  # E0001 syntax error
        assert code_exec.pylint_check("import os\nx = 1\n") is True  # warnings/conventions do not count
    finally:
        sandbox.configure("bwrap")


def test_pylint_never_runs_the_code(tmp_path):
    pytest.importorskip("pylint")
    marker = tmp_path / "ran"
    assert code_exec.pylint_check(f"open({str(marker)!r}, 'w').write('x')\n") is True
    assert not marker.exists()


def test_parse_tests():
    assert code_exec.parse_tests("['assert f(1) == 2', \"assert g('a')\"]") == ["assert f(1) == 2", "assert g('a')"]
    with pytest.raises(ValueError, match="not a Python list literal"):
        code_exec.parse_tests("assert f(1) == 2")
    with pytest.raises(ValueError, match="not a list of strings"):
        code_exec.parse_tests("[1, 2]")
