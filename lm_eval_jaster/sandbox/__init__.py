"""Running model-written code: one bubblewrap sandbox per sample, verdicts the code cannot forge.

- ``bwrap`` (default): each sample runs in a fresh bubblewrap sandbox: an unprivileged uid, new PID, network,
  IPC, UTS and mount namespaces, read-only binds of the interpreter and its libraries only, a private tmpfs work
  directory, resource limits, the whole sandbox killed at the wall-clock timeout; an audit hook inside as a second
  layer. Where bwrap cannot run, code tasks refuse (:class:`SandboxUnavailable`).
- ``process``: an explicit, weaker opt-in (``--metadata '{"jaster_sandbox": "process"}'``, ``JASTER_SANDBOX``):
  a child interpreter with the same limits and audit hook, but the host's file system, network stack and
  processes are only behind the hook, which code written to escape can bypass.

The evaluator judges: a sample passes only when it acknowledged every step (the solution, then each test) with
that step's fresh nonce. docs/sandbox.md explains the design, its tests and what it does not stop.
"""

from __future__ import annotations

import ast
import functools
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Sequence

from lm_eval_jaster.sandbox import runner
from lm_eval_jaster.sandbox.gate import (ALLOW_ENV, HF_ALLOW_ENV, CodeExecutionNotAllowed, execution_allowed,
                                         require_allowed)
from lm_eval_jaster.sandbox.limits import Limits
from lm_eval_jaster.sandbox.runner import MODES, ExecResult, SandboxError, SandboxUnavailable

logger = logging.getLogger("lm_eval.jaster")

__all__ = [
    "ALLOW_ENV", "HF_ALLOW_ENV", "MODES", "CodeExecutionNotAllowed", "ExecResult", "Limits", "SandboxError",
    "SandboxUnavailable", "configure", "current_mode", "execution_allowed", "isolation_layers", "parse_tests",
    "pylint_check", "require_available", "run_many", "run_tests",
]

_configured: str | None = None
_process_warned = threading.Event()


def _checked(mode: str) -> str:
    if mode not in MODES:
        from lm_eval_jaster.errors import SettingsError

        raise SettingsError(f"sandbox mode {mode!r} is not one of {', '.join(MODES)}.",
                            "Use jaster_sandbox / JASTER_SANDBOX = bwrap (default) or process.")
    return mode


def configure(mode: str) -> None:
    """The sandbox mode of this run (process-wide); the default is ``JASTER_SANDBOX`` or "bwrap"."""
    global _configured  # pylint: disable=global-statement
    _configured = _checked(mode)


def current_mode() -> str:
    if _configured is not None:
        return _configured
    from lm_eval_jaster import settings

    return _checked(settings.get("sandbox"))


def _warn_process_mode() -> None:
    if not _process_warned.is_set():
        _process_warned.set()
        layers = runner.launcher("process").layers
        logger.warning(
            "Model-written code runs in process mode (jaster_sandbox=process) as %s: no OS sandbox, only resource "
            "limits and an audit hook, which code written to escape can bypass; it can then read any file that "
            "user can, write and delete files, start processes, reach the network and signal other processes. "
            "Use the default bwrap mode for untrusted models.", layers[1].replace("uid:", "uid "))


def require_available(mode: str | None = None) -> None:
    """Raise :class:`SandboxUnavailable` (message + hint) when ``mode`` cannot run here; warn once for
    "process"."""
    mode = _checked(mode) if mode is not None else current_mode()
    runner.launcher(mode)
    if mode == "process":
        _warn_process_mode()


def isolation_layers(mode: str | None = None) -> tuple[str, ...]:
    """What contains the code here, e.g. ("bwrap", "uid:65534", "pidns", "netns", …, "audit-hook")."""
    return runner.launcher(_checked(mode) if mode is not None else current_mode()).layers


@functools.lru_cache(maxsize=2048)
def _run_cached(code: str, tests: tuple[str, ...], limits: Limits, mode: str) -> ExecResult:
    return runner.execute(runner.launcher(mode), code, tests, limits)


def run_tests(code: str, tests: Sequence[str], limits: Limits | None = None, *, mode: str | None = None,
              on_start: Callable[[int], None] | None = None) -> ExecResult:
    """Run ``code``, then each test (one namespace, in order) in a fresh sandbox; passed = every step ran and
    none raised, and nothing was denied. Identical runs are cached.

    ``mode``: "bwrap" or "process" (default: :func:`current_mode`). ``on_start(pid)`` is called with the pid of
    the process started on the host (bwrap, or the child in process mode); such runs are not cached.
    """
    require_allowed()
    if not isinstance(code, str) or isinstance(tests, str) or not all(isinstance(t, str) for t in tests):
        raise TypeError("code must be a string and tests a sequence of strings")
    mode = _checked(mode) if mode is not None else current_mode()
    launch = runner.launcher(mode)
    if mode == "process":
        _warn_process_mode()
    limits = limits or Limits.from_settings()
    if on_start is not None:
        return runner.execute(launch, code, tuple(tests), limits, on_start)
    return _run_cached(code, tuple(tests), limits, mode)


def run_many(jobs: Iterable[tuple[str, Sequence[str]]], limits: Limits | None = None, *, workers: int = 4,
             mode: str | None = None) -> list[ExecResult]:
    """:func:`run_tests` for many (code, tests) pairs, at most ``workers`` sandboxes at a time, results in order."""
    require_allowed()
    jobs = list(jobs)
    mode = _checked(mode) if mode is not None else current_mode()
    runner.launcher(mode)  # refuse before starting anything
    workers = max(1, min(workers, os.cpu_count() or 1, len(jobs) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda job: run_tests(job[0], job[1], limits, mode=mode), jobs))


@functools.lru_cache(maxsize=2048)
def _pylint_cached(code: str, timeout_s: float, mode: str) -> bool | None:
    return runner.run_pylint(runner.launcher(mode), code, timeout_s)


def pylint_check(code: str, timeout_s: float = 120.0) -> bool | None:
    """llm-jp-eval's ``pylint_check``: True when pylint reports no error-class (E…) message for the code; None
    when pylint is not installed (``pip install pylint``). pylint parses the code in the same sandbox as
    :func:`run_tests` (it never runs it)."""
    if not runner.pylint_available():
        return runner.run_pylint(None, code, timeout_s)  # warns once, returns None
    return _pylint_cached(code, timeout_s, current_mode())


def parse_tests(gold: str) -> list[str]:
    """The test cases of a CG sample: its gold output is ``str(list_of_test_strings)`` (llm-jp-eval's format)."""
    try:
        tests = ast.literal_eval(gold)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as e:
        raise ValueError(f"the gold output of a code sample is not a Python list literal: {gold[:80]!r}") from e
    if not isinstance(tests, list) or not all(isinstance(t, str) for t in tests):
        raise ValueError(f"the gold output of a code sample is not a list of strings: {gold[:80]!r}")
    return tests
