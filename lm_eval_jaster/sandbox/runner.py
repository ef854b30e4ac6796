"""Host side of the sandbox: starting one sample in bubblewrap (or a plain child process), judging it, killing it.

The evaluator is the trusted runner. It writes the job to the child (:mod:`.child`), then one fresh nonce per step
(the solution, then each test), each only after the previous step was acknowledged with its own nonce; the verdict
is the evaluator's: passed only when every step's nonce came back with "ok". The child's stdout and stderr never
carry the verdict (model output goes to /dev/null inside). docs/sandbox.md has the whole design.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import secrets
import select
import selectors
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from lm_eval_jaster.errors import JasterError
from lm_eval_jaster.sandbox.child import EXIT_PROTOCOL, EXIT_SETUP, NONCE_BYTES
from lm_eval_jaster.sandbox.cleanup import remove_tree
from lm_eval_jaster.sandbox.limits import Limits

logger = logging.getLogger("lm_eval.jaster")

MODES = ("bwrap", "process")
SANDBOX_UID = 65534  # nobody / nogroup
WORK_DIR = "/tmp"  # the sandbox's private tmpfs, its working and home directory
PROGRAM_DIR = "/sandbox"  # where the child program is bound read-only
CHILD = Path(__file__).with_name("child.py")
PYLINT_CHILD = Path(__file__).with_name("pylint_child.py")
MAX_ACK_LINE = 4096

INSTALL_HINT = ("Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap) and "
                "allow user namespaces (sysctl kernel.unprivileged_userns_clone=1 where that exists, "
                "user.max_user_namespaces > 0; a container needs a seccomp profile that allows them), or choose the "
                "weaker process-only mode: --metadata '{\"jaster_sandbox\": \"process\"}' (JASTER_SANDBOX=process).")


class SandboxUnavailable(JasterError):
    """The sandbox the run asks for cannot be created on this machine."""


@dataclass(frozen=True)
class ExecResult:
    passed: bool
    reason: str  # "passed", "test 2 raised AssertionError", "timeout after 10s", "sandbox: denied os.fork", …
    duration_s: float
    returncode: int | None = None
    max_rss_kb: int | None = None  # the child's peak RSS as it reported it; None without an acknowledgement
    isolation: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------------------------
# What the sandbox is made of on this machine
# ---------------------------------------------------------------------------------------------------------------


def interpreter() -> str:
    """The real interpreter binary (the venv's ``python`` is a link to it): it runs inside the sandbox."""
    return os.path.realpath(sys.executable)


@functools.lru_cache(maxsize=None)
def site_dirs() -> tuple[str, ...]:
    """This environment's site-packages: model code may import what the evaluator's environment has (as
    llm-jp-eval's in-process ``exec`` could); bound read-only in the sandbox, appended to ``sys.path``."""
    found = []
    for path in [*site.getsitepackages(), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]:
        real = os.path.realpath(path)
        if os.path.isdir(real) and real not in found:
            found.append(real)
    return tuple(found)


def _minimal(paths: list[str]) -> list[str]:
    """The paths without those inside another one of them."""
    kept: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


@functools.lru_cache(maxsize=None)
def bind_arguments() -> tuple[str, ...]:
    """bwrap arguments exposing, read-only, only what the interpreter needs: the system libraries (not /usr/bin,
    /etc or any home), the interpreter binary, its standard library and this environment's site-packages."""
    args: list[str] = []
    system = [p for p in ("/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/libx32") if os.path.isdir(p)]
    for path in ("/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            system.append(path)
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix, "installed_base": sys.base_prefix,
            "installed_platbase": sys.base_exec_prefix}
    stdlib = sysconfig.get_paths(vars=base)
    python_dirs = [os.path.join(sys.base_prefix, sys.platlibdir), os.path.join(sys.base_prefix, "lib"),
                   sysconfig.get_config_var("LIBDIR") or "", stdlib["stdlib"], stdlib["platstdlib"], *site_dirs()]
    python_dirs = [os.path.realpath(p) for p in python_dirs if p and os.path.isdir(p)]
    binds = _minimal(system + python_dirs)
    exe = interpreter()
    if not any(exe.startswith(d.rstrip("/") + "/") for d in binds):
        binds.append(exe)
    # bwrap creates missing parents with mode 0700: create them 0755 first, or the sandbox uid cannot traverse them
    parents = {str(parent) for path in [*binds, PROGRAM_DIR + "/x"] for parent in Path(path).parents}
    for parent in sorted(parents - {"/"}, key=lambda p: (p.count("/"), p)):
        if not any(parent == b or parent.startswith(b + "/") for b in binds):
            args += ["--perms", "0755", "--dir", parent]
    for path in binds:
        args += ["--ro-bind", path, path]
    return tuple(args)


def child_env(home: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "NUMEXPR_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Launcher:
    """How a sample is started in one mode on this machine."""

    mode: str  # "bwrap" or "process"
    layers: tuple[str, ...]  # what contains the code, e.g. ("bwrap", "uid:65534", "pidns", …)
    bwrap: str | None = None
    privileged: bool = False  # bwrap runs as root without a user namespace; the child drops to SANDBOX_UID
    disable_userns: bool = True  # bwrap --disable-userns (no nested user namespaces)
    run_as: int | None = None  # process mode: the child process's uid

    def argv(self, program: Path, args: Sequence[str], limits: Limits) -> list[str]:
        python = [interpreter(), "-I", "-S", "-B", "-X", "utf8"]
        args = ([f"--uid={SANDBOX_UID}"] if self.privileged else []) + list(args)
        if self.mode == "process":
            return [*python, str(program), *args]
        argv = [self.bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try", "--hostname", "sandbox", "--die-with-parent", "--new-session"]
        if self.privileged:
            argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            argv += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
            if self.disable_userns:
                argv.append("--disable-userns")
        inside = f"{PROGRAM_DIR}/{program.name}"
        argv += [*bind_arguments(), "--ro-bind", str(program), inside, "--dev", "/dev", "--remount-ro", "/dev",
                 "--perms", "1777", "--size", str(limits.work_dir_bytes), "--tmpfs", WORK_DIR, "--chdir", WORK_DIR,
                 "--remount-ro", "/", "--", *python, inside, *args]
        return argv

    def popen_kwargs(self) -> dict:
        if self.run_as is None:
            return {}
        return {"user": self.run_as, "group": self.run_as, "extra_groups": []}


_HOST_UID = "uid:root" if os.geteuid() == 0 else f"uid:{os.geteuid()}"


def _bwrap_candidates(bwrap: str) -> list[Launcher]:
    namespaces = ("pidns", "netns", "ipcns", "utsns", "mountns", "tmpfs")
    candidates = []
    if os.geteuid() == 0:  # root: a real unprivileged uid outside too, so the kernel enforces RLIMIT_NPROC
        candidates.append(Launcher("bwrap", ("bwrap", f"uid:{SANDBOX_UID}", *namespaces, "rlimits", "nproc",
                                             "audit-hook"), bwrap, privileged=True))
    nproc = ("nproc",) if os.geteuid() != 0 else ()  # uid 0 outside the user namespace: RLIMIT_NPROC not enforced
    for disable in (True, False):
        candidates.append(Launcher("bwrap", ("bwrap", "userns", f"uid:{SANDBOX_UID}", *namespaces, "rlimits", *nproc,
                                             "audit-hook"), bwrap, disable_userns=disable))
    return candidates


def _process_candidates() -> list[Launcher]:
    candidates = []
    if os.geteuid() == 0:
        candidates.append(Launcher("process", ("process", f"uid:{SANDBOX_UID}", "rlimits", "nproc", "audit-hook"),
                                   run_as=SANDBOX_UID))
        candidates.append(Launcher("process", ("process", _HOST_UID, "rlimits", "audit-hook")))
    else:
        candidates.append(Launcher("process", ("process", _HOST_UID, "rlimits", "nproc", "audit-hook")))
    return candidates


def _probe(candidate: Launcher) -> str | None:
    """None when a trivial sample passes with this launcher, else why not."""
    try:
        result = execute(candidate, "x = 1", ("assert x == 1",), Limits(timeout_s=30, cpu_s=30))
    except (OSError, SandboxError) as e:
        return str(e)
    return None if result.passed else result.reason


@functools.lru_cache(maxsize=None)
def _find_launcher(mode: str) -> Launcher | SandboxUnavailable:
    if mode == "bwrap":
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            return SandboxUnavailable("Model-written code runs in a bubblewrap sandbox, and bwrap is not installed.",
                                      INSTALL_HINT)
        candidates = _bwrap_candidates(bwrap)
    else:
        candidates = _process_candidates()
    failures = []
    for candidate in candidates:
        failure = _probe(candidate)
        if failure is None:
            if mode == "bwrap" and "nproc" not in candidate.layers:
                logger.warning("The bwrap sandbox runs as root outside its user namespace here (bwrap cannot "
                               "create a sandbox without one): the kernel does not enforce its process limit.")
            return candidate
        failures.append(f"{' '.join(candidate.layers)}: {failure}")
        logger.debug("sandbox candidate %s failed: %s", candidate.layers, failure)
    if mode == "bwrap":
        return SandboxUnavailable(f"bwrap cannot create a sandbox here ({failures[0][:300]}).", INSTALL_HINT)
    return SandboxUnavailable(f"cannot start a child interpreter ({failures[-1][:300]}).",
                              "Check that the Python interpreter runs (see the debug log).")


def launcher(mode: str) -> Launcher:
    """The launcher of ``mode`` on this machine (probed once); SandboxUnavailable when there is none."""
    found = _find_launcher(mode)
    if isinstance(found, SandboxUnavailable):
        raise found
    return found


# ---------------------------------------------------------------------------------------------------------------
# One sample
# ---------------------------------------------------------------------------------------------------------------


class SandboxError(JasterError):
    """The sandbox of one sample failed to start (before any model code ran)."""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _read_proc_stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _sample_processes(root: int, session: bool) -> dict[int, str]:
    """The host's processes of one sample: ``root`` and its descendants (and, with ``session``, the members of the
    session ``root`` leads), as pid -> start time."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _read_proc_stat(int(entry))
            if fields:
                table[int(entry)] = fields
    found = {root} if root in table else set()
    found |= {pid for pid, fields in table.items() if session and int(fields[3]) == root}
    grew = True
    while grew:
        grew = False
        for pid, fields in table.items():
            if pid not in found and int(fields[1]) in found:
                found.add(pid)
                grew = True
    return {pid: table[pid][19] for pid in found}


def _gone(pid: int, started: str) -> bool:
    fields = _read_proc_stat(pid)
    return fields is None or fields[19] != started or fields[0] in ("Z", "X")


def _stop(proc: subprocess.Popen, launch: Launcher) -> None:
    """Kill everything the sample started and reap it; return once all of it is gone. bwrap: the sandbox's init
    takes its whole PID namespace with it. Process mode: the child's descendants and its session."""
    processes = _sample_processes(proc.pid, session=launch.mode == "process")
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in processes:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    proc.wait()
    # SIGKILLed processes leave at once; a loaded machine can take seconds to tear a sandbox (and its tmpfs) down.
    until = time.monotonic() + 30
    while time.monotonic() < until and not all(_gone(pid, started) for pid, started in processes.items()):
        time.sleep(0.002)


def execute(launch: Launcher, code: str, tests: Sequence[str], limits: Limits,
            on_start: Callable[[int], None] | None = None) -> ExecResult:
    """Run one sample with ``launch``; the verdict is decided here (see the module docstring)."""
    started = time.monotonic()
    nonces = [secrets.token_hex(NONCE_BYTES // 2).encode() for _ in range(len(tests) + 1)]
    folder = root = None
    if launch.mode == "process":
        folder = tempfile.mkdtemp(prefix="jaster_code_")
        root = os.path.realpath(folder)
        if launch.run_as is not None:
            os.chown(root, launch.run_as, launch.run_as)
    job = json.dumps({"code": code, "tests": list(tests), "root": root or WORK_DIR, "limits": limits.for_child(),
                      "site_dirs": list(site_dirs())}).encode()
    job_r, job_w = os.pipe()
    ack_r, ack_w = os.pipe()
    try:
        try:
            proc = subprocess.Popen(  # pylint: disable=consider-using-with  # stopped in the finally below
                launch.argv(CHILD, [str(job_r), str(ack_w)], limits), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(job_r, ack_w), start_new_session=True,
                cwd=root or "/", env=child_env(root or WORK_DIR), **launch.popen_kwargs())
        finally:
            os.close(job_r)
            os.close(ack_w)
        try:
            if on_start is not None:
                on_start(proc.pid)
            talk = _Conversation(job_w, ack_r, proc, nonces, str(len(job)).encode() + b"\n" + job, limits,
                                 started + limits.timeout_s)
            talk.run()
        finally:
            _stop(proc, launch)
            proc.stdout.close()
    finally:
        os.close(job_w)
        os.close(ack_r)
        if folder is not None:
            remove_tree(folder)
    seconds = time.monotonic() - started
    status = proc.returncode if talk.exit_status is None else talk.exit_status
    if talk.verdict is not None:
        passed, reason = talk.verdict
        return ExecResult(passed, reason, seconds, status, talk.rss, launch.layers)
    if talk.timed_out:
        return ExecResult(False, f"timeout after {limits.timeout_s:g}s", seconds, status, talk.rss, launch.layers)
    if not talk.ready:
        output = bytes(talk.output).decode("utf-8", "replace").strip().splitlines()
        raise SandboxError(f"the sandbox did not start (exit status {status}): "
                           f"{output[-1][:300] if output else 'no output'}", "See docs/sandbox.md.")
    signal_number = None
    if status is not None and status < 0:
        signal_number = -status
    elif launch.mode == "bwrap" and status is not None and status > 128:  # bwrap reports 128 + signal
        signal_number = status - 128
    if signal_number is not None:
        name = _signal_name(signal_number)
        reason = f"killed by {name}" + (" (CPU time limit)" if name in ("SIGXCPU", "SIGKILL") else "")
    else:
        reason = f"exited without a result (exit status {status})"
    return ExecResult(False, reason, seconds, status, talk.rss, launch.layers)


class _Conversation:
    """The evaluator's side of the step protocol (one sample)."""

    def __init__(self, job_w: int, ack_r: int, proc: subprocess.Popen, nonces: list[bytes], job: bytes,
                 limits: Limits, deadline: float) -> None:
        self.job_w, self.ack_r, self.proc, self.nonces = job_w, ack_r, proc, nonces
        self.limits, self.deadline = limits, deadline
        self.outbox = bytearray(job)
        self.inbox = bytearray()
        self.output = bytearray()  # tail of the sandbox's own stdout/stderr (bwrap's messages, setup errors)
        self.step = 0
        self.ready = False
        self.verdict: tuple[bool, str] | None = None
        self.timed_out = False
        self.exit_status: int | None = None
        self.rss: int | None = None

    def _step_name(self) -> str:
        return "solution" if self.step == 0 else f"test {self.step}"

    def _handle(self, line: bytes) -> None:
        if line == b"ready" and not self.ready:
            self.ready = True
            self.outbox += self.nonces[0] + b"\n"
            return
        if line.startswith(b"denied "):
            self.verdict = (False, "sandbox: denied " + line[7:].decode("ascii", "replace"))
            return
        nonce, _, rest = line.partition(b" ")
        if not self.ready or self.step >= len(self.nonces) or not secrets.compare_digest(nonce,
                                                                                         self.nonces[self.step]):
            self.verdict = (False, "sandbox: unexpected message on the result channel")
            return
        kind, _, rest = rest.partition(b" ")
        rss, _, text = rest.partition(b" ")
        if rss.isdigit():
            self.rss = int(rss)
        if kind == b"ok" and not text:
            self.step += 1
            if self.step == len(self.nonces):
                self.verdict = (True, "passed")
            else:
                self.outbox += self.nonces[self.step] + b"\n"
        elif kind == b"raised":
            self.verdict = (False, f"{self._step_name()} raised {text.decode('utf-8', 'replace')}"[:300])
        else:
            self.verdict = (False, "sandbox: unexpected message on the result channel")

    def run(self) -> None:
        os.set_blocking(self.job_w, False)
        out = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(self.ack_r, selectors.EVENT_READ)
            sel.register(out, selectors.EVENT_READ)
            writing = False
            while self.verdict is None:
                if self.outbox and not writing:
                    sel.register(self.job_w, selectors.EVENT_WRITE)
                    writing = True
                remaining = self.deadline - time.monotonic()
                if remaining <= 0:
                    self.timed_out = True
                    return
                for key, _ in sel.select(timeout=remaining):
                    if key.fd == self.job_w:
                        try:
                            sent = os.write(self.job_w, self.outbox)
                        except BlockingIOError:
                            sent = 0
                        except BrokenPipeError:  # the child is gone; its exit tells why
                            sent = len(self.outbox)
                        del self.outbox[:sent]
                        if not self.outbox:
                            sel.unregister(self.job_w)
                            writing = False
                    elif key.fd == out:
                        chunk = os.read(out, 65536)
                        if not chunk:
                            sel.unregister(out)
                        self.output += chunk
                        del self.output[:max(0, len(self.output) - self.limits.output_bytes)]
                    else:
                        chunk = os.read(self.ack_r, 65536)
                        if not chunk:
                            self._wait_exit()
                            return
                        self.inbox += chunk
                        while b"\n" in self.inbox and self.verdict is None:
                            line, _, rest = bytes(self.inbox).partition(b"\n")
                            self.inbox[:] = rest
                            self._handle(line)
                        if len(self.inbox) > MAX_ACK_LINE and self.verdict is None:
                            self.verdict = (False, "sandbox: unexpected message on the result channel")

    def _wait_exit(self) -> None:
        """The result channel closed without a verdict: wait (until the deadline) for the exit status."""
        while True:
            status = self.proc.poll()
            if status is not None:
                self.exit_status = status
                break
            if time.monotonic() >= self.deadline:
                self.timed_out = True
                return
            time.sleep(0.005)
        if not self.ready:  # keep what bwrap or the child said on the way out (why it did not start)
            out = self.proc.stdout.fileno()
            until = min(self.deadline, time.monotonic() + 1)
            while time.monotonic() < until and select.select([out], [], [], until - time.monotonic())[0]:
                chunk = os.read(out, 65536)
                if not chunk:
                    break
                self.output += chunk
                del self.output[:max(0, len(self.output) - self.limits.output_bytes)]


# ---------------------------------------------------------------------------------------------------------------
# pylint (static: the code is parsed, never run)
# ---------------------------------------------------------------------------------------------------------------


_pylint_warned = threading.Event()


def pylint_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("pylint") is not None


def run_pylint(launch: Launcher, code: str, timeout_s: float) -> bool | None:
    """True when pylint reports no error-class (E…) message for ``code``; False when it reports one or does not
    finish; None when pylint is not installed."""
    if not pylint_available():
        if not _pylint_warned.is_set():
            _pylint_warned.set()
            logger.warning("pylint is not installed: the pylint_check metric of the CG tasks is not computed "
                           "(pip install pylint).")
        return None
    limits = Limits(timeout_s=timeout_s, cpu_s=max(1, int(timeout_s + 0.999)))
    folder = tempfile.mkdtemp(prefix="jaster_pylint_") if launch.mode == "process" else None
    root = os.path.realpath(folder) if folder else WORK_DIR
    if folder and launch.run_as is not None:
        os.chown(root, launch.run_as, launch.run_as)
    args = [str(limits.memory_bytes), *site_dirs()]
    try:
        proc = subprocess.Popen(  # pylint: disable=consider-using-with  # stopped in the finally below
            launch.argv(PYLINT_CHILD, args, limits), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True, cwd=folder and root or "/", env=child_env(root),
            **launch.popen_kwargs())
        try:
            output, _ = proc.communicate(code.encode("utf-8", "surrogatepass"), timeout=timeout_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            output, timed_out = b"", True
        finally:
            _stop(proc, launch)
            for stream in (proc.stdin, proc.stdout):
                stream.close()
    finally:
        if folder:
            remove_tree(folder)
    lines = output.decode("utf-8", "replace").splitlines()
    if timed_out or "PYLINT_DONE" not in lines:
        logger.debug("pylint did not finish (status %s, timed out %s): %s", proc.returncode, timed_out, lines[-5:])
        return False
    return not any(line.strip().startswith("E") and line.strip()[1:].isdigit() for line in lines)


__all__ = ["MODES", "SANDBOX_UID", "ExecResult", "Launcher", "SandboxError", "SandboxUnavailable", "execute",
           "launcher", "run_pylint", "EXIT_PROTOCOL", "EXIT_SETUP"]
