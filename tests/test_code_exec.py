"""The code sandbox (lm_eval_jaster.code_exec): verdicts, and containment asserted on the system, not on the score.

Every containment test runs twice: with the isolation the machine offers ("auto": uid change and/or namespaces when
available) and with the audit hook and resource limits alone ("hook"), so the hook is shown to contain each case
by itself. Each case must be contained (checked on the file system, the process table or a listening socket) AND
scored as a failure.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from lm_eval_jaster import code_exec
from lm_eval_jaster.code_exec import CodeExecutionNotAllowed, Limits, run_many, run_tests

FAST = Limits(timeout_s=3, cpu_s=3)
MODES = ["auto", "hook"]


@pytest.fixture(autouse=True)
def allowed(monkeypatch):
    monkeypatch.setenv(code_exec.ALLOW_ENV, "1")
    monkeypatch.delenv(code_exec.ISOLATION_ENV, raising=False)


def _session_members(sid: int) -> list[int]:
    """PIDs whose session id is ``sid`` (the sandbox child starts its own session: sid = its pid)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid:
            found.append(int(entry))
    return found


class SessionWatch:
    """Samples the number of processes in the sandbox's session while it runs."""

    def __init__(self) -> None:
        self.sid: int | None = None
        self.peak = 0
        self.cwd: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def on_start(self, pid: int) -> None:
        self.sid = pid
        try:
            self.cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            pass
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, len(_session_members(self.sid)))
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def _run(code: str, tests=(), mode: str = "auto", limits: Limits = FAST):
    watch = SessionWatch()
    try:
        result = run_tests(code, list(tests), limits, isolation=mode, on_start=watch.on_start)
    finally:
        watch.stop()
    return result, watch


def _baseline(result) -> int:
    """Processes the sandbox itself consists of: python, plus unshare when namespaces are used."""
    return 2 if "pidns" in result.isolation else 1


