"""Child process: run ``lm-eval-jaster`` or plain ``lm_eval`` with ``--model dummy`` and time the first request.

    python benchmarks/_probe.py {jaster|lm_eval} RESULT.json [--full] -- <lm_eval CLI arguments>

Before the CLI starts, ``lm_eval.models.dummy.DummyLM.generate_until`` (and ``loglikelihood``) is wrapped: its
first call writes ``time.perf_counter()`` to RESULT.json. Without ``--full`` the process then exits at once
(``os._exit``), so only start-up is paid: CLI parsing, task indexing, task building (data preparation included),
few-shot/prompt rendering of every request. With ``--full`` the run continues to the end (scoring, tables).

``time.perf_counter()`` is CLOCK_MONOTONIC on Linux, one clock for every process of the machine, so the orchestrator
subtracts the ``perf_counter()`` it read just before spawning this process. The process's CPU time (user + system,
``getrusage``) at that moment is recorded too: it is less sensitive than wall time to other load on the machine.
The wrapper is installed by importing ``lm_eval.models.dummy`` early, a module the run imports anyway (small: tqdm
and lm_eval.api.model).

``jaster`` runs ``lm_eval_jaster.cli.main`` (what the ``lm-eval-jaster`` console script runs); ``lm_eval`` runs
``lm_eval.__main__.cli_evaluate`` (what the ``lm_eval`` console script runs), both in this same interpreter.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    which, result_path = sys.argv[1], Path(sys.argv[2])
    sep = sys.argv.index("--")
    flags, cli_args = sys.argv[3:sep], sys.argv[sep + 1:]
    full = "--full" in flags

    from _common import apply_pins

    if which == "jaster":
        apply_pins()  # fixtures' checksums (the mirror lacks the JNLI/JSQuAD train files and the chABSA zip)

    from lm_eval.models.dummy import DummyLM

    state = {"first": None}

    def record(n_requests: int) -> None:
        if state["first"] is None:
            state["first"] = time.perf_counter()
            usage = resource.getrusage(resource.RUSAGE_SELF)
            result_path.write_text(json.dumps({
                "first_request": state["first"], "n_requests": n_requests,
                "cpu_s_at_first_request": usage.ru_utime + usage.ru_stime,
                "maxrss_mib_at_first_request": usage.ru_maxrss / 1024}))
            if not full:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(0)

    gen, ll = DummyLM.generate_until, DummyLM.loglikelihood

    def generate_until(self, requests, *args, **kwargs):
        record(len(requests))
        return gen(self, requests, *args, **kwargs)

    def loglikelihood(self, requests, *args, **kwargs):
        record(len(requests))
        return ll(self, requests, *args, **kwargs)

    DummyLM.generate_until, DummyLM.loglikelihood = generate_until, loglikelihood

    if which == "jaster":
        from lm_eval_jaster.cli import main as jaster_main

        jaster_main(cli_args)
    elif which == "lm_eval":
        sys.argv = ["lm_eval", *cli_args]
        from lm_eval.__main__ import cli_evaluate

        cli_evaluate()
    else:
        raise SystemExit(f"unknown CLI {which!r}")
    if full:
        data = json.loads(result_path.read_text())
        data["end"] = time.perf_counter()
        result_path.write_text(json.dumps(data))


if __name__ == "__main__":
    main()
