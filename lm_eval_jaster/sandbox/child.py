"""The program that runs one sample's model-written code and tests, inside the sandbox (docs/sandbox.md).

Started by :mod:`lm_eval_jaster.sandbox.runner` as ``python -I -S -B -X utf8 child.py [--uid=UID] JOB_FD ACK_FD``
(``--uid``: started as root, become UID first). It
imports only the standard library. The evaluator is the judge: it writes the job to JOB_FD, then, one at a time, a
fresh nonce for each step (the solution, then each test). For each nonce this program runs the step and answers on
ACK_FD ``<nonce> ok <rss>`` or ``<nonce> raised <rss> <description>``; the audit hook adds ``denied <event>``
lines. A sample passes only when the evaluator saw "ok" for every step's nonce, so an exit, a patched ``exec`` or a
line printed anywhere cannot make it pass. Everything the step loop calls is bound before model code runs.
"""

from __future__ import annotations

import builtins
import gc
import json
import os
import posix
import resource
import signal
import stat
import sys

NONCE_BYTES = 32  # hex characters of a step's nonce; the evaluator sends them followed by "\n"
MAX_JOB_BYTES = 64 * 1024 ** 2
EXIT_SETUP = 3  # the job could not be read or the limits not applied (nothing of the model ran)
EXIT_PROTOCOL = 4  # the job pipe closed or carried something else than a nonce
DENIED_PATH_PREFIXES = ("/proc", "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr")

# Audit events that model code never needs and that reach processes, the network, native code or the
# interpreter's own state (frames of other threads, tracing, object enumeration, new code objects).
DENY_EVENTS = frozenset((
    "os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn", "os.system", "os.startfile",
    "subprocess.Popen", "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill",
    "resource.setrlimit", "resource.prlimit", "os.symlink", "os.link", "os.mknod", "os.mkfifo",
    "fcntl.ioctl", "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames",
    "sys._current_exceptions", "sys.settrace", "sys.setprofile", "sys.addaudithook", "code.__new__",
    "os.setns", "os.unshare", "os.chroot", "_thread.start_new_thread", "_thread.start_joinable_thread",
))
DENY_EVENT_PREFIXES = ("socket.", "ctypes.", "urllib.", "ftplib.", "smtplib.", "poplib.", "imaplib.", "nntplib.",
                       "telnetlib.", "webbrowser.", "http.client.", "sqlite3.", "sys.monitoring.")
# Modules that reach processes, native code or files without audit events.
DENY_IMPORTS = frozenset(("ctypes", "_ctypes", "_posixsubprocess", "cffi", "_cffi_backend", "_testcapi",
                          "_testinternalcapi", "_testmultiphase", "_xxsubinterpreters", "_xxinterpchannels",
                          "_interpreters", "_interpchannels", "_interpqueues", "_posixshmem", "_dbm", "_gdbm",
                          "_sqlite3", "readline"))
# event -> (positions of paths that must stay in the work directory, positions of dir_fd arguments)
PATH_EVENTS = {
    "os.remove": ((0,), (1,)), "os.rmdir": ((0,), (1,)), "os.mkdir": ((0,), (2,)),
    "os.rename": ((0, 1), (2, 3)), "os.chmod": ((0,), (2,)), "os.chown": ((0,), (3,)),
    "os.utime": ((0,), (3,)), "os.truncate": ((0,), ()), "os.chflags": ((0,), ()),
    "os.lchflags": ((0,), ()), "os.setxattr": ((0,), ()), "os.removexattr": ((0,), ()),
    "shutil.rmtree": ((0,), (1,)),
}
READ_EVENTS = ("os.listdir", "os.scandir", "os.getxattr", "os.listxattr")  # path is args[0]
# Module functions that act without raising an audit event: removed before model code runs.
UNAUDITED = (("os", "pidfd_open"), ("posix", "pidfd_open"), ("signal", "pidfd_send_signal"),
             ("_signal", "pidfd_send_signal"), ("os", "mknod"), ("posix", "mknod"), ("os", "mkfifo"),
             ("posix", "mkfifo"), ("os", "memfd_create"), ("posix", "memfd_create"))
FUNCTION_INTERNALS = ("__code__", "__defaults__", "__kwdefaults__")
THREAD_STARTERS = ("start_new_thread", "start_new", "start_joinable_thread")  # Python < 3.12 audits none of them


