"""Run model-written Python against a sample's tests in a contained child process (the CG datasets' metric).

llm-jp-eval v1.4.1 scored MBPP-ja with ``exec()`` in its own process (its ``code_exec`` metric: run the prediction,
then every test case; 1 if all pass) and ``pylint_check`` (1 if pylint reports no error-class message). Here the
same two verdicts are computed, but the code never runs in the evaluator's process.

**Permission.** Nothing is executed unless the user agreed to run model-written code:

- lm-eval itself refuses every task with ``unsafe_code: true`` (all CG tasks) unless ``--confirm_run_unsafe_code``
  is given; and
- this module additionally refuses (:class:`CodeExecutionNotAllowed`) unless one of these holds: it is called from
  lm-eval's ``evaluate()`` running with ``confirm_run_unsafe_code=True`` (read from that call's frame), or the
  environment has ``JASTER_ALLOW_CODE_EXEC=1`` (``lm-eval-jaster --confirm_run_unsafe_code`` should set it), or
  ``HF_ALLOW_CODE_EVAL=1`` (the switch lm-eval's own code tasks require, via HF ``evaluate``).

**Containment layers** of every run (:func:`run_tests`):

1. a fresh ``python -I -X utf8`` (isolated: no PYTHON* variables, no user site, no script directory on sys.path),
   with a clean environment (no proxies, no tokens; ``HOME``/``TMPDIR`` = the run's folder), stdin from /dev/null,
   in its own session and process group, in a temporary working folder that is deleted afterwards;
2. resource limits set before the model's code runs: address space (``RLIMIT_AS``), CPU seconds, file size, open
   files, no core files, ``RLIMIT_NPROC`` = 0 (only enforced by the kernel for non-root users); a wall-clock
   timeout in the parent, which then kills the whole process group;
3. an audit hook (``sys.addaudithook``, installed before the model's code runs; audit hooks cannot be removed from
   Python) that denies: process creation and signals (``os.fork``/``forkpty``/``exec*``/``posix_spawn``/
   ``system``, ``subprocess.Popen``, ``os.kill``/``killpg``, ``signal.pthread_kill``), every ``socket.*`` event
   (connect, bind, getaddrinfo, …) and other network clients (urllib, http.client, ftplib, smtplib, …),
   opening files for writing (and renaming, deleting, chmod/chown/utime/truncate, mkdir) outside the run's folder,
   ``os.open`` for writing with a relative path (its ``dir_fd`` is not audited), non-regular files opened for
   writing, more than 64 files opened for writing, links, ``ioctl``, raising resource limits, ``ctypes``, sqlite,
   and ``gc`` object enumeration; importing ``ctypes``, ``_posixsubprocess`` (hence ``subprocess`` and process
   pools), ``cffi``, shared memory, dbm, readline and the CPython test modules fails with ImportError; the
   unaudited ``os.pidfd_open``, ``signal.pidfd_send_signal``, ``os.mknod``, ``os.mkfifo`` and
   ``os.memfd_create`` are removed. A sample that triggered any denied event fails, even if its code caught the
   exception. The model's code and the tests run in one namespace named ``solution`` (so an
   ``if __name__ == "__main__":`` block does not run);
4. when the machine allows it (probed once): as root, the child runs under uid/gid 65534 (kernel file permissions,
   ``RLIMIT_NPROC`` enforced, cannot signal the evaluator) and/or in new network and PID namespaces via
   ``unshare`` (no network interface but a down loopback; other processes' PIDs do not exist).
   ``JASTER_SANDBOX_ISOLATION=hook`` turns these off (layers 1–3 only).

This is containment for buggy or careless model code, **not a security boundary**. Code written to escape can
still, for example: load a fresh copy of a builtin module through ``_imp`` (getting back the removed functions),
load a C extension by path without an "import" event, hand the hook a path object whose ``__fspath__`` answers
differently on its second call, reach the runner's frame to forge a "passed" verdict or make ``==`` always true
(every in-process test harness has that weakness), or use whatever a kernel feature offers that CPython does not
audit. Reads are not restricted: the code can read any file the evaluator's user can (there is no network to send
it anywhere; only pass/fail and a short reason come back, and the reason is only logged at debug level). When
the run is root without uid change (as on machines whose interpreter lives in a root-only folder), the kernel
protects nothing that the hook misses. Use a container or VM (llm-jp-eval v2 uses a dify-sandbox container) for
adversarial code.
"""

