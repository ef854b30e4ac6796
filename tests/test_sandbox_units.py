"""The sandbox's parts on their own: the child program's functions (imported here; they are a real module), its
protocol spoken by hand, the evaluator's judge against misbehaving children, cleanup, availability and settings,
and the child programs linted."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from lm_eval_jaster import sandbox
from lm_eval_jaster.errors import JasterError, SettingsError
from lm_eval_jaster.sandbox import Limits, child, cleanup, runner

FAST = Limits(timeout_s=5, cpu_s=5)


@pytest.fixture(autouse=True)
def allowed(monkeypatch):
    monkeypatch.setenv(sandbox.ALLOW_ENV, "1")
    monkeypatch.delenv("JASTER_SANDBOX", raising=False)


@pytest.fixture
def fresh_state(monkeypatch):
    """Forget the probed launchers, the configured mode and the process-mode warning (restored afterwards)."""
    monkeypatch.setattr(sandbox, "_configured", None)
    monkeypatch.setattr(sandbox, "_process_warned", type(sandbox._process_warned)())
    runner._find_launcher.cache_clear()
    sandbox._run_cached.cache_clear()
    yield
    runner._find_launcher.cache_clear()
    sandbox._run_cached.cache_clear()


# --- the child program's functions --------------------------------------------------------------------------------

def test_lexical_absolute():
    assert child.lexical_absolute("a/./b/../c", "/tmp") == "/tmp/a/c"
    assert child.lexical_absolute("../../../etc", "/tmp/x") == "/etc"
    assert child.lexical_absolute("/proc//self/", "/tmp") == "/proc/self"
    assert child.lexical_absolute("", "/") == "/"


def test_arguments_and_steps():
    assert child.take_uid(["child.py", "--uid=65534", "5", "7"]) == (65534, ["child.py", "5", "7"])
    assert child.take_uid(["child.py", "5", "7"]) == (None, ["child.py", "5", "7"])
    assert child.steps_of({"code": "x = 1", "tests": ["assert x", "assert x == 1"]}) == (
        ("<solution>", "x = 1"), ("<test 1>", "assert x"), ("<test 2>", "assert x == 1"))


def _pipe_with(data: bytes, close: bool = True) -> int:
    read, write = os.pipe()
    os.write(write, data)
    if close:
        os.close(write)
    return read


def test_read_job_framing():
    payload = b'{"code": "x", "tests": []}'
    fd = _pipe_with(str(len(payload)).encode() + b"\n" + payload + b"rest")
    assert child.read_job(fd) == {"code": "x", "tests": []}
    assert os.read(fd, 10) == b"rest"  # nothing read past the job
    os.close(fd)
    for bad, message in ((b"", "no job header"), (b"12345678901234567890123\n", "no job header"),
                         (b"0\n", "job of 0 bytes"), (b"10\n{}", "truncated job")):
        fd = _pipe_with(bad)
        with pytest.raises(ValueError, match=message):
            child.read_job(fd)
        os.close(fd)
    fd = _pipe_with(b"abc")
    assert child.read_exact(fd, 10) == b"abc"
    os.close(fd)


def test_describe_survives_misbehaving_exceptions():
    class Loud(Exception):
        def __str__(self):
            raise RuntimeError("no")

    class Odd(Exception):
        def __str__(self):
            class Sneaky(str):
                def __getitem__(self, item):
                    raise RuntimeError("sliced")
            return Sneaky("multi\nline\r" + "x" * 500)

    assert child.describe(ValueError("x")) == "ValueError: x"
    assert child.describe(AssertionError()) == "AssertionError"
    assert child.describe(Loud()) == "Loud"
    text = child.describe(Odd())
    assert text.startswith("Odd: multi line ") and "\n" not in text and len(text) <= 300


def test_peak_rss():
    assert child.peak_rss_kib(None) > 1000
    fd = os.open("/proc/self/status", os.O_RDONLY)
    try:
        assert 1000 < child.peak_rss_kib(fd) <= child.peak_rss_kib(None) * 2
    finally:
        os.close(fd)
    assert child.peak_rss_kib(10 ** 6) > 1000  # a closed descriptor: the fallback


@pytest.fixture
def hook(tmp_path):
    denied: list[str] = []

    def protected():
        return None

    check = child.make_hook(str(tmp_path), denied.append, 3, (protected,))
    check.denied = denied
    check.protected = protected
    return check


def _denied(hook, event, args) -> str:
    before = len(hook.denied)
    with pytest.raises(PermissionError, match="sandbox: "):
        hook(event, args)
    assert len(hook.denied) == before + 1
    return hook.denied[-1]


def test_hook_writes_only_in_the_work_directory(hook, tmp_path):
    hook("open", (str(tmp_path / "a"), "w", 0))
    hook("open", (os.fsencode(tmp_path / "b"), None, os.O_WRONLY | os.O_CREAT))
    hook("open", ("/dev/null", "w", 0))
    hook("open", (3, "w", 0))  # an already open descriptor
    hook("open", ("/etc/hostname", "r", 0))  # reading is not restricted (outside /proc)
    assert _denied(hook, "open", ("/etc/x", "w", 0)) == "open for writing outside the work directory"
    assert _denied(hook, "open", ("rel", None, os.O_WRONLY)) == "open (relative os.open for writing)"
    hook("open", (tmp_path / "c", "a", 0))  # a path-like object
    assert _denied(hook, "open", (str(tmp_path / "d"), "x", 0)).startswith("open for writing (more than 3")

    class Pretend(str):  # a str subclass whose comparisons lie
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

        def startswith(self, *args):
            return True

    hook.denied.clear()
    assert _denied(hook, "open", (Pretend("/etc/y"), "w", 0)) == "open for writing outside the work directory"


def test_hook_refuses_proc_also_through_links(hook, tmp_path):
    (tmp_path / "link").symlink_to("/proc/self")
    for path in ("/proc/self/environ", "/proc", f"{tmp_path}/link/environ", "/dev/fd/../../1/environ",
                 "/dev/stdin", Path("/proc/1/environ")):
        assert _denied(hook, "open", (path, "r", 0)).startswith("open of ")
    assert _denied(hook, "os.listdir", ("/proc",)) == "os.listdir under /proc"
    hook("os.listdir", (str(tmp_path),))
    hook("os.scandir", (None,))


def test_hook_denies_processes_network_native_code_and_introspection(hook):
    for event in ("os.fork", "os.exec", "os.posix_spawn", "subprocess.Popen", "os.kill", "socket.__new__",
                  "socket.connect", "ctypes.dlopen", "urllib.Request", "resource.setrlimit", "sys._current_frames",
                  "sys.settrace", "sys.addaudithook", "gc.get_referrers", "code.__new__", "_thread.start_new_thread",
                  "sys.monitoring.register_callback"):
        assert _denied(hook, event, ()) == event
    for event, args in (("sys._getframe", (None,)), ("compile", (b"", "<x>")), ("exec", (None,)),
                        ("object.__getattr__", (None, "tb_frame")), ("marshal.loads", (b"",))):
        hook(event, args)  # allowed: used by the standard library


def test_hook_imports(hook):
    hook("import", ("json", None, None, None, None))
    for name in ("ctypes", "_posixsubprocess", "harmless._posixsubprocess"):
        with pytest.raises(ImportError, match="sandbox: import of"):
            hook("import", (name, None, None, None, None))

    class Alias(str):
        def rpartition(self, sep):
            return ("", "", "harmless")

    with pytest.raises(ImportError):
        hook("import", (Alias("x._posixsubprocess"), None, None, None, None))
    assert hook.denied == []  # import denials alone do not fail a sample (libraries probe for ctypes)


def test_hook_path_events(hook, tmp_path):
    inside = str(tmp_path / "a")
    hook("os.chmod", (inside, 0o700, None))
    hook("os.remove", (inside, None))
    assert _denied(hook, "os.chmod", (5, 0o4777, None)) == "os.chmod on a file descriptor"
    assert _denied(hook, "os.utime", (5, None, None, None)) == "os.utime on a file descriptor"
    assert _denied(hook, "os.setxattr", (5, "user.x", b"1", 0)) == "os.setxattr on a file descriptor"
    assert _denied(hook, "os.chown", ("/etc/passwd", 0, 0, None)) == "os.chown outside the work directory"
    assert _denied(hook, "os.rename", (inside, "b", 3, None)) == "os.rename with dir_fd"
    hook("os.mkdir", (inside + "1", 0o777, None))
    hook("os.mkdir", (inside + "2", 0o777, None))
    hook("os.mkdir", (inside + "3", 0o777, None))
    assert _denied(hook, "os.mkdir", (inside + "4", 0o777, None)).startswith("mkdir (more than 3")


def test_hook_protects_the_childs_own_functions(hook):
    def other():
        return None

    assert _denied(hook, "object.__setattr__", (hook.protected, "__code__", other.__code__)).startswith(
        "setting __code__")
    assert _denied(hook, "object.__setattr__", (hook.protected, "__defaults__", ())).startswith("setting __defaults__")
    hook("object.__setattr__", (other, "__defaults__", ()))  # namedtuple does this to its own functions
    hook("object.__setattr__", (hook.protected, "__doc__", ""))


# --- the child program, driven by hand ----------------------------------------------------------------------------

def _start_child(job: dict | None):
    """The child program as a plain process (no sandbox, no uid change), with its two pipes."""
    import json

    job_r, job_w = os.pipe()
    ack_r, ack_w = os.pipe()
    proc = subprocess.Popen([sys.executable, "-I", "-S", "-B", str(runner.CHILD), str(job_r), str(ack_w)],
                            pass_fds=(job_r, ack_w), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(job_r)
    os.close(ack_w)
    if job is not None:
        payload = json.dumps({"root": os.getcwd(), "limits": FAST.for_child(), **job}).encode()
        os.write(job_w, str(len(payload)).encode() + b"\n" + payload)
    return proc, job_w, os.fdopen(ack_r, "rb")


def test_child_protocol_by_hand():
    proc, job_w, acks = _start_child({"code": "x = 1", "tests": ["assert x == 1", "assert x == 2"]})
    try:
        assert acks.readline() == b"ready\n"
        os.write(job_w, b"a" * 32 + b"\n")
        assert acks.readline().startswith(b"a" * 32 + b" ok ")
        os.write(job_w, b"b" * 32 + b"\n")
        assert acks.readline().startswith(b"b" * 32 + b" ok ")
        os.write(job_w, b"c" * 32 + b"\n")
        line = acks.readline()
        assert line.startswith(b"c" * 32 + b" raised ") and line.endswith(b" AssertionError\n")
        assert proc.wait(10) == 0
    finally:
        os.close(job_w)
        acks.close()
        proc.stderr.close()


@pytest.mark.parametrize("nonce", [b"a" * 33, b""], ids=["no newline", "closed"])
def test_child_exits_on_a_broken_job_pipe(nonce):
    proc, job_w, acks = _start_child({"code": "x = 1", "tests": []})
    try:
        assert acks.readline() == b"ready\n"
        os.write(job_w, nonce)
        os.close(job_w)
        assert proc.wait(10) == child.EXIT_PROTOCOL
        assert acks.read() == b""  # nothing acknowledged
    finally:
        acks.close()
        proc.stderr.close()


def test_child_reports_a_bad_job_on_stderr():
    proc, job_w, acks = _start_child(None)
    try:
        os.write(job_w, b"5\nnope!")
        assert proc.wait(10) == child.EXIT_SETUP
        assert b"sandbox child setup failed" in proc.stderr.read()
    finally:
        os.close(job_w)
        acks.close()
        proc.stderr.close()


# --- the evaluator's judge against misbehaving children -----------------------------------------------------------

FAKE_CHILDREN = {
    "never ready": ("import sys\nsys.stderr.write('bwrap: boom\\n')\nsys.exit(1)", None),
    "wrong nonce": ("import os, sys\nack = int(sys.argv[-1])\nos.write(ack, b'ready\\n' + b'0' * 32 + b' ok 1\\n')\n"
                    "import time\ntime.sleep(5)", "sandbox: unexpected message on the result channel"),
    "endless line": ("import os, sys\nack = int(sys.argv[-1])\nos.write(ack, b'ready\\n' + b'x' * 9000)\n"
                     "import time\ntime.sleep(5)", "sandbox: unexpected message on the result channel"),
    "ok before ready": ("import os, sys\nack = int(sys.argv[-1])\nos.write(ack, b'0' * 32 + b' ok 1\\n')\n"
                        "import time\ntime.sleep(5)", "sandbox: unexpected message on the result channel"),
    "denied": ("import os, sys\nack = int(sys.argv[-1])\nos.write(ack, b'ready\\ndenied os.fork\\n')\n"
               "import time\ntime.sleep(5)", "sandbox: denied os.fork"),
    "one step then exit": (
        "import os, sys\njob, ack = int(sys.argv[-2]), int(sys.argv[-1])\nos.read(job, 1 << 20)\n"
        "os.write(ack, b'ready\\n')\nnonce = os.read(job, 33)[:32]\nos.write(ack, nonce + b' ok 7\\n')\nos._exit(0)",
        "exited without a result (exit status 0)"),
    "raised": (
        "import os, sys\njob, ack = int(sys.argv[-2]), int(sys.argv[-1])\nos.read(job, 1 << 20)\n"
        "os.write(ack, b'ready\\n')\nnonce = os.read(job, 33)[:32]\nos.write(ack, nonce + b' raised 7 Boom: x\\n')\n"
        "import time\ntime.sleep(5)", "solution raised Boom: x"),
    "killed": ("import os, signal, sys\nos.write(int(sys.argv[-1]), b'ready\\n')\nos.kill(os.getpid(), signal.SIGSEGV)",
               "killed by SIGSEGV"),
}


@pytest.mark.parametrize("name", list(FAKE_CHILDREN))
def test_the_judge_fails_every_misbehaving_child(name, tmp_path, monkeypatch):
    source, reason = FAKE_CHILDREN[name]
    fake = tmp_path / "child.py"
    fake.write_text(source)
    monkeypatch.setattr(runner, "CHILD", fake)
    launch = runner.Launcher("process", ("process", "test"))
    if reason is None:
        with pytest.raises(runner.SandboxError, match=r"did not start \(exit status 1\): bwrap: boom"):
            runner.execute(launch, "x = 1", ["assert x"], FAST)
        return
    result = runner.execute(launch, "x = 1", ["assert x"], FAST)
    assert not result.passed and result.reason == reason
    assert result.duration_s < 4  # decided on the message, not at the timeout


# --- availability and settings ------------------------------------------------------------------------------------

def test_missing_bwrap_refuses_with_a_one_line_hint(fresh_state, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(sandbox.SandboxUnavailable) as info:
        sandbox.require_available("bwrap")
    assert isinstance(info.value, JasterError) and "\n" not in str(info.value)
    assert "bwrap is not installed" in info.value.message
    assert "apt-get install bubblewrap" in info.value.hint and "jaster_sandbox" in info.value.hint
    with pytest.raises(sandbox.SandboxUnavailable):
        sandbox.run_tests("x = 1", ["assert x == 1"], FAST)  # refuses; never falls back to process mode
    assert sandbox.run_tests("x = 1", ["assert x == 1"], FAST, mode="process").passed  # the explicit opt-in


def test_bwrap_that_cannot_create_namespaces_refuses(fresh_state, monkeypatch, tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(sandbox.SandboxUnavailable, match="No permissions to create new namespace") as info:
        sandbox.require_available("bwrap")
    assert "user namespaces" in info.value.hint


def test_modes_and_the_process_mode_warning(fresh_state, monkeypatch, caplog):
    assert sandbox.current_mode() == "bwrap"
    monkeypatch.setenv("JASTER_SANDBOX", "process")
    assert sandbox.current_mode() == "process"
    sandbox.configure("bwrap")
    assert sandbox.current_mode() == "bwrap"
    with pytest.raises(SettingsError):
        sandbox.configure("docker")
    monkeypatch.setenv("JASTER_SANDBOX", "docker")
    sandbox.configure("process")
    assert sandbox.current_mode() == "process"  # the run's choice wins over the variable
    monkeypatch.delenv("JASTER_SANDBOX")
    with caplog.at_level(logging.WARNING, logger="lm_eval.jaster"):
        sandbox.require_available()
        sandbox.require_available("process")
        sandbox.run_tests("x = 1", [], FAST)
    warnings = [r for r in caplog.records if "process mode" in r.getMessage()]
    assert len(warnings) == 1 and "can bypass" in warnings[0].getMessage()
    sandbox.configure("bwrap")


def test_isolation_layers():
    layers = sandbox.isolation_layers("bwrap")
    assert layers[0] == "bwrap" and {"pidns", "netns", "ipcns", "mountns", "tmpfs", "audit-hook"} <= set(layers)
    assert any(layer.startswith("uid:") for layer in layers)
    process = sandbox.isolation_layers("process")
    assert process[0] == "process" and process[-1] == "audit-hook"


def test_bwrap_command_binds_only_what_the_interpreter_needs():
    argv = runner.launcher("bwrap").argv(runner.CHILD, ["5", "7"], Limits())
    binds = [argv[i + 1] for i, arg in enumerate(argv) if arg in ("--ro-bind", "--bind", "--dev-bind")]
    assert [argv[i + 2] for i, arg in enumerate(argv) if arg == "--ro-bind"] == binds[:-1] + ["/sandbox/child.py"]
    allowed = ("/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/libx32", "/lib", "/lib64",
               os.path.realpath(sys.base_prefix), *runner.site_dirs())
    for path in binds[:-1]:
        assert path == runner.interpreter() or any(path == a or path.startswith(a.rstrip("/") + "/")
                                                   for a in allowed), path
    assert binds[-1] == str(runner.CHILD) and "--bind" not in argv and "--dev-bind" not in argv
    for flag in ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
                 "--new-session"):
        assert flag in argv
    assert argv[argv.index("--tmpfs") + 1] == "/tmp" and "--proc" not in argv
    assert argv[argv.index("--") + 1:argv.index("--") + 3] == [runner.interpreter(), "-I"]


# --- cleanup of process-mode folders ------------------------------------------------------------------------------

def _deep_tree(top: Path, depth: int, name: str) -> None:
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for level in range(depth):
        os.mkdir(name, dir_fd=fd)
        if level % 100 == 0:
            with open(os.open("file", os.O_WRONLY | os.O_CREAT, 0o000, dir_fd=fd), "w") as f:
                f.write("x")
        inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.close(fd)


@pytest.mark.skipif(os.geteuid() != 0, reason="chmod 000 folders are removed as root here")
def test_remove_tree_handles_deep_trees_odd_modes_links_and_fifos(tmp_path):
    top = tmp_path / "work"
    top.mkdir()
    _deep_tree(top, 1500, "d" * 60)  # 90,000 characters of path: beyond PATH_MAX
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("x")
    (top / "link").symlink_to(victim)
    os.mkfifo(top / "fifo")
    (top / "locked").mkdir()
    (top / "locked" / "inner").mkdir()
    (top / "locked" / "inner").chmod(0)
    (top / "locked").chmod(0)
    assert cleanup.remove_tree(str(top)) is True
    assert not top.exists() and (victim / "keep").read_text() == "x"


def test_remove_tree_is_bounded_and_never_raises(tmp_path, caplog):
    top = tmp_path / "work"
    top.mkdir()
    for i in range(300):
        (top / f"f{i}").write_text("x")
    with caplog.at_level(logging.WARNING, logger="lm_eval.jaster"):
        assert cleanup.remove_tree(str(top), max_entries=100) is False
        assert cleanup.remove_tree(str(tmp_path / "missing")) is True
        (tmp_path / "file").write_text("x")
        assert cleanup.remove_tree(str(tmp_path / "file")) is False  # not a folder: a warning, no exception
    assert top.exists() and len(list(top.iterdir())) < 300
    assert sum("sandbox folder" in r.getMessage() for r in caplog.records) == 2
    assert cleanup.remove_tree(str(top)) is True


def test_remove_tree_of_a_wide_flood(tmp_path):
    top = tmp_path / "work"
    top.mkdir()
    for i in range(200):
        (top / f"d{i}" / "x").mkdir(parents=True)
    (top / ".jaster_rm_1").mkdir()  # a name the cleanup itself would use
    assert cleanup.remove_tree(str(top)) is True and not top.exists()


# --- the programs are real, clean modules -------------------------------------------------------------------------

def test_child_programs_compile_and_lint_clean():
    pytest.importorskip("pylint")
    programs = [str(runner.CHILD), str(runner.PYLINT_CHILD)]
    for program in programs:
        compile(Path(program).read_text(), program, "exec")
    run = subprocess.run([sys.executable, "-m", "pylint", "--errors-only", "--persistent=n", *programs],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def test_child_imports_only_the_standard_library():
    source = runner.CHILD.read_text() + runner.PYLINT_CHILD.read_text()
    assert "lm_eval_jaster" not in source.replace("lm_eval_jaster.sandbox.runner", "")
    run = subprocess.run([sys.executable, "-I", "-S", "-c", f"import runpy; runpy.run_path({str(runner.CHILD)!r})"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr  # importable without site-packages (its main() is not run)
