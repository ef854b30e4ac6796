"""Attacks on the host, checked on the host: file modes and times, marker files, surviving processes, sockets, the
evaluator's own process and environment.

Each attack runs in up to three setups: "bwrap" (the default: kernel sandbox + audit hook), "kernel" (the same bwrap
sandbox with a child program that never installs its audit hook: what code that escaped the hook faces) and
"process" (child process + audit hook). Where "process" mode guarantees nothing, its case is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from lm_eval_jaster import sandbox
from lm_eval_jaster.sandbox import Limits, run_tests, runner

from conftest import REPO

MODES = ["bwrap", "process"]
FAST = Limits(timeout_s=5, cpu_s=5)

# Loads the process-spawning extension under another module name (so "import _posixsubprocess" never happens)
# and calls fork_exec, which raises no audit event.
ALIASED_FORK_EXEC = '''
import importlib.util, os, sys
spec = importlib.util.find_spec("_posixsubprocess")
spec.name = "harmless._posixsubprocess"
psp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(psp)
def spawn(argv):
    args = [[os.fsencode(a) for a in argv], [os.fsencode(argv[0])], True, (), None, None,
            -1, -1, -1, -1, -1, -1, *os.pipe(), False, True]
    tail = [-1, None, None, None, -1, None]
    try:
        return psp.fork_exec(*args, *tail, True)  # 3.11.7+: allow_vfork
    except TypeError:
        return psp.fork_exec(*args, *tail)
'''

# Fresh copies of builtin modules carry the functions the child deletes (pidfd_open, pidfd_send_signal).
FRESH_MODULE = '''
import importlib.util
def fresh(name):
    spec = importlib.util.find_spec(name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
'''


@pytest.fixture(autouse=True)
def allowed(monkeypatch):
    monkeypatch.setenv(sandbox.ALLOW_ENV, "1")
    monkeypatch.delenv("JASTER_SANDBOX", raising=False)


def _stat_fields(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text(errors="replace").rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


class ProcessWatch:
    """Records every process of one sample on the host (the started process and its descendants) while it runs.

    ``peak``: most processes alive at once; ``baseline``: what the sandbox itself consists of;
    :meth:`survivors`: recorded processes still alive (same pid and start time, not a zombie).
    """

    def __init__(self, baseline: int = 1) -> None:
        self.baseline = baseline
        self.root: int | None = None
        self.seen: dict[int, str] = {}  # pid -> start time
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def on_start(self, pid: int) -> None:
        self.root = pid
        self._scan()
        self._thread.start()

    def _scan(self) -> None:
        parents = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                fields = _stat_fields(int(entry))
                if fields and fields[0] not in ("Z", "X"):
                    parents[int(entry)] = (int(fields[1]), fields[19])
        tree = {self.root} if self.root in parents else set()
        grew = True
        while grew:
            grew = False
            for pid, (ppid, _) in parents.items():
                if ppid in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        for pid in tree:
            self.seen.setdefault(pid, parents[pid][1])
        self.peak = max(self.peak, len(tree))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._scan()
            time.sleep(0.003)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def survivors(self, grace_s: float = 10.0) -> list[int]:
        """Recorded processes still running ``grace_s`` after the sample ended (a SIGKILLed process being torn down
        on a loaded machine is not a survivor; the attacks' own processes sleep 30 s or more)."""
        until = time.monotonic() + grace_s
        while True:
            alive = []
            for pid, started in self.seen.items():
                fields = _stat_fields(pid)
                if fields and fields[19] == started and fields[0] not in ("Z", "X"):
                    alive.append(pid)
            if not alive or time.monotonic() > until:
                return alive
            time.sleep(0.05)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def run_watched(code: str, tests, mode: str, limits: Limits = FAST):
    """run_tests with a :class:`ProcessWatch` (not cached). The sandbox itself: bwrap, its init and the child."""
    watch = ProcessWatch(baseline=3 if mode == "bwrap" else 1)
    try:
        result = run_tests(code, list(tests), limits, mode=mode, on_start=watch.on_start)
    finally:
        watch.stop()
    return result, watch


def execute_watched(launch: runner.Launcher, code: str, tests=(), limits: Limits = FAST):
    watch = ProcessWatch(baseline=3)
    try:
        result = runner.execute(launch, code, list(tests), limits, watch.on_start)
    finally:
        watch.stop()
    return result, watch


def _processes_with(marker: str) -> list[int]:
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and marker in _cmdline(int(e))]