def drop_privileges(uid: int) -> None:
    """Become ``uid`` (group ``uid``, no supplementary groups); as root this also drops every capability."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (uid, uid, uid):
        raise OSError(f"could not switch to uid {uid}")


def read_exact(fd: int, size: int, read=os.read) -> bytes:
    """``size`` bytes from ``fd``; fewer only when the pipe closed first."""
    data = b""
    while len(data) < size:
        chunk = read(fd, size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_job(fd: int) -> dict:
    """The job: a decimal length line, then that many bytes of JSON."""
    header = b""
    while not header.endswith(b"\n"):
        byte = os.read(fd, 1)
        if not byte or len(header) > 20:
            raise ValueError("no job header")
        header += byte
    size = int(header)
    if not 0 < size <= MAX_JOB_BYTES:
        raise ValueError(f"job of {size} bytes")
    payload = read_exact(fd, size)
    if len(payload) != size:
        raise ValueError("truncated job")
    return json.loads(payload)


def apply_limits(limits: dict) -> None:
    """Resource limits for the rest of this process's life (and of anything it might start)."""
    memory, cpu = limits["memory_bytes"], limits["cpu_s"]
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_size_bytes"], limits["file_size_bytes"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))  # no process or thread at all (not enforced for uid 0)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an over-long write fails with EFBIG instead of killing


def remove_unaudited() -> None:
    """Delete the functions that would act without an audit event (a fresh module copy gets them back: the
    sandbox's namespaces, not this, keep such calls away from the host)."""
    import _signal

    modules = {"os": os, "posix": posix, "signal": signal, "_signal": _signal}
    for module, name in UNAUDITED:
        try:
            delattr(modules[module], name)
        except AttributeError:
            pass


def deny_threads(record):
    """Replace the thread starters of ``_thread`` (unaudited before Python 3.12) by a denial; returns it."""
    import _thread

    def denied(*_args, **_kwargs):
        record("_thread.start_new_thread")
        raise RuntimeError("sandbox: threads are denied")

    for name in THREAD_STARTERS:
        if hasattr(_thread, name):
            setattr(_thread, name, denied)
    return denied


