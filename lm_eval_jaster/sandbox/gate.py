"""Permission to run model-written code at all (checked before anything is started)."""

from __future__ import annotations

import os
import sys

from lm_eval_jaster.errors import JasterError

ALLOW_ENV = "JASTER_ALLOW_CODE_EXEC"
HF_ALLOW_ENV = "HF_ALLOW_CODE_EVAL"  # the switch lm-eval's own code tasks require (via HF evaluate)


class CodeExecutionNotAllowed(JasterError, RuntimeError):
    """Model-written code would run, but the user has not agreed to it."""


def _lm_eval_confirmed() -> bool:
    """True when called (directly or not) from lm-eval's ``evaluate()`` with ``confirm_run_unsafe_code=True``."""
    frame = sys._getframe(1)  # pylint: disable=protected-access
    while frame is not None:
        if frame.f_code.co_name == "evaluate" and frame.f_globals.get("__name__") == "lm_eval.evaluator":
            return frame.f_locals.get("confirm_run_unsafe_code") is True
        frame = frame.f_back
    return False


def execution_allowed() -> bool:
    """Whether model-written code may run here: lm-eval's ``evaluate()`` runs with
    ``confirm_run_unsafe_code=True`` up the stack, or ``JASTER_ALLOW_CODE_EXEC`` is true, or
    ``HF_ALLOW_CODE_EVAL=1``."""
    from lm_eval_jaster import settings

    return (settings.get("allow_code_exec") is True or os.environ.get(HF_ALLOW_ENV) == "1"
            or _lm_eval_confirmed())


def require_allowed() -> None:
    if not execution_allowed():
        raise CodeExecutionNotAllowed(
            "Scoring this task runs code written by the model, and running it was not confirmed.",
            f"Run lm-eval with --confirm_run_unsafe_code, or set {ALLOW_ENV}=1 (or {HF_ALLOW_ENV}=1) when you call "
            "the scorer yourself. Each sample runs in a bubblewrap sandbox (docs/sandbox.md).")