def _working_bwrap_launchers() -> list[runner.Launcher]:
    """Every way bwrap can build a sandbox here (as root: the uid-65534 one and the user-namespace ones)."""
    bwrap = shutil.which("bwrap")
    return [c for c in runner._bwrap_candidates(bwrap) if runner._probe(c) is None] if bwrap else []


BWRAP_LAUNCHERS = _working_bwrap_launchers()


SETUPS = ["bwrap", "kernel", "process"]


@pytest.fixture(scope="module")
def hookless_child(tmp_path_factory) -> Path:
    """The child program without its audit hook (everything else unchanged)."""
    source = runner.CHILD.read_text()
    assert source.count("    sys.addaudithook(hook)\n") == 1
    path = tmp_path_factory.mktemp("hookless") / "child.py"
    path.write_text(source.replace("    sys.addaudithook(hook)\n", "    del hook  # escaped: no audit hook\n"))
    return path


@pytest.fixture
def run_in(hookless_child, monkeypatch):
    """run_in(setup, code, tests, limits) -> (result, ProcessWatch) for a setup of :data:`SETUPS`."""

    def run(setup: str, code: str, tests=(), limits: Limits = FAST, launch: runner.Launcher | None = None):
        if setup == "kernel":
            with monkeypatch.context() as patch:
                patch.setattr(runner, "CHILD", hookless_child)
                return execute_watched(launch or runner.launcher("bwrap"), code, tests, limits)
        if launch is not None:
            return execute_watched(launch, code, tests, limits)
        return run_watched(code, tests, setup, limits)

    return run


def _skip_process_mode(mode: str, why: str) -> None:
    if mode == "process":
        pytest.skip(f"process mode: {why} (only the bwrap sandbox stops this; docs/sandbox.md)")


# --- shell spawn through an aliased _posixsubprocess --------------------------------------------------------------

def _spawn_shell_code(marker: Path, tag: str) -> str:
    shell = ["/bin/sh", "-c", f"touch {marker}; sleep 30", tag]
    python = ["-c", f"open({str(marker)!r}, 'w'); import time; time.sleep(30)", tag]
    return ALIASED_FORK_EXEC + (
        f"results = []\nfor argv in ({shell!r}, [sys.executable] + {python!r}):\n"
        "    try:\n        results.append(spawn(argv))\n    except OSError as e:\n        results.append(e.errno)\n"
        "import time\ntime.sleep(0.5)\ndef f():\n    return 1")


@pytest.mark.parametrize("setup", SETUPS)
def test_shell_through_an_aliased_posixsubprocess_does_nothing_on_the_host(setup, run_in, tmp_path):
    marker = tmp_path / "marker"
    tag = f"jaster-{uuid.uuid4().hex}"
    result, watch = run_in(setup, _spawn_shell_code(marker, tag), ["assert f() == 1"])
    assert not marker.exists() and list(tmp_path.iterdir()) == []
    assert watch.survivors() == [] and _processes_with(tag) == []
    assert watch.peak <= watch.baseline, watch.peak  # uid 65534 outside: RLIMIT_NPROC lets nothing start
    if setup != "kernel":  # the hook refuses the aliased extension by its init name
        assert result.reason == "solution raised ImportError: sandbox: import of harmless._posixsubprocess denied"


@pytest.mark.parametrize("launch", BWRAP_LAUNCHERS, ids=lambda c: "-".join(c.layers[1:3]))
def test_processes_started_in_any_bwrap_variant_stay_inside_and_die_with_it(launch, run_in, tmp_path):
    """Also the user-namespace variants, where as root the kernel does not enforce the process limit."""
    marker = tmp_path / "marker"
    tag = f"jaster-{uuid.uuid4().hex}"
    result, watch = run_in("kernel", _spawn_shell_code(marker, tag), ["assert f() == 1"], launch=launch)
    assert result.passed, result.reason
    assert not marker.exists() and watch.survivors() == [] and _processes_with(tag) == []


# --- metadata changes through a read-only descriptor ---------------------------------------------------------------

FD_METADATA = """
import os
calls = []
try:
    fd = os.open({path!r}, os.O_RDONLY)
except OSError as e:
    calls.append(repr(e))
else:
    for name, call in (("fchmod", lambda: os.fchmod(fd, {mode})), ("fchown", lambda: os.fchown(fd, {uid}, {uid})),
                       ("chmod", lambda: os.chmod(fd, {mode})), ("utime", lambda: os.utime(fd, {times})),
                       ("setxattr", lambda: os.setxattr(fd, "user.jaster_test", b"x"))):
        try:
            call()
            calls.append(name + " ok")
        except Exception as e:
            calls.append(name + " " + type(e).__name__)
def f():
    return calls
"""