def lexical_absolute(path: str, cwd: str) -> str:
    """``path`` made absolute against ``cwd`` with ``.`` and ``..`` removed, without touching the file system."""
    if not path.startswith("/"):
        path = cwd + "/" + path
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def make_hook(root: str, record, max_created: int, protected=(), cwd=posix.getcwd, lstat=posix.lstat,
              readlink=posix.readlink, stat_fn=posix.stat, fspath=posix.fspath):
    """The audit hook: denies what :data:`DENY_EVENTS` lists, writes outside ``root``, reads under /proc, and
    changing the code or defaults of the ``protected`` functions (this program's, called after model code ran).

    ``record(event)`` is called for every denial (the sample then fails even if model code catches the
    exception). Everything the hook calls is bound here, so model code monkeypatching os or builtins cannot
    change its answers. Denied imports raise ImportError without failing the sample (libraries probe for
    optional modules such as ctypes).
    """
    _type, _str, _bytes, _int, _isinstance = type, str, bytes, int, isinstance
    as_str, _bytes_join = str.__str__, b"".join
    _permission_error, _import_error, _os_error = PermissionError, ImportError, OSError
    is_link, is_regular = stat.S_ISLNK, stat.S_ISREG
    root_slash = root.rstrip("/") + "/"
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    created = [0]

    def as_text(path) -> str:
        """The path as an exact str (never a subclass whose methods model code wrote)."""
        if not (_isinstance(path, _str) or _isinstance(path, _bytes)):
            path = fspath(path)
        if _isinstance(path, _str):
            return as_str(path)
        return _bytes_join((path,)).decode("utf-8", "surrogateescape")

    def resolved(path: str) -> str:
        """``path`` as the kernel resolves it: symbolic links (at most 40) followed before ``..``."""
        text = path if path.startswith("/") else cwd() + "/" + path
        pending = [p for p in text.split("/") if p not in ("", ".")]
        done: list[str] = []
        links = 0
        while pending:
            part = pending.pop(0)
            if part == "..":
                if done:
                    done.pop()
                continue
            candidate = "/" + "/".join(done + [part])
            try:
                mode = lstat(candidate).st_mode
            except _os_error:
                done.append(part)
                continue
            if is_link(mode) and links < 40:
                links += 1
                target = readlink(candidate)
                if target.startswith("/"):
                    done = []
                pending = [p for p in target.split("/") if p not in ("", ".")] + pending
                continue
            done.append(part)
        return "/" + "/".join(done)

    def forbidden_to_read(text: str) -> bool:
        for path in (lexical_absolute(text, cwd()), resolved(text)):
            for prefix in DENIED_PATH_PREFIXES:
                if path == prefix or path.startswith(prefix + "/"):
                    return True
        return False

    def inside(path) -> bool:
        absolute = lexical_absolute(as_text(path), cwd())
        return absolute == root or absolute.startswith(root_slash)

    def deny(event: str):
        record(event)
        raise _permission_error("sandbox: " + event + " denied")

    def count_creation(what: str) -> None:
        created[0] += 1
        if created[0] > max_created:
            deny("%s (more than %d files or directories written)" % (what, max_created))

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            if _type(path) is _int:
                return  # an already open descriptor
            text = as_text(path)
            if forbidden_to_read(text):
                deny("open of " + text[:100])
            writing = (_type(mode) is _str and ("w" in mode or "a" in mode or "x" in mode or "+" in mode)) or (
                _type(flags) is _int and flags & write_flags)
            if not writing or text == "/dev/null":
                return
            if mode is None and not text.startswith("/"):
                deny("open (relative os.open for writing)")  # its dir_fd is not in the audit event
            if not inside(text):
                deny("open for writing outside the work directory")
            count_creation("open for writing")
            try:
                st = stat_fn(text)
            except _os_error:
                return
            if not is_regular(st.st_mode):
                deny("open of a non-regular file for writing")
            return
        if event == "import":  # the last component names the extension's init function: no aliasing
            name = as_str(args[0])  # the real text of a str subclass (C code ignores its overrides)
            if name.rpartition(".")[2] in DENY_IMPORTS:
                raise _import_error("sandbox: import of " + name + " denied")
            return
        if event in DENY_EVENTS or event.startswith(DENY_EVENT_PREFIXES):
            deny(event)
        if event == "object.__setattr__" and _type(args[1]) is _str and args[1] in FUNCTION_INTERNALS:
            for function in protected:
                if args[0] is function:
                    deny("setting " + args[1] + " of the sandbox's own functions")
        if event in READ_EVENTS:
            if args and args[0] is not None and _type(args[0]) is not _int and forbidden_to_read(as_text(args[0])):
                deny(event + " under /proc")
            return
        spec = PATH_EVENTS.get(event)
        if spec is None:
            return
        paths, dir_fds = spec
        for i in dir_fds:
            if i < len(args) and args[i] is not None and args[i] != -1:
                deny(event + " with dir_fd")
        for i in paths:
            if i < len(args):
                if _type(args[i]) is _int:
                    deny(event + " on a file descriptor")
                if not inside(args[i]):
                    deny(event + " outside the work directory")
        if event == "os.mkdir":
            count_creation("mkdir")

    return hook


def describe(exc: BaseException, _str=str, _type=type, _as_str=str.__str__) -> str:
    """``Type: message`` of an exception raised by model code (its ``__str__`` may itself misbehave). The
    builtins are bound at definition time: model code may have replaced them in ``builtins``."""
    try:
        name = _as_str(_type(exc).__name__)
    except BaseException:  # pylint: disable=broad-exception-caught  # model code ran in __name__
        name = "exception"
    try:
        text = _as_str(_str(exc))[:200]
    except BaseException:  # pylint: disable=broad-exception-caught  # model code ran in __str__
        text = ""
    return (name + (": " + text if text else "")).replace("\r", " ").replace("\n", " ")[:300]


def peak_rss_kib(status_fd: int | None, _pread=os.pread, _getrusage=resource.getrusage,
                 _self=resource.RUSAGE_SELF, _int=int, _errors=(OSError, ValueError, IndexError)) -> int:
    """Peak RSS of this process in KiB: VmHWM when /proc is readable (it excludes the forking parent), else
    ``ru_maxrss``. Bound at definition time, like :func:`describe`."""
    if status_fd is not None:
        try:
            for line in _pread(status_fd, 4096, 0).split(b"\n"):
                if line.startswith(b"VmHWM:"):
                    return _int(line.split()[1])
        except _errors:
            pass
    return _getrusage(_self).ru_maxrss