from __future__ import annotations

import ast
import functools
import json
import logging
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

logger = logging.getLogger("lm_eval.jaster")

__all__ = [
    "ALLOW_ENV",
    "CodeExecutionNotAllowed",
    "ExecResult",
    "Limits",
    "execution_allowed",
    "isolation_layers",
    "parse_tests",
    "process_results_code_exec",
    "pylint_check",
    "run_many",
    "run_tests",
]

ALLOW_ENV = "JASTER_ALLOW_CODE_EXEC"
HF_ALLOW_ENV = "HF_ALLOW_CODE_EVAL"
ISOLATION_ENV = "JASTER_SANDBOX_ISOLATION"  # "auto" (default) or "hook"
TIMEOUT_ENV = "JASTER_CODE_EXEC_TIMEOUT"  # seconds of wall time per sample
MEMORY_ENV = "JASTER_CODE_EXEC_MEMORY_MB"
SANDBOX_UID = 65534  # nobody / nogroup


class CodeExecutionNotAllowed(RuntimeError):
    """Model-written code would run, but the user has not agreed to it."""


def _lm_eval_confirmed() -> bool:
    """True when called (directly or not) from lm-eval's ``evaluate()`` with ``confirm_run_unsafe_code=True``."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "evaluate" and frame.f_globals.get("__name__") == "lm_eval.evaluator":
            return frame.f_locals.get("confirm_run_unsafe_code") is True
        frame = frame.f_back
    return False


def execution_allowed() -> bool:
    """Whether model-written code may run here (see the module docstring)."""
    return (os.environ.get(ALLOW_ENV) == "1" or os.environ.get(HF_ALLOW_ENV) == "1") or _lm_eval_confirmed()


def _require_allowed() -> None:
    if not execution_allowed():
        raise CodeExecutionNotAllowed(
            "Scoring this task runs code written by the model. Run lm-eval with --confirm_run_unsafe_code "
            f"(lm-eval-jaster sets {ALLOW_ENV}=1 then), or set {ALLOW_ENV}=1 (or {HF_ALLOW_ENV}=1) in the "
            "environment if you call the scorer yourself. The code runs in a contained child process (no network, "
            "no writes outside a temporary folder, time and memory limits), which is not a security boundary.")


# ---------------------------------------------------------------------------
# Limits and results
# ---------------------------------------------------------------------------


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 10.0  # wall clock, enforced by the parent (kills the process group)
    cpu_s: int = 10  # RLIMIT_CPU (SIGXCPU; SIGKILL one second later — inside a PID namespace only the SIGKILL acts)
    memory_bytes: int = 2 * 1024 ** 3  # RLIMIT_AS
    file_size_bytes: int = 16 * 1024 ** 2  # RLIMIT_FSIZE
    open_files: int = 128  # RLIMIT_NOFILE
    output_bytes: int = 64 * 1024  # tail of stdout/stderr kept by the parent

    @classmethod
    def from_env(cls) -> "Limits":
        timeout = _env_float(TIMEOUT_ENV, cls.timeout_s)
        memory_mb = _env_float(MEMORY_ENV, cls.memory_bytes / 1024 ** 2)
        return cls(timeout_s=timeout, cpu_s=max(1, int(timeout + 0.999)), memory_bytes=int(memory_mb * 1024 ** 2))


@dataclass(frozen=True)
class ExecResult:
    passed: bool
    reason: str  # "passed", "test 2 raised AssertionError", "timeout after 10s", "sandbox: denied os.fork", …
    duration_s: float
    returncode: int | None = None
    max_rss_kb: int | None = None  # the child's peak RSS (VmHWM) as it reported it; None without a verdict
    isolation: tuple[str, ...] = field(default=())


# ---------------------------------------------------------------------------
# The child: a -c program, so nothing of this package is imported before the hook
# ---------------------------------------------------------------------------

_CHILD_SOURCE = r'''
import sys, os, json, resource, signal, posix, builtins, stat as _stat

def _main():
    job_path = sys.argv[1]
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    os.remove(job_path)
    token = job["token"]
    out_fd = os.dup(1)

    def report(passed, reason):
        rss = None
        try:  # peak RSS of this image (ru_maxrss would include the forked parent's, kept across exec)
            with open("/proc/self/status") as status:
                rss = int(next(l for l in status if l.startswith("VmHWM:")).split()[1])
        except (OSError, StopIteration, ValueError, IndexError):
            pass
        line = "\n" + token + " " + json.dumps({"passed": passed, "reason": reason[:300], "rss": rss}) + "\n"
        try:
            os.write(out_fd, line.encode("utf-8", "replace"))
        except OSError:
            pass
        os._exit(0)

    lim = job["limits"]
    try:
        resource.setrlimit(resource.RLIMIT_AS, (lim["memory"], lim["memory"]))
        resource.setrlimit(resource.RLIMIT_CPU, (lim["cpu"], lim["cpu"] + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (lim["fsize"], lim["fsize"]))
        resource.setrlimit(resource.RLIMIT_NOFILE, (lim["nofile"], lim["nofile"]))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    except (ValueError, OSError) as e:
        report(False, "sandbox setup failed: " + repr(e))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an over-long write fails with EFBIG instead of killing
    sys.dont_write_bytecode = True
    import _signal
    for mod, name in ((os, "pidfd_open"), (posix, "pidfd_open"), (signal, "pidfd_send_signal"),
                      (_signal, "pidfd_send_signal"), (os, "mknod"), (posix, "mknod"), (os, "mkfifo"),
                      (posix, "mkfifo"), (os, "memfd_create"), (posix, "memfd_create")):
        try:
            delattr(mod, name)  # no audit events exist for these
        except AttributeError:
            pass

    violations = []
    _install_hook(job["root"], violations.append)
    ns = {"__name__": "solution", "__builtins__": builtins}

    def describe(e):
        try:
            text = str(e)
        except BaseException:
            text = ""
        return type(e).__name__ + (": " + text[:200] if text else "")

    verdict = None
    try:
        exec(compile(job["code"], "<solution>", "exec"), ns)
    except BaseException as e:
        verdict = "solution raised " + describe(e)
    if verdict is None:
        for i, test in enumerate(job["tests"]):
            try:
                exec(compile(test, "<test %d>" % (i + 1), "exec"), ns)
            except BaseException as e:
                verdict = "test %d raised %s" % (i + 1, describe(e))
                break
    if violations:
        report(False, "sandbox: denied " + violations[0])
    if verdict is not None:
        report(False, verdict)
    report(True, "passed")


def _install_hook(root, record):
    # Everything the hook uses is captured now (C functions, builtins, immutable values), so that model code
    # monkeypatching os, os.path or builtins cannot change the hook's answers.
    _getcwd, _fspath, _stat_fn = posix.getcwd, posix.fspath, posix.stat
    _S_ISREG = _stat.S_ISREG
    _type, _str, _bytes, _int, _OSError = type, str, bytes, int, OSError
    _PermissionError, _ImportError = PermissionError, ImportError
    ROOT, ROOT_SLASH = root, root + "/"
    writes = [0]  # files opened for writing: at most MAX_WRITES (each at most RLIMIT_FSIZE bytes)
    MAX_WRITES = 64
    WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    DENY = frozenset((
        "os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn", "os.system", "os.startfile",
        "subprocess.Popen", "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill",
        "resource.setrlimit", "resource.prlimit", "os.symlink", "os.link", "os.mknod", "os.mkfifo",
        "fcntl.ioctl", "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames",
        "os.setns", "os.unshare", "os.chroot",
    ))
    DENY_PREFIXES = ("socket.", "ctypes.", "urllib.", "ftplib.", "smtplib.", "poplib.", "imaplib.", "nntplib.",
                     "telnetlib.", "webbrowser.", "http.client.", "sqlite3.")
    # Modules that reach processes, native code or files without audit events (C-level writers: shared memory,
    # dbm, sqlite, readline history).
    DENY_IMPORT = frozenset(("ctypes", "_ctypes", "_posixsubprocess", "cffi", "_cffi_backend", "_testcapi",
                             "_testinternalcapi", "_testmultiphase", "_xxsubinterpreters", "_xxinterpchannels",
                             "_posixshmem", "_dbm", "_gdbm", "_sqlite3", "readline"))
    # event -> (positions of paths that must stay in the run's folder, positions of dir_fd arguments)
    PATH_EVENTS = {
        "os.remove": ((0,), (1,)), "os.rmdir": ((0,), (1,)), "os.mkdir": ((0,), (2,)),
        "os.rename": ((0, 1), (2, 3)), "os.chmod": ((0,), (2,)), "os.chown": ((0,), (3,)),
        "os.utime": ((0,), (3,)), "os.truncate": ((0,), ()), "os.chflags": ((0,), ()),
        "os.lchflags": ((0,), ()), "os.setxattr": ((0,), ()), "os.removexattr": ((0,), ()),
        "shutil.rmtree": ((0,), (1,)),
    }

    def absolute(p):
        if not p.startswith("/"):
            p = _getcwd() + "/" + p
        parts = []
        for seg in p.split("/"):
            if seg == "" or seg == ".":
                continue
            if seg == "..":
                if parts:
                    parts.pop()
                continue
            parts.append(seg)
        return "/" + "/".join(parts)

    def as_text(p):
        t = _type(p)
        if t is not _str and t is not _bytes:
            p = _fspath(p)
            t = _type(p)
        if t is _bytes:
            p = p.decode("utf-8", "surrogateescape")
        return p

    def inside(p):
        a = absolute(as_text(p))
        return a == ROOT or a.startswith(ROOT_SLASH)

    def deny(event):
        record(event)
        raise _PermissionError("sandbox: " + event + " denied")

    def hook(event, args):
        if event == "open":
            path, mode, flags = args
            writing = (_type(mode) is _str and ("w" in mode or "a" in mode or "x" in mode or "+" in mode)) or (
                _type(flags) is _int and flags & WRITE_FLAGS)
            if not writing or _type(path) is _int:
                return
            text = as_text(path)
            if text == "/dev/null":
                return
            if mode is None and not text.startswith("/"):
                deny("open (relative os.open for writing)")  # its dir_fd is not in the audit event
            if not inside(text):
                deny("open for writing outside the sandbox folder")
            writes[0] += 1
            if writes[0] > MAX_WRITES:
                deny("open for writing (more than %d files)" % MAX_WRITES)
            try:
                st = _stat_fn(text)
            except _OSError:
                return
            if not _S_ISREG(st.st_mode):
                deny("open of a non-regular file for writing")
            return
        if event == "import":
            if args[0] in DENY_IMPORT:
                raise _ImportError("sandbox: import of " + args[0] + " denied")
            return
        if event in DENY or event.startswith(DENY_PREFIXES):
            deny(event)
        spec = PATH_EVENTS.get(event)
        if spec is not None:
            paths, dir_fds = spec
            for i in dir_fds:
                if i < len(args) and args[i] is not None and args[i] != -1:
                    deny(event + " with dir_fd")
            for i in paths:
                if i < len(args) and _type(args[i]) is not _int and not inside(args[i]):
                    deny(event + " outside the sandbox folder")

    sys.addaudithook(hook)

_main()
'''

_PYLINT_SOURCE = r'''
import sys, resource
lim = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
sys.dont_write_bytecode = True
from pylint.lint import Run
Run(["--persistent=n", "--score=n", "--reports=n", "--errors-only", "--msg-template={msg_id}", sys.argv[1]],
    exit=False)
sys.stdout.write("\nPYLINT_DONE\n")
'''


# ---------------------------------------------------------------------------
# Kernel isolation available on this machine (probed once)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Isolation:
    layers: tuple[str, ...]
    prefix: tuple[str, ...] = ()
    uid: int | None = None


_HOOK_ONLY = _Isolation(("audit-hook", "rlimits"))


def _probe(candidate: _Isolation) -> bool:
    kwargs = {}
    if candidate.uid is not None:
        kwargs = {"user": candidate.uid, "group": candidate.uid, "extra_groups": []}
    try:
        run = subprocess.run([*candidate.prefix, sys.executable, "-I", "-c", "import sys; sys.stdout.write(sys.version)"],
                             capture_output=True, text=True, timeout=20, cwd="/", env=_child_env("/"), **kwargs)
    except (OSError, subprocess.SubprocessError, ValueError):
        return False
    return run.returncode == 0 and run.stdout == sys.version  # the very interpreter we run, not another one


@functools.lru_cache(maxsize=None)
def _isolation(mode: str) -> _Isolation:
    if mode == "hook":
        return _HOOK_ONLY
    if mode != "auto":
        raise ValueError(f"{ISOLATION_ENV} must be 'auto' or 'hook', got {mode!r}")
    unshare = shutil.which("unshare")
    namespaces = ("--net", "--pid", "--fork", "--kill-child", "--")
    candidates = []
    if os.geteuid() == 0:
        if unshare:
            candidates.append(_Isolation(("audit-hook", "rlimits", f"uid:{SANDBOX_UID}", "netns", "pidns"),
                                         (unshare, "--user", *namespaces), SANDBOX_UID))
            candidates.append(_Isolation(("audit-hook", "rlimits", "netns", "pidns"), (unshare, *namespaces)))
        candidates.append(_Isolation(("audit-hook", "rlimits", f"uid:{SANDBOX_UID}"), (), SANDBOX_UID))
    elif unshare:
        candidates.append(_Isolation(("audit-hook", "rlimits", "userns", "netns", "pidns"), (unshare, "--user", *namespaces)))
    for candidate in candidates:
        if _probe(candidate):
            return candidate
    if os.geteuid() == 0:
        logger.warning("Model-written code runs as root here: neither uid %d (the interpreter %s is not accessible "
                       "to it) nor namespaces are available, so only the audit hook and resource limits contain it.",
                       SANDBOX_UID, sys.executable)
    return _HOOK_ONLY


def isolation_layers(mode: str | None = None) -> tuple[str, ...]:
    """The containment layers a run gets here, e.g. ("audit-hook", "rlimits", "netns", "pidns")."""
    return _isolation(mode or os.environ.get(ISOLATION_ENV) or "auto").layers


# ---------------------------------------------------------------------------
# Running one job
# ---------------------------------------------------------------------------


def _child_env(folder: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": folder, "TMPDIR": folder, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "NUMEXPR_NUM_THREADS": "1"}


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _spawn(argv: list[str], folder: str, iso: _Isolation, limits: Limits,
           on_start: Callable[[int], None] | None) -> tuple[bytes, int | None, int | None, bool, float]:
    """Run argv in folder; return (output tail, exit status, max RSS in KiB, timed out, seconds)."""
    kwargs = {}
    if iso.uid is not None:
        kwargs = {"user": iso.uid, "group": iso.uid, "extra_groups": []}
    started = time.monotonic()
    deadline = started + limits.timeout_s
    proc = subprocess.Popen([*iso.prefix, *argv], cwd=folder, env=_child_env(folder), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                            close_fds=True, **kwargs)
    if on_start is not None:
        on_start(proc.pid)
    tail = bytearray()
    timed_out = False
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    break
                if not sel.select(timeout=remaining):
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                tail += chunk
                if len(tail) > limits.output_bytes:
                    del tail[:len(tail) - limits.output_bytes]
        status = rss = None
        while status is None:  # the output may end before the process does
            pid, raw, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status, rss = os.waitstatus_to_exitcode(raw), usage.ru_maxrss
                break
            if timed_out or time.monotonic() >= deadline:
                timed_out = True
                raw, usage = _kill_and_reap(proc.pid, bool(iso.prefix))
                status, rss = os.waitstatus_to_exitcode(raw), usage.ru_maxrss
                break
            time.sleep(0.005)
        proc.returncode = status
    finally:
        if proc.returncode is None:
            _kill_group(proc.pid)
            proc.wait()
        _kill_group(proc.pid)  # anything left in the group (nothing, unless a layer failed)
        proc.stdout.close()
    return bytes(tail), status, rss, timed_out, time.monotonic() - started


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields and int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _kill_and_reap(pid: int, wrapped: bool):
    """SIGKILL the run and reap it. Behind ``unshare --fork`` the interpreter is unshare's child: it is killed
    first so that unshare reaps it (killing unshare first would leave it to the system's init to reap)."""
    if wrapped:
        for child in _children(pid):
            try:
                os.kill(child, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        until = time.monotonic() + 5
        while time.monotonic() < until:
            done, raw, usage = os.wait4(pid, os.WNOHANG)
            if done:
                return raw, usage
            time.sleep(0.005)
    _kill_group(pid)
    _, raw, usage = os.wait4(pid, 0)
    return raw, usage


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@functools.lru_cache(maxsize=2048)
def _run_cached(code: str, tests: tuple[str, ...], limits: Limits, mode: str) -> ExecResult:
    return _run(code, tests, limits, mode, None)


def _run(code: str, tests: tuple[str, ...], limits: Limits, mode: str,
         on_start: Callable[[int], None] | None) -> ExecResult:
    iso = _isolation(mode)
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="jaster_code_", ignore_cleanup_errors=True) as tmp:
        folder = os.path.realpath(tmp)
        job_path = os.path.join(folder, ".job.json")
        with open(job_path, "w", encoding="utf-8") as f:
            json.dump({"token": token, "root": folder, "code": code, "tests": list(tests),
                       "limits": {"memory": limits.memory_bytes, "cpu": limits.cpu_s,
                                  "fsize": limits.file_size_bytes, "nofile": limits.open_files}}, f)
        if iso.uid is not None:
            os.chown(folder, iso.uid, iso.uid)
            os.chown(job_path, iso.uid, iso.uid)
        tail, status, _, timed_out, seconds = _spawn(
            [sys.executable, "-I", "-X", "utf8", "-c", _CHILD_SOURCE, job_path], folder, iso, limits, on_start)
    marker = tail.rfind(token.encode())
    if marker >= 0:
        line = tail[marker + len(token):].split(b"\n", 1)[0]
        try:
            verdict = json.loads(line)
            child_rss = verdict.get("rss")
            return ExecResult(verdict["passed"] is True, str(verdict["reason"]), seconds, status,
                              child_rss if isinstance(child_rss, int) else None, iso.layers)
        except (ValueError, KeyError, TypeError):
            pass
    if timed_out:
        reason = f"timeout after {limits.timeout_s:g}s"
    elif status is not None and status < 0:
        name = _signal_name(-status)
        reason = f"killed by {name}" + (" (CPU time limit)" if name in ("SIGXCPU", "SIGKILL") else "")
    elif status is not None and status > 128 and "pidns" in iso.layers:  # unshare --fork reports 128 + signal
        reason = f"killed by {_signal_name(status - 128)}"
    else:
        reason = f"exited without a result (exit status {status})"
    return ExecResult(False, reason, seconds, status, None, iso.layers)


def run_tests(code: str, tests: Sequence[str], limits: Limits | None = None, *, isolation: str | None = None,
              on_start: Callable[[int], None] | None = None) -> ExecResult:
    """Run ``code``, then each test (in one namespace, in order); passed = nothing raised and nothing was denied.

    ``isolation``: "auto" (default; ``JASTER_SANDBOX_ISOLATION``) or "hook" (no uid change, no namespaces).
    ``on_start(pid)`` is called with the child's pid (its process group and session id) once it runs.
    """
    _require_allowed()
    limits = limits or Limits.from_env()
    mode = isolation or os.environ.get(ISOLATION_ENV) or "auto"
    if not isinstance(code, str) or not all(isinstance(t, str) for t in tests):
        raise TypeError("code and tests must be strings")
    if on_start is not None:
        return _run(code, tuple(tests), limits, mode, on_start)
    return _run_cached(code, tuple(tests), limits, mode)


def run_many(jobs: Iterable[tuple[str, Sequence[str]]], limits: Limits | None = None, *, workers: int = 4,
             isolation: str | None = None) -> list[ExecResult]:
    """:func:`run_tests` for many (code, tests) pairs, at most ``workers`` children at a time, results in order."""
    _require_allowed()
    jobs = list(jobs)
    workers = max(1, min(workers, os.cpu_count() or 1, len(jobs) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda job: run_tests(job[0], job[1], limits, isolation=isolation), jobs))


# ---------------------------------------------------------------------------
# pylint_check (static: the code is parsed by pylint, never run)
# ---------------------------------------------------------------------------

_pylint_warned = threading.Event()


def _pylint_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("pylint") is not None


@functools.lru_cache(maxsize=2048)
def pylint_check(code: str, timeout_s: float = 120.0) -> bool | None:
    """llm-jp-eval's ``pylint_check``: True when pylint reports no error-class (E…) message for the code.

    None when pylint is not installed (``pip install pylint``). pylint only parses the code; it runs in a child
    process with the same environment, folder and kernel isolation as :func:`run_tests` (no audit hook).
    """
    if not _pylint_available():
        if not _pylint_warned.is_set():
            _pylint_warned.set()
            logger.warning("pylint is not installed: the pylint_check metric of the CG tasks is not computed "
                           "(pip install pylint).")
        return None
    iso = _isolation(os.environ.get(ISOLATION_ENV) or "auto")
    limits = Limits(timeout_s=timeout_s, output_bytes=256 * 1024)
    with tempfile.TemporaryDirectory(prefix="jaster_pylint_", ignore_cleanup_errors=True) as tmp:
        folder = os.path.realpath(tmp)
        source = os.path.join(folder, "solution.py")
        with open(source, "w", encoding="utf-8") as f:
            f.write(code)
        if iso.uid is not None:
            os.chown(folder, iso.uid, iso.uid)
            os.chown(source, iso.uid, iso.uid)
        tail, status, _, timed_out, _ = _spawn(
            [sys.executable, "-I", "-X", "utf8", "-c", _PYLINT_SOURCE, source, str(limits.memory_bytes)],
            folder, iso, limits, None)
    lines = tail.decode("utf-8", "replace").splitlines()
    if timed_out or "PYLINT_DONE" not in lines:
        logger.debug("pylint did not finish (status %s, timed out %s): %s", status, timed_out, lines[-5:])
        return False
    return not any(line.strip().startswith("E") and line.strip()[1:].isdigit() for line in lines)


# ---------------------------------------------------------------------------
# lm-eval glue
# ---------------------------------------------------------------------------


def parse_tests(gold: str) -> list[str]:
    """The test cases of a CG sample: its gold output is ``str(list_of_test_strings)`` (llm-jp-eval's format)."""
    try:
        tests = ast.literal_eval(gold)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as e:
        raise ValueError(f"the gold output of a code sample is not a Python list literal: {gold[:80]!r}") from e
    if not isinstance(tests, list) or not all(isinstance(t, str) for t in tests):
        raise ValueError(f"the gold output of a code sample is not a list of strings: {gold[:80]!r}")
    return tests


def process_results_code_exec(doc: dict, results: list[str]) -> dict[str, float]:
    """lm-eval ``process_results`` of the CG tasks: ``code_exec`` (= ``score``), ``pylint_check`` when pylint is
    installed, and ``format_adherence`` for the lenient pipeline.

    ``results[0]`` is the filtered answer: llm-jp-eval's post-processing (text before the first blank line, NFKC)
    for the "llm-jp-eval" pipeline, :func:`lm_eval_jaster.lenient.extract_code` for "lenient". The gold is
    NFKC-normalised, as llm-jp-eval normalises every gold, then read as the list of test cases.
    """
    from lm_eval_jaster.metrics import LenientAnswer, normalize_gold

    answer = results[0]
    code = str(answer)
    result = run_tests(code, parse_tests(normalize_gold(doc["output"])))
    logger.debug("code_exec: %s (%.2fs)", result.reason, result.duration_s)
    value = 1.0 if result.passed else 0.0
    out = {"code_exec": value, "score": value}
    lint = pylint_check(code)
    if lint is not None:
        out["pylint_check"] = 1.0 if lint else 0.0
    if isinstance(answer, LenientAnswer):
        out["format_adherence"] = 1.0 if code == answer.strict else 0.0
    return out