def _snapshot(path: Path) -> tuple:
    st = path.stat()
    try:
        xattrs = tuple(os.listxattr(path))
    except OSError:
        xattrs = ()
    return st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns, st.st_ctime_ns, xattrs


@pytest.mark.parametrize("setup", SETUPS)
def test_fchmod_fchown_utime_setxattr_through_a_read_only_fd_leave_a_host_file_unchanged(setup, run_in, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    victim.chmod(0o644)
    before = _snapshot(victim)
    code = FD_METADATA.format(path=str(victim), mode=0o4777, uid=1234, times=(0, 0))
    result, watch = run_in(setup, code, ["assert not any(c.endswith(' ok') for c in f()), f()"])
    assert _snapshot(victim) == before and victim.read_text() == "precious"
    assert watch.survivors() == []
    if setup == "process":  # the hook denies metadata calls on descriptors (the sample fails)
        assert result.reason == "sandbox: denied os.chmod on a file descriptor"
    else:  # the host file does not exist in the sandbox
        assert result.passed, result.reason


@pytest.mark.parametrize("setup", ["bwrap", "kernel"])
def test_metadata_of_files_bound_into_the_sandbox_cannot_change(setup, run_in):
    """The interpreter binary is visible (read-only) inside: even a no-op fchmod/fchown/utime would change its
    ctime on the host if it succeeded."""
    exe = Path(runner.interpreter())
    st = exe.stat()
    before = _snapshot(exe)
    code = FD_METADATA.format(path=str(exe), mode=st.st_mode & 0o7777, uid=st.st_uid,
                              times=(st.st_atime, st.st_mtime))
    try:
        result, _ = run_in(setup, code, ["assert not any(c.endswith(' ok') for c in f()), f()"])
    finally:
        if "user.jaster_test" in os.listxattr(exe):
            os.removexattr(exe, "user.jaster_test")
    assert _snapshot(exe) == before
    if setup == "kernel":
        assert result.passed, result.reason  # every call failed
    else:
        assert result.reason == "sandbox: denied os.chmod on a file descriptor"


# --- a deep tree and a flood of directories -------------------------------------------------------------------------

NESTED = """
import os
base = os.getcwd()
for _ in range(1500):
    os.mkdir("d")
    os.chdir("d")
os.chdir(base)
open("d/d/odd", "w").close()
os.chmod("d/d/odd", 0)
os.chmod("d/d/d", 0)
os.chmod("d", 0o500)
def f():
    return 1
"""


@pytest.mark.parametrize("mode", MODES)
def test_1500_nested_directories_leave_nothing_and_the_next_sample_works(mode, tmp_path, monkeypatch):
    host_tmp = tmp_path / "host_tmp"
    host_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(host_tmp))
    limits = Limits(timeout_s=30, cpu_s=30, created_files=5000)
    result, watch = run_watched(NESTED, ["assert f() == 1"], mode, limits)
    assert result.passed, result.reason  # allowed inside the work directory with this budget
    assert list(host_tmp.iterdir()) == [] and watch.survivors() == []
    assert run_tests("def g():\n    return 2", ["assert g() == 2"], FAST, mode=mode).passed


FLOOD = "import os\ni = 0\nwhile True:\n    os.mkdir('f%d' % i)\n    os.mkdir('f%d/x' % i)\n    i += 1"


@pytest.mark.parametrize("setup", ["bwrap", "kernel"])
def test_a_directory_flood_stays_in_the_sandbox(setup, run_in, tmp_path, monkeypatch):
    host_tmp = tmp_path / "host_tmp"
    host_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(host_tmp))
    limits = Limits(timeout_s=3, cpu_s=10, created_files=10 ** 9)
    started = time.monotonic()
    result, watch = run_in(setup, FLOOD, [], limits)
    assert time.monotonic() - started < limits.timeout_s + 10  # the tmpfs goes with the sandbox: no cleanup
    assert result.reason in ("timeout after 3s", "solution raised OSError: [Errno 28] No space left on device")
    assert list(host_tmp.iterdir()) == [] and watch.survivors() == []


