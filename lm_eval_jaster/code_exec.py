"""Running model-written code against a sample's tests: a thin alias of :mod:`lm_eval_jaster.sandbox`.

``lm_eval_jaster.code_exec.run_tests(code, tests)`` (a result with ``.passed``) stays the public entry point that
external security checks call. Each sample runs in a fresh bubblewrap sandbox; docs/sandbox.md explains the
design. The lm-eval glue of the CG tasks is :mod:`lm_eval_jaster.metrics.code`.
"""

from __future__ import annotations

from lm_eval_jaster.sandbox import (ALLOW_ENV, HF_ALLOW_ENV, MODES, CodeExecutionNotAllowed, ExecResult, Limits,
                                    SandboxUnavailable, configure, execution_allowed, isolation_layers, parse_tests,
                                    pylint_check, require_available, run_many, run_tests)

__all__ = ["ALLOW_ENV", "HF_ALLOW_ENV", "MODES", "CodeExecutionNotAllowed", "ExecResult", "Limits",
           "SandboxUnavailable", "configure", "execution_allowed", "isolation_layers", "parse_tests", "pylint_check",
           "require_available", "run_many", "run_tests"]


def __getattr__(name: str):
    if name == "process_results_code_exec":  # moved to lm_eval_jaster.metrics.code; kept importable from here
        from lm_eval_jaster.metrics.code import process_results_code_exec

        return process_results_code_exec
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
