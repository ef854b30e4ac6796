"""COMET scoring in another Python interpreter (one that has unbabel-comet), for lm-eval-jaster's MT tasks.

Runs as a script, with nothing of lm-eval-jaster importable: ``PYTHON comet_worker.py`` reads one JSON request per
line on stdin — ``{"model": id or .ckpt, "batch_size": 8, "gpus": null, "data": [{"src", "mt", "ref"}, ...]}`` —
and answers one line ``{"scores": [...]}`` (segment scores, in order) or ``{"error": "..."}``. The model is loaded
once. ``PYTHON comet_worker.py --check`` exits 0 when unbabel-comet can be imported.
"""

from __future__ import annotations

import json
import os
import sys


def _load(model: str):
    from comet import download_model, load_from_checkpoint  # pylint: disable=import-outside-toplevel

    return load_from_checkpoint(model if os.path.isfile(model) else download_model(model))


def _gpus(requested):
    if requested is not None:
        return int(requested)
    try:
        import torch  # pylint: disable=import-outside-toplevel

        return 1 if torch.cuda.is_available() else 0
    except ImportError:
        return 0


def serve(stdin, stdout) -> None:
    models = {}
    for line in stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            model_id = request["model"]
            if model_id not in models:
                models[model_id] = _load(model_id)
            output = models[model_id].predict(request["data"], batch_size=int(request.get("batch_size") or 8),
                                              gpus=_gpus(request.get("gpus")), progress_bar=False)
            reply = {"scores": [float(s) for s in output.scores]}
        except Exception as e:  # pylint: disable=broad-except  # reported to the evaluator, which raises
            reply = {"error": f"{type(e).__name__}: {e}"}
        stdout.write(json.dumps(reply) + "\n")
        stdout.flush()


def main(argv: list[str]) -> int:
    if argv[1:] == ["--check"]:
        import comet  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import

        print("unbabel-comet available")
        return 0
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # COMET and Lightning print progress: keep the reply channel clean
    serve(sys.stdin, real_stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