def test_a_directory_flood_is_cut_short_in_process_mode(tmp_path, monkeypatch):
    host_tmp = tmp_path / "host_tmp"
    host_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(host_tmp))
    result, watch = run_watched(FLOOD, [], "process")
    assert result.reason == "sandbox: denied mkdir (more than 64 files or directories written)"
    assert list(host_tmp.iterdir()) == [] and watch.survivors() == []


# --- host files and the evaluator's environment -------------------------------------------------------------------

READ_SECRET = """
import os
def steal(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        return type(e).__name__
found = [steal(p) for p in {paths!r}]
def f():
    return 1
if any(isinstance(x, bytes) for x in found):
    raise ValueError(repr(found))
raise LookupError(repr(found))
"""


@pytest.mark.parametrize("setup", ["bwrap", "kernel"])
def test_host_files_outside_the_sandbox_are_not_readable(setup, run_in):
    secret = f"jaster-secret-{uuid.uuid4().hex}"
    paths = [REPO / f".jaster_secret_{uuid.uuid4().hex}", Path.home() / f".jaster_secret_{uuid.uuid4().hex}"]
    try:
        for path in paths:
            path.write_text(secret)
        code = READ_SECRET.format(paths=[str(p) for p in paths] + ["/etc/passwd"])
        result, _ = run_in(setup, code)
    finally:
        for path in paths:
            path.unlink(missing_ok=True)
    assert secret not in repr(result)
    assert result.reason.startswith("solution raised LookupError") and "FileNotFoundError" in result.reason


EVALUATOR = """
import json, os, sys
from lm_eval_jaster.sandbox import runner
from lm_eval_jaster.sandbox.limits import Limits
if sys.argv[3] != "-":
    runner.CHILD = runner.Path(sys.argv[3])
code = sys.argv[2].replace("EVALUATOR_PID", str(os.getpid()))
result = runner.execute(runner.launcher(sys.argv[1]), code, ["assert f() == 1"], Limits(timeout_s=20))
print(json.dumps({"passed": result.passed, "reason": result.reason, "rss": result.max_rss_kb}))
"""