def steps_of(job: dict) -> tuple[tuple[str, str], ...]:
    """(file name, source) of each step: the solution, then each test."""
    return (("<solution>", job["code"]),) + tuple((f"<test {i}>", t) for i, t in enumerate(job["tests"], 1))


def serve(job_fd: int, ack_fd: int, steps: tuple[tuple[str, str], ...], namespace: dict,
          status_fd: int | None) -> None:
    """Run each step when its nonce arrives and acknowledge it; never returns.

    Called before any model code runs: every name used after the first step is a local bound on entry. Between
    steps signals are blocked and the cyclic garbage collector is off, so no model code (a signal handler, a
    finaliser) runs while the next nonce is read.
    """
    read, write, exit_now = os.read, os.write, os._exit
    compile_code, run_code = builtins.compile, builtins.exec
    base_exception, length = BaseException, len
    gc_off, gc_on = gc.disable, gc.enable
    set_mask, block, set_to = signal.pthread_sigmask, signal.SIG_BLOCK, signal.SIG_SETMASK
    all_signals = signal.valid_signals()
    unmasked = set_mask(block, all_signals)
    gc_off()
    rss, explain = peak_rss_kib, describe
    line_size = NONCE_BYTES + 1
    try:
        write(ack_fd, b"ready\n")
        for filename, source in steps:
            nonce = b""
            while length(nonce) < line_size:
                chunk = read(job_fd, line_size - length(nonce))
                if not chunk:
                    exit_now(EXIT_PROTOCOL)
                nonce += chunk
            if nonce[NONCE_BYTES:] != b"\n":
                exit_now(EXIT_PROTOCOL)
            nonce = nonce[:NONCE_BYTES]
            try:
                code = compile_code(source, filename, "exec", 0, True)
                gc_on()
                set_mask(set_to, unmasked)
                run_code(code, namespace)
            except base_exception as exc:  # pylint: disable=broad-exception-caught  # the step failed
                set_mask(block, all_signals)
                gc_off()
                text = explain(exc).encode("utf-8", "replace")
                write(ack_fd, nonce + b" raised %d " % rss(status_fd) + text + b"\n")
                exit_now(0)
            set_mask(block, all_signals)
            gc_off()
            write(ack_fd, nonce + b" ok %d\n" % rss(status_fd))
    except base_exception:  # pylint: disable=broad-exception-caught  # the channel broke: no verdict
        exit_now(EXIT_PROTOCOL)
    exit_now(0)


def take_uid(argv: list[str]) -> tuple[int | None, list[str]]:
    """The ``--uid=UID`` option (first argument) and the remaining arguments."""
    if len(argv) > 1 and argv[1].startswith("--uid="):
        return int(argv[1][6:]), [argv[0], *argv[2:]]
    return None, list(argv)


def main(argv: list[str]) -> None:
    uid, argv = take_uid(argv)
    job_fd, ack_fd = int(argv[1]), int(argv[2])
    try:
        if uid is not None:
            drop_privileges(uid)
        job = read_job(job_fd)
        try:
            status_fd = os.open("/proc/self/status", os.O_RDONLY)
        except OSError:
            status_fd = None
        apply_limits(job["limits"])
        sys.dont_write_bytecode = True
        sys.path.extend(job.get("site_dirs", ()))
        steps = steps_of(job)
        namespace = {"__name__": "solution", "__builtins__": builtins}
    except Exception as e:  # pylint: disable=broad-exception-caught  # reported on stderr, no model code ran
        sys.stderr.write(f"sandbox child setup failed: {e!r}\n")
        sys.stderr.flush()
        os._exit(EXIT_SETUP)
    write = os.write

    def record(event: str) -> None:
        try:
            line = event.replace("\n", " ").replace("\r", " ").encode("ascii", "replace")[:200]
            write(ack_fd, b"denied " + line + b"\n")
        except OSError:
            pass

    remove_unaudited()
    denied = deny_threads(record)
    hook = make_hook(job["root"], record, job["limits"]["created_files"],
                     (describe, peak_rss_kib, record, denied, serve, read_exact))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # model output goes nowhere: the evaluator reads only ACK_FD
        os.dup2(devnull, fd)
    os.close(devnull)
    sys.addaudithook(hook)
    serve(job_fd, ack_fd, steps, namespace, status_fd)


if __name__ == "__main__":
    main(sys.argv)