# --- verdicts -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_correct_solution_passes(mode):
    result, _ = _run("def add(a, b):\n    return a + b", ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"], mode)
    assert result.passed and result.reason == "passed"
    assert result.isolation[:2] == ("audit-hook", "rlimits")


@pytest.mark.parametrize("mode", MODES)
def test_wrong_answer_fails(mode):
    result, _ = _run("def add(a, b):\n    return a - b", ["assert add(0, 0) == 0", "assert add(1, 2) == 3"], mode)
    assert not result.passed and result.reason == "test 2 raised AssertionError"


def test_errors_in_the_solution_fail():
    assert run_tests("def f(:\n    pass", [], FAST).reason.startswith("solution raised SyntaxError")
    assert run_tests("raise ValueError('x')", [], FAST).reason == "solution raised ValueError: x"
    assert not run_tests("import sys\nsys.exit(0)", [], FAST).passed  # SystemExit is a failure, not a pass
    exited = run_tests("import os\nos._exit(0)", [], FAST)  # no verdict written: never a pass
    assert not exited.passed and exited.reason.startswith("exited without a result")


def test_one_namespace_recursion_imports_and_main_guard():
    code = ("import math\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
            "def root(n):\n    return math.isqrt(n)\nif __name__ == '__main__':\n    raise SystemExit(1)")
    assert run_tests(code, ["assert fib(10) == 55", "assert root(fib(12)) == 12"], FAST).passed


def test_files_inside_the_sandbox_folder_are_allowed_and_removed_afterwards():
    code = ("import tempfile, os\nopen('notes.txt', 'w').write('x')\nos.mkdir('d')\nopen('d/y', 'w').close()\n"
            "fd, name = tempfile.mkstemp()\nos.close(fd)\nos.remove(name)\ndef f():\n    return open('notes.txt').read()")
    result, watch = _run(code, ["assert f() == 'x'"])
    assert result.passed, result.reason
    assert watch.cwd and not Path(watch.cwd).exists()


def test_environment_is_clean(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("HF_TOKEN", "secret")
    code = ("import os, sys\ndef leaked():\n    return sorted(k for k in os.environ if 'PROXY' in k.upper() "
            "or 'TOKEN' in k.upper())\ndef home_is_cwd():\n    return os.environ['HOME'] == os.getcwd()\n"
            "def isolated():\n    return sys.flags.isolated == 1 and sys.flags.ignore_environment == 1")
    assert run_tests(code, ["assert leaked() == []", "assert home_is_cwd()", "assert isolated()"], FAST).passed


def test_output_flood_is_drained_and_bounded():
    result = run_tests("for _ in range(200000):\n    print('x' * 100)\ndef f():\n    return 1", ["assert f() == 1"],
                       Limits(timeout_s=20, cpu_s=20))
    assert result.passed, result.reason


def test_a_denied_action_fails_the_sample_even_when_caught():
    code = "import os\ntry:\n    os.fork()\nexcept Exception:\n    pass\ndef f():\n    return 1"
    result = run_tests(code, ["assert f() == 1"], FAST)
    assert not result.passed and result.reason == "sandbox: denied os.fork"


# --- containment ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["while True:\n    pass", "import time\ntime.sleep(60)"], ids=["busy", "sleep"])
@pytest.mark.parametrize("mode", MODES)
def test_infinite_loop_returns_within_the_timeout(mode, code):
    started = time.monotonic()
    result, watch = _run(code, mode=mode)
    assert time.monotonic() - started < FAST.timeout_s + 3
    assert not result.passed and ("timeout" in result.reason or "killed" in result.reason)
    assert _session_members(watch.sid) == []  # the whole group was killed


FORK_BOMBS = {
    "os.fork": "import os\nwhile True:\n    os.fork()",
    "subprocess": "import subprocess\nwhile True:\n    subprocess.Popen(['sleep', '30'])",
    "multiprocessing": ("import multiprocessing, time\ndef spin():\n    time.sleep(30)\n"
                        "while True:\n    multiprocessing.Process(target=spin).start()"),
    "posix_spawn": "import os\nwhile True:\n    os.posix_spawn('/bin/sleep', ['sleep', '30'], {})",
    "spawnv": "import os\nwhile True:\n    os.spawnv(os.P_NOWAIT, '/bin/sleep', ['sleep', '30'])",
    "pty": "import pty\npty.fork()",
    "exec": "import os\nos.execv('/bin/sleep', ['sleep', '30'])",
}


@pytest.mark.parametrize("name", list(FORK_BOMBS))
@pytest.mark.parametrize("mode", MODES)
def test_fork_bomb_creates_no_process(mode, name):
    result, watch = _run(FORK_BOMBS[name], mode=mode)
    assert not result.passed
    assert watch.peak <= _baseline(result), f"{watch.peak} processes in the sandbox session"
    assert _session_members(watch.sid) == []
    assert result.reason.startswith(("sandbox: denied", "solution raised ImportError: sandbox"))


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
    "opener": ("import os\nd = os.open(os.path.dirname({target!r}), os.O_RDONLY)\n"
               "open(os.path.basename({target!r}), 'w', opener=lambda p, f: os.open(p, f, dir_fd=d)).write('x')"),
    "mkdir": "import os\nos.mkdir({target!r})",
}


@pytest.mark.parametrize("name", list(WRITES))
@pytest.mark.parametrize("mode", MODES)
def test_write_outside_the_sandbox_is_denied(mode, name, tmp_path):
    target = str(tmp_path / "outside.txt")
    result, _ = _run(WRITES[name].format(target=target), mode=mode)
    assert not os.path.exists(target)
    assert not result.passed and result.reason.startswith("sandbox: denied"), result.reason


DELETES = {
    "os.remove": "import os\nos.remove({victim!r})",
    "pathlib.unlink": "import pathlib\npathlib.Path({victim!r}).unlink()",
    "truncate": "import os\nos.truncate({victim!r}, 0)",
    "rename in": "import os\nos.rename({victim!r}, 'stolen')",
    "rmtree": "import shutil\nshutil.rmtree({folder!r})",
    "rmdir": "import os\nos.remove({victim!r})\nos.rmdir({folder!r})",
    "chmod": "import os\nos.chmod({victim!r}, 0)",
}


@pytest.mark.parametrize("name", list(DELETES))
@pytest.mark.parametrize("mode", MODES)
def test_deleting_or_changing_files_outside_is_denied(mode, name, tmp_path):
    folder = tmp_path / "keep"
    folder.mkdir()
    victim = folder / "victim.txt"
    victim.write_text("precious")
    before = victim.stat().st_mode
    result, _ = _run(DELETES[name].format(victim=str(victim), folder=str(folder)), mode=mode)
    assert victim.read_text() == "precious" and victim.stat().st_mode == before
    assert not result.passed and result.reason.startswith("sandbox: denied"), result.reason


@pytest.mark.parametrize("mode", MODES)
def test_disk_use_in_the_sandbox_folder_is_bounded(mode):
    big, _ = _run("open('big', 'wb').write(b'x' * (64 * 2**20))", mode=mode)  # RLIMIT_FSIZE = 16 MiB
    assert not big.passed and big.reason.startswith("solution raised OSError"), big.reason
    many, _ = _run("for i in range(1000):\n    open('f%d' % i, 'w').write('x')", mode=mode)
    assert many.reason == "sandbox: denied open for writing (more than 64 files)"


@pytest.mark.parametrize("command", ["os.system('touch {marker}')", "os.popen('touch {marker}').read()",
                                     "__import__('subprocess').run('touch {marker}', shell=True)"],
                         ids=["system", "popen", "subprocess-shell"])
@pytest.mark.parametrize("mode", MODES)
def test_shell_commands_do_not_run(mode, command, tmp_path):
    marker = tmp_path / "marker"
    result, watch = _run("import os\n" + command.format(marker=marker), mode=mode)
    assert not marker.exists()
    assert watch.peak <= _baseline(result)
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
    "http.client": "import http.client\nc = http.client.HTTPConnection('127.0.0.1', {port}, timeout=2)\nc.request('GET', '/')",
}