def _run_evaluator(setup: str, code: str, hookless: Path, extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    """A separate evaluator process (so that a successful attack on it cannot take pytest down)."""
    env = {**os.environ, "JASTER_ALLOW_CODE_EXEC": "1", **extra_env}
    mode, child = ("bwrap", str(hookless)) if setup == "kernel" else (setup, "-")
    return subprocess.run([sys.executable, "-c", EVALUATOR, mode, code, child], capture_output=True, text=True,
                          env=env, timeout=120, cwd=REPO)


@pytest.mark.parametrize("setup", SETUPS)
def test_the_evaluators_environ_is_not_readable(setup, hookless_child):
    token = f"hf_{uuid.uuid4().hex}"
    code = READ_SECRET.format(paths=["/proc/EVALUATOR_PID/environ", "/proc/self/../EVALUATOR_PID/environ",
                                     "/dev/fd/../../EVALUATOR_PID/environ"])
    run = _run_evaluator(setup, code, hookless_child, {"HF_TOKEN": token})
    assert run.returncode == 0, run.stderr[-2000:]
    assert token not in run.stdout + run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert not result["passed"]
    if setup == "kernel":  # no /proc in the sandbox at all
        assert result["reason"].startswith("solution raised LookupError"), result["reason"]
        assert result["reason"].count("FileNotFoundError") == 3, result["reason"]
    else:  # the hook refuses /proc, also through /dev/fd/../..
        assert result["reason"].startswith("sandbox: denied open of /proc/"), result["reason"]


# --- sockets on the host ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("setup", SETUPS)
def test_no_connection_reaches_a_host_socket(setup, run_in):
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(8)
    folder = tempfile.mkdtemp(prefix="jaster_sock_", dir="/tmp")
    unix_path = os.path.join(folder, "s")
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(unix_path)
    unix.listen(8)
    try:
        code = (f"import socket\nerrors = []\n"
                f"for family, address in ((socket.AF_INET, ('127.0.0.1', {tcp.getsockname()[1]})),\n"
                f"                        (socket.AF_UNIX, {unix_path!r})):\n"
                "    try:\n        s = socket.socket(family, socket.SOCK_STREAM)\n        s.settimeout(2)\n"
                "        s.connect(address)\n        s.sendall(b'hello')\n        errors.append('connected')\n"
                "    except Exception as e:\n        errors.append(type(e).__name__)\n"
                "def f():\n    return errors")
        result, _ = run_in(setup, code, ["assert 'connected' not in f(), f()"])
        for server in (tcp, unix):
            server.settimeout(0.5)
            with pytest.raises(socket.timeout):
                connection, _ = server.accept()
                connection.close()
        if setup == "kernel":  # no hook: the kernel refused (no interface up, no host /tmp)
            assert result.passed, result.reason
        else:
            assert not result.passed and result.reason.startswith("sandbox: denied socket"), result.reason
    finally:
        tcp.close()
        unix.close()
        shutil.rmtree(folder, ignore_errors=True)


# --- the evaluator's process --------------------------------------------------------------------------------------

PIDFD_KILL = FRESH_MODULE + """
posix = fresh("posix")
signals = fresh("_signal")
outcome = "not tried"
try:
    signals.pidfd_send_signal(posix.pidfd_open(EVALUATOR_PID), 9)
    outcome = "sent"
except OSError as e:
    outcome = type(e).__name__
def f():
    return 1
if outcome == "sent":
    raise RuntimeError(outcome)
"""


@pytest.mark.parametrize("setup", SETUPS)
def test_the_evaluator_cannot_be_killed_through_a_pidfd(setup, hookless_child):
    if setup == "process" and "uid:65534" not in sandbox.isolation_layers("process"):
        _skip_process_mode(setup, "the child runs as the evaluator's own user and pidfd calls raise no audit event")
    run = _run_evaluator(setup, PIDFD_KILL, hookless_child, {})
    assert run.returncode == 0, (run.returncode, run.stderr[-2000:])
    assert json.loads(run.stdout.strip().splitlines()[-1])["passed"] is True  # the pid does not exist inside


# --- processes left behind ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("timeout", [False, True], ids=["returns", "times-out"])
@pytest.mark.parametrize("launch", BWRAP_LAUNCHERS, ids=lambda c: "-".join(c.layers[1:3]))
def test_no_background_process_survives_the_sample(launch, timeout, run_in):
    tag = f"jaster-{uuid.uuid4().hex}"
    code = ALIASED_FORK_EXEC + (
        "for _ in range(3):\n    try:\n"
        f"        spawn([sys.executable, '-c', 'import os, time\\nos.setsid()\\ntime.sleep(60)', '{tag}'])\n"
        "    except OSError:\n        pass\nimport time\ntime.sleep(0.3)\n"
        + ("time.sleep(60)\n" if timeout else "") + "def f():\n    return 1")
    result, watch = run_in("kernel", code, ["assert f() == 1"], Limits(timeout_s=3, cpu_s=10), launch=launch)
    assert result.reason == ("timeout after 3s" if timeout else "passed"), result.reason
    assert watch.survivors() == [] and _processes_with(tag) == []
    if "nproc" not in launch.layers:  # no process limit here: they existed, and were killed with the sandbox
        assert watch.peak > watch.baseline


def test_the_sandbox_view(tmp_path):
    """Inside: an unprivileged uid, no /proc, no shell, no host home or /tmp, a read-only root, a private tmpfs."""
    host_file = Path(tempfile.gettempdir()) / f"jaster_visible_{uuid.uuid4().hex}"
    host_file.write_text("x")
    try:
        code = ("import os\nview = {'uid': os.getuid(), 'gid': os.getgid(), 'proc': os.path.exists('/proc/self'),\n"
                "        'sh': os.path.exists('/bin/sh'), 'etc': os.path.exists('/etc/passwd'),\n"
                f"        'host_tmp': os.path.exists({str(host_file)!r}), 'cwd': os.getcwd(),\n"
                "        'tmp': sorted(os.listdir('/tmp')), 'host': os.uname().nodename,\n"
                "        'root_read_only': bool(os.statvfs('/').f_flag & os.ST_RDONLY),\n"
                "        'usr_read_only': bool(os.statvfs('/usr/lib').f_flag & os.ST_RDONLY),\n"
                "        'tmp_writable': not os.statvfs('/tmp').f_flag & os.ST_RDONLY}\n"
                "def f():\n    return view")
        expected = {"uid": 65534, "gid": 65534, "proc": False, "sh": False, "etc": False, "host_tmp": False,
                    "cwd": "/tmp", "tmp": [], "host": "sandbox", "root_read_only": True, "usr_read_only": True,
                    "tmp_writable": True}
        result, _ = run_watched(code, [f"assert f() == {expected!r}, f()"], "bwrap")
    finally:
        host_file.unlink()
    assert result.passed, result.reason