@pytest.mark.parametrize("name", list(NETWORK))
@pytest.mark.parametrize("mode", MODES)
def test_network_connection_never_arrives(mode, name, listener):
    port = listener.getsockname()[1]
    result, _ = _run(NETWORK[name].format(port=port), mode=mode)
    with pytest.raises(socket.timeout):
        connection, _ = listener.accept()
        connection.close()
    assert not result.passed and result.reason.startswith("sandbox: denied"), result.reason


@pytest.mark.parametrize("mode", MODES)
def test_huge_memory_allocation_is_refused(mode):
    limits = Limits(timeout_s=20, cpu_s=20, memory_bytes=512 * 1024 ** 2)
    result, _ = _run("x = bytearray(64 * 2**30)", mode=mode, limits=limits)
    assert not result.passed and result.reason == "solution raised MemoryError"
    result, _ = _run("chunks = []\nwhile True:\n    chunks.append(bytearray(64 * 2**20))", mode=mode, limits=limits)
    assert not result.passed and result.reason == "solution raised MemoryError", result.reason
    assert result.max_rss_kb is not None and result.max_rss_kb < 512 * 1024  # stopped at the limit


@pytest.mark.parametrize("mode", MODES)
def test_evaluator_cannot_be_signalled(mode):
    for code in ["import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
                 "import os, signal\nos.killpg(os.getpgid(os.getppid()), signal.SIGKILL)",
                 "import os, signal\nsignal.pidfd_send_signal(os.pidfd_open(os.getppid()), signal.SIGKILL)"]:
        result, _ = _run(code, mode=mode)
        assert not result.passed
    os.kill(os.getpid(), 0)  # still alive


@pytest.mark.parametrize("mode", MODES)
def test_limits_cannot_be_raised_and_native_code_is_unavailable(mode):
    raised, _ = _run("import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))", mode=mode)
    assert raised.reason == "sandbox: denied resource.setrlimit"
    native, _ = _run("import ctypes\nctypes.CDLL(None).fork()", mode=mode)
    assert native.reason == "solution raised ImportError: sandbox: import of ctypes denied"


@pytest.mark.parametrize("mode", MODES)
def test_cpu_limit_kills_a_runaway_even_without_the_wall_clock(mode):
    # RLIMIT_CPU: SIGXCPU at 1 s, SIGKILL at 2 s (an interpreter that is PID 1 of its namespace ignores SIGXCPU)
    result, watch = _run("while True:\n    pass", mode=mode, limits=Limits(timeout_s=60, cpu_s=1))
    assert not result.passed and result.duration_s < 30 and "timeout" not in result.reason, result
    assert _session_members(watch.sid) == []


# --- permission gate ------------------------------------------------------------------------------------------------

def test_refuses_without_permission(monkeypatch, tmp_path):
    monkeypatch.delenv(code_exec.ALLOW_ENV)
    monkeypatch.delenv(code_exec.HF_ALLOW_ENV, raising=False)
    marker = tmp_path / "ran"
    started = []
    with pytest.raises(CodeExecutionNotAllowed, match="--confirm_run_unsafe_code"):
        run_tests(f"open({str(marker)!r}, 'w')", [], FAST, on_start=started.append)
    with pytest.raises(CodeExecutionNotAllowed):
        run_many([("x = 1", [])])
    assert not started and not marker.exists()
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


# --- batch and pylint -----------------------------------------------------------------------------------------------

def test_run_many_keeps_order_and_bounds_parallelism():
    jobs = [(f"def f():\n    return {i}", [f"assert f() == {i if i % 2 else -1}"]) for i in range(6)]
    results = run_many(jobs, FAST, workers=2)
    assert [r.passed for r in results] == [i % 2 == 1 for i in range(6)]


def test_isolation_layers_are_reported():
    layers = code_exec.isolation_layers()
    assert layers[:2] == ("audit-hook", "rlimits")
    assert code_exec.isolation_layers("hook") == ("audit-hook", "rlimits")
    if os.geteuid() == 0 and len(layers) == 2:
        pytest.skip("root without uid change or namespaces here: only the audit hook and rlimits contain code")


def test_pylint_check():
    pytest.importorskip("pylint")
    assert code_exec.pylint_check("def add(a, b):\n    return a + b") is True
    assert code_exec.pylint_check("def f():\n    return undefined_name") is False  # E0602
    assert code_exec.pylint_check("def f(:\n") is False  # E0001 syntax error
    assert code_exec.pylint_check("import os\nx = 1\n") is True  # warnings/conventions do not count


def test_child_program_compiles():
    compile(code_exec._CHILD_SOURCE, "<child>", "exec")
    compile(code_exec._PYLINT_SOURCE, "<pylint>", "exec")
    assert sys.executable
    assert signal.SIGKILL
