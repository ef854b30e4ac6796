"""Benchmark suite of lm-eval-jaster: start-up, data preparation, scoring throughput, generation budget, peak memory.

    python benchmarks/run.py [--data-dir DIR] [--quick] [--output REPORT.md] [--json RAW.json] [--keep-tmp]

Not part of the tests. Every measurement that depends on process state (imports, caches, memory) runs in a fresh
subprocess (``benchmarks/_probe.py``, ``_prep.py``, ``_scoring.py``, ``_budget.py``); this script builds the data
mirror, spawns them one at a time (never in parallel: the machine has few cores), collects their JSON and prints one
Markdown table per section. See benchmarks/README.md for what each number means and the figures of a full run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (BENCH_DIR, PINS_ENV, REPO, build_mirror, default_shared_data, fixture_sources,  # noqa: E402
                     machine, md_table, parse_json)

PY = sys.executable
PLAIN_TASK_DIR = BENCH_DIR / "plain_task"
PLAIN_TASK = "bench_plain_generate"
WIKI = ["wiki_reading", "wiki_ner", "wiki_dependency", "wiki_pas", "wiki_coreference"]
TARGET_STARTUP_RATIO = 1.5
TARGET_METRIC_US = 1000.0

STARTED = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f} s] {msg}", file=sys.stderr, flush=True)


class Runner:
    """Spawns the measurement subprocesses with a controlled environment and collects wall time and max RSS."""

    def __init__(self, workdir: Path, mirror: Path, pins: dict[str, str]):
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("JASTER_")}
        self.env.update({
            "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false", "HF_HOME": str(workdir / "hf_home"),
            "JASTER_DATA_DIR": str(mirror), PINS_ENV: json.dumps(pins), "PYTHONUNBUFFERED": "1",
        })
        # Without unbabel-comet, comet_wmt22 cannot be computed: its documented setting switches it off explicitly,
        # so that every run measures the same work whatever the default (reported in the header).
        self.comet_off = importlib.util.find_spec("comet") is None
        if self.comet_off:
            self.env["JASTER_COMET"] = "0"
        self.count = 0
        self.pins = pins
        self.fixture_sources = fixture_sources(pins)

    def spawn(self, args: list[str], cache: Path | None, name: str, check: bool = True) -> dict:
        """Run ``python ARGS`` (cwd = repo) with JASTER_CACHE_DIR=cache; wall time, rc, max RSS from wait4."""
        self.count += 1
        env = dict(self.env)
        if cache is not None:
            env["JASTER_CACHE_DIR"] = str(cache)
        out_path = self.logs / f"{self.count:03d}_{name}.out"
        err_path = self.logs / f"{self.count:03d}_{name}.err"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen([PY, *args], cwd=REPO, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        stdout = out_path.read_text(encoding="utf-8", errors="replace")
        tail = err_path.read_text(encoding="utf-8", errors="replace")[-3000:] if proc.returncode else ""
        if proc.returncode != 0 and check:
            raise RuntimeError(f"{name} failed (exit {proc.returncode}); log {err_path}:\n{tail}")
        return {"t0": t0, "wall_s": wall, "maxrss_mib": usage.ru_maxrss / 1024, "stdout": stdout,
                "cpu_s": usage.ru_utime + usage.ru_stime, "rc": proc.returncode, "stderr_tail": tail}

    def probe(self, which: str, cli_args: list[str], cache: Path | None, name: str, full: bool = False,
              check: bool = True) -> dict:
        result_file = self.workdir / f"probe_{self.count + 1:03d}.json"
        run = self.spawn(["benchmarks/_probe.py", which, str(result_file), *(["--full"] if full else []), "--",
                          *cli_args], cache, name, check=check)
        if not result_file.is_file():  # failed before the first request
            raise RuntimeError(f"{name} failed before its first request (exit {run['rc']}):\n{run['stderr_tail']}")
        data = json.loads(result_file.read_text())
        run.update(data)
        run["to_first_request_s"] = data["first_request"] - run["t0"]
        return run

    def prep(self, names: list[str], cache: Path, name: str) -> dict:
        run = self.spawn(["benchmarks/_prep.py", ",".join(names), "--count-knp"], cache, name)
        run.update(parse_json(run["stdout"]))
        return run


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def fmt_s(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


# ----------------------------------------------------------------------------------------------------- sections


def unsafe_flag() -> list[str]:
    """``--confirm_run_unsafe_code`` when some Jaster task is marked ``unsafe_code`` (code-execution tasks): lm-eval
    refuses to build those tasks without it. The dummy model's answer ("lol") is all that would be executed."""
    from lm_eval_jaster import TASKS_DIR

    for path in TASKS_DIR.iterdir():
        if path.is_file() and ("yaml" in path.name) and "unsafe_code: true" in path.read_text(encoding="utf-8"):
            return ["--confirm_run_unsafe_code"]
    return []


def measure_startup(r: Runner, cfg: dict, cache_all: Path, report: dict) -> str:
    limit = cfg["startup_limit"]
    lim_args = ["--limit", str(limit)] if limit else []
    jaster = ["--model", "dummy", "--model_args", "pretrained=dummy", "--tasks", "jaster_all", *lim_args,
              *unsafe_flag()]
    plain = ["--model", "dummy", "--model_args", "pretrained=dummy", "--tasks", PLAIN_TASK,
             "--include_path", str(PLAIN_TASK_DIR)]
    small = ["--model", "dummy", "--model_args", "pretrained=dummy", "--tasks", "jaster_all", "--limit", "10",
             *unsafe_flag()]
    runs: dict[str, list[dict]] = {"cold": [], "warm": [], "plain": [], "warm_limit10": []}
    for i in range(cfg["startup_cold_reps"]):
        log(f"[startup] cold start-up {i + 1}/{cfg['startup_cold_reps']}")
        runs["cold"].append(r.probe("jaster", jaster, fresh(r.workdir / f"cache_cold_startup{i}"), "startup_cold"))
    for i in range(cfg["startup_reps"]):  # interleaved, so that drift of the machine hits both alike
        log(f"[startup] warm / plain start-up {i + 1}/{cfg['startup_reps']}")
        runs["warm"].append(r.probe("jaster", jaster, cache_all, "startup_warm"))
        runs["plain"].append(r.probe("lm_eval", plain, None, "startup_plain"))
        if i < cfg["startup_limit10_reps"]:
            runs["warm_limit10"].append(r.probe("jaster", small, cache_all, "startup_warm_limit10"))
    plain_med = statistics.median(x["to_first_request_s"] for x in runs["plain"])
    plain_cpu = statistics.median(x["cpu_s_at_first_request"] for x in runs["plain"])
    lim_txt = (f" --limit {limit}" if limit else "") + (" --confirm_run_unsafe_code" if unsafe_flag() else "")
    labels = {
        "cold": (f"lm-eval-jaster --model dummy --tasks jaster_all{lim_txt}", "cold (empty JASTER_CACHE_DIR)"),
        "warm": (f"lm-eval-jaster --model dummy --tasks jaster_all{lim_txt}", "warm"),
        "warm_limit10": ("lm-eval-jaster --model dummy --tasks jaster_all --limit 10"
                         + (" --confirm_run_unsafe_code" if unsafe_flag() else ""), "warm"),
        "plain": (f"lm_eval --model dummy --tasks {PLAIN_TASK} (10-doc local YAML)", "–"),
    }
    rows = []
    for key in ("cold", "warm", "warm_limit10", "plain"):
        if not runs[key]:
            continue
        firsts = [x["to_first_request_s"] for x in runs[key]]
        cpus = [x["cpu_s_at_first_request"] for x in runs[key]]
        rows.append([labels[key][0], labels[key][1], len(firsts), spread(firsts), runs[key][0]["n_requests"],
                     f"{statistics.median(firsts) / plain_med:.2f}×", spread(cpus),
                     f"{statistics.median(cpus) / plain_cpu:.2f}×",
                     f"{statistics.median(x['maxrss_mib'] for x in runs[key]):.0f}"])
    warm_ratio = statistics.median(x["to_first_request_s"] for x in runs["warm"]) / plain_med
    report["startup"] = {k: [{kk: vv for kk, vv in x.items() if kk != "stdout"} for x in v] for k, v in runs.items()}
    report["startup"]["warm_over_plain"] = warm_ratio
    verdict = "MET" if warm_ratio <= TARGET_STARTUP_RATIO else "MISSED"
    if runs["warm_limit10"]:
        small_ratio = statistics.median(x["to_first_request_s"] for x in runs["warm_limit10"]) / plain_med
        report["startup"]["warm_limit10_over_plain"] = small_ratio
        n_small, n_full = runs["warm_limit10"][0]["n_requests"], runs["warm"][0]["n_requests"]
        per_request_ms = ((statistics.median(x["to_first_request_s"] for x in runs["warm"])
                           - statistics.median(x["to_first_request_s"] for x in runs["warm_limit10"]))
                          / max(1, n_full - n_small) * 1000)
        report["startup"]["warm_ms_per_request"] = per_request_ms
        extra = (f"; with `--limit 10` ({n_small} requests) it is {small_ratio:.2f}× "
                 f"({'within' if small_ratio <= TARGET_STARTUP_RATIO else 'above'} the target). The difference, "
                 f"{per_request_ms:.2f} ms per extra request, is the cost of building one request (mostly rendering "
                 f"its 4-shot prompt)")
    else:
        extra = ""
    log("[startup] cost of one template render in lm-eval")
    try:
        tc = parse_json(r.spawn(["benchmarks/_template_cost.py", str(cfg["template_cost_renders"])], cache_all,
                                "startup_template_cost")["stdout"])
        report["startup"]["template_cost"] = tc
        cause = (f"\n\nWhere a request's time goes: lm-eval renders each Jinja field with "
                 f"`lm_eval.utils.apply_template`, which compiles the template on every call "
                 f"(`env.from_string`, no cache). One Jaster request at 4 shots renders `description` once and "
                 f"`doc_to_text` 5 times: "
                 + ", ".join(f"`{x['field']}` {x['apply_template_us']:.0f} µs per call vs "
                             f"{x['precompiled_us']:.1f} µs pre-compiled" for x in tc["rows"])
                 + f", i.e. ≈{tc['per_request_4shot_us'] / 1000:.2f} ms per request "
                   f"(≈{tc['per_request_4shot_precompiled_us'] / 1000:.2f} ms if compiled once).")
    except Exception as e:
        cause = f"\n\n(Template cost not measured: {type(e).__name__}: {str(e)[:300]})"
    table = md_table(["command", "Jaster cache", "runs", "wall to first request, s: median (min–max)", "requests",
                      "÷ plain", "CPU s to first request", "CPU ÷ plain", "max RSS MiB"], rows, "lllrrrrrr")
    return (table + f"\n\nTarget warm ≤ {TARGET_STARTUP_RATIO}× plain lm_eval: warm jaster_all{lim_txt} is "
            f"**{warm_ratio:.2f}×** → **{verdict}**{extra}." + cause)


def measure_data_preparation(r: Runner, cfg: dict, names: list[str], n_docs: int, report: dict) -> str:
    rows, raw = [], []
    for name in cfg["prep_datasets"]:
        cache = fresh(r.workdir / "cache_prep" / name)
        log(f"[data preparation] {name}: cold")
        cold = r.prep([name], cache, f"prep_cold_{name}")
        if "error" in cold["rows"][0]:
            report.setdefault("errors", {})[f"data_preparation/{name}"] = cold["rows"][0]["error"]
            rows.append([name, f"FAILED: {cold['rows'][0]['error'][:160]}", *["–"] * 8])
            continue
        warms = []
        for i in range(cfg["prep_warm_reps"]):
            warms.append(r.prep([name], cache, f"prep_warm_{name}"))
        c, w = cold["rows"][0], [x["rows"][0]["seconds"] for x in warms]
        rows.append([name, f"{c['seconds']:.3f}", f"{statistics.median(w):.4f}", f"{cold['wall_s']:.2f}",
                     f"{cold['cpu_s']:.2f}", f"{statistics.median(x['wall_s'] for x in warms):.2f}",
                     cold["knp_parses"], warms[0]["knp_parses"], f"{cold['maxrss_mib']:.0f}",
                     "/".join(str(c["samples"][s]) for s in ("train", "dev", "test"))])
        raw.append({"dataset": name, "cold": {k: v for k, v in cold.items() if k != "stdout"},
                    "warm": [{k: v for k, v in x.items() if k != "stdout"} for x in warms]})
    table = md_table(["dataset", "cold s", "warm s", "cold process s", "cold process CPU s", "warm process s",
                      "knp parses cold", "knp parses warm", "cold max RSS MiB", "train/dev/test"], rows)

    log("[data preparation] five wiki_* tasks together: cold")
    cache = fresh(r.workdir / "cache_prep" / "wiki_together")
    cold = r.prep(WIKI, cache, "prep_wiki_cold")
    log("[data preparation] five wiki_* tasks together: warm")
    warm = r.prep(WIKI, cache, "prep_wiki_warm")
    wrows = []
    for label, run in (("cold", cold), ("warm", warm)):
        per = {x["dataset"]: x["seconds"] for x in run["rows"]}
        wrows.append([label, *(f"{per[n]:.3f}" for n in WIKI), f"{sum(per.values()):.3f}", f"{run['wall_s']:.2f}",
                      f"{run['cpu_s']:.2f}", run["knp_parses"]])
    cross = None
    if "wiki_reading" in cfg["prep_datasets"]:
        # A second process that needs another wiki_* dataset, sharing the cache the wiki_reading process filled
        # (two runs, or two data-parallel ranks, each with its own task list): is the corpus parsed again?
        log("[data preparation] wiki_ner in a second process, on the cache filled by wiki_reading's cold process")
        cross = r.prep(["wiki_ner"], r.workdir / "cache_prep" / "wiki_reading", "prep_wiki_cross")
        wrows.append(["2nd process: wiki_ner only, cache filled by a wiki_reading-only process", "–",
                      f"{cross['rows'][0]['seconds']:.3f}", "–", "–", "–", f"{cross['rows'][0]['seconds']:.3f}",
                      f"{cross['wall_s']:.2f}", f"{cross['cpu_s']:.2f}", cross["knp_parses"]])
    wtable = md_table(["wiki_* in one process", *WIKI, "Σ s", "process s", "process CPU s", "knp parses"], wrows)
    once = cold["knp_parses"] == n_docs and warm["knp_parses"] == 0
    report["data_preparation"] = {
        "datasets": raw, "wiki_together": {"cold": {k: v for k, v in cold.items() if k != "stdout"},
                                           "warm": {k: v for k, v in warm.items() if k != "stdout"}},
        "wac_documents": n_docs, "parsed_once": once}
    verdict = (f"Shared source parsed once: cold **{cold['knp_parses']}** `Document.from_knp` calls for "
               f"**{n_docs}** documents (train+dev+test id lists), warm **{warm['knp_parses']}** → "
               f"**{'MET' if once else 'MISSED'}**.")
    if cross is not None:
        report["data_preparation"]["second_process_knp_parses"] = cross["knp_parses"]
        verdict += (f" Across processes: a second process needing wiki_ner, on a cache where only wiki_reading was "
                    f"built, made **{cross['knp_parses']}** parses"
                    + (" — the corpus is parsed again, because a cold build caches only the dataset that was asked "
                       "for; the other four are derived but kept in memory only." if cross["knp_parses"] else "."))
    return table + "\n\n" + wtable + "\n\n" + verdict


def measure_scoring_throughput(r: Runner, cfg: dict, cache_all: Path, report: dict) -> str:
    log(f"[scoring throughput] {cfg['scoring_answers']} samples × {cfg['scoring_reps']} reps")
    run = r.spawn(["benchmarks/_scoring.py", str(cfg["scoring_answers"]), str(cfg["scoring_reps"])], cache_all,
                  "scoring_throughput")
    data = parse_json(run["stdout"])
    rows, slow = [], []
    for x in data["rows"]:
        if x["per_sample_us"] is None:
            rows.append([x["function"], x["data"], "yes", "–", "–", "–", "–", x.get("note", "not measured")])
            continue
        flag = ""
        if x["per_sample_us"] >= TARGET_METRIC_US:
            flag = "**≥ 1 ms**" if x["llm_jp_eval"] else "≥ 1 ms (not llm-jp-eval)"
            if x["llm_jp_eval"]:
                slow.append(x["function"])
        extra = f"; first call {x['first_call_s'] * 1000:.1f} ms" if "first_call_s" in x else ""
        rows.append([x["function"], x["data"] + extra, "yes" if x["llm_jp_eval"] else "no (diagnostic)",
                     f"{x['samples_per_s']:,.0f}", f"{x['per_sample_us']:.2f}", fmt_s(x["p99_us"], 1),
                     fmt_s(x["max_us"], 1), flag])
    report["scoring_throughput"] = data
    table = md_table(["function", "data", "llm-jp-eval metric", "samples/s", "µs/sample", "p99 µs", "max µs", "flag"],
                     rows, "lllrrrrl")
    lenient = {"absent": "`lm_eval_jaster/lenient.py` is absent: lenient.extract not measured.",
               "measured": "`lm_eval_jaster/lenient.py` present: lenient.extract measured per answer_format."}.get(
        data["lenient"], f"lenient.extract could not be measured ({data['lenient']}).")
    measured = [x for x in data["rows"] if x["llm_jp_eval"] and x["per_sample_us"] is not None]
    unmeasured = [x["function"] for x in data["rows"] if x["llm_jp_eval"] and x["per_sample_us"] is None]
    worst = max(measured, key=lambda x: x["per_sample_us"])
    verdict = (f"Target every llm-jp-eval metric < 1 ms/sample: slowest is {worst['function']} "
               f"({worst['data'].split(':')[0]}) at {worst['per_sample_us']:.1f} µs/sample → "
               f"**{'MET' if not slow else 'MISSED: ' + ', '.join(slow)}**"
               + (f" for the {len(measured)} measured rows; not measured: {', '.join(unmeasured)}." if unmeasured
                  else "."))
    skipped = (f" Datasets left out (could not be prepared here): {', '.join(data['skipped'])}."
               if data.get("skipped") else "")
    return (table + f"\n\n{data['n']:,} synthetic answers per row, best of {data['reps']} loops (1 loop when one "
            f"takes over 2 s). " + lenient
            + skipped + "\n\n" + verdict)


def measure_generation_budget(r: Runner, cfg: dict, cache_all: Path, report: dict) -> str:
    log("[generation budget]")
    run = r.spawn(["benchmarks/_budget.py", str(cfg["budget_check_docs"])], cache_all, "generation_budget")
    data = parse_json(run["stdout"])
    default = data["default_max_gen_toks"]
    pins_list = sorted(f"`{k.replace('|', '/')}`" for k in r.pins)
    rows, tot = [], {k: 0 for k in ("ds", "dt", "dtok", "ttok", "d256", "t256", "dc0", "dc4", "tc0", "tc4")}
    for x in data["rows"]:
        vals = {"ds": x["dev_samples"], "dt": x["test_samples"], "dtok": x["dev_samples"] * x["max_gen_toks"],
                "ttok": x["test_samples"] * x["max_gen_toks"], "d256": x["dev_samples"] * default,
                "t256": x["test_samples"] * default, "dc0": x["dev_chars_0"], "dc4": x["dev_chars_4"],
                "tc0": x["test_chars_0"], "tc4": x["test_chars_4"]}
        for k, v in vals.items():
            tot[k] += v
        fixture = " †" if x["source"] in r.fixture_sources else ""
        rows.append([x["task"] + fixture, x["max_gen_toks"], *(f"{vals[k]:,}" for k in
                                                                ("ds", "dtok", "d256", "dc0", "dc4", "dt", "ttok",
                                                                 "t256", "tc0", "tc4"))])
    rows.append(["**total**", "", *(f"**{tot[k]:,}**" for k in ("ds", "dtok", "d256", "dc0", "dc4", "dt", "ttok",
                                                                  "t256", "tc0", "tc4"))])
    report["generation_budget"] = data
    table = md_table(["task", "max_gen_toks", "dev samples", "dev Σ max_gen_toks", f"dev @{default}",
                      "dev prompt chars 0-shot", "dev prompt chars 4-shot", "test samples", "test Σ max_gen_toks",
                      f"test @{default}", "test prompt chars 0-shot", "test prompt chars 4-shot"], rows)
    check = (f"{data['checked_prompts']} prompts (first {cfg['budget_check_docs']} docs of each split, 0 and 4 shots) "
             f"rendered by lm-eval's `task.fewshot_context` equal the llm-jp-eval formula"
             if not data["mismatches"] else f"MISMATCHES between lm-eval and the formula: {data['mismatches'][:10]}")
    return (table + f"\n\nBudget = Σ samples × max_gen_toks (an upper bound: generation stops at \"\\n\\n\" or EOS); "
            f"`@{default}` = the same with lm-eval's default max_gen_toks of {default}. Jaster's own budget is "
            f"{tot['dtok'] / tot['d256']:.1%} (dev) and {tot['ttok'] / tot['t256']:.1%} (test) of that. "
            f"† built in part from the hand-written fixtures of tests/fixtures ({', '.join(pins_list)}), not the "
            f"upstream files: their counts are not the real ones. {check}.")


def measure_peak_memory(r: Runner, cfg: dict, cache_all: Path, prep_all: dict, report: dict) -> str:
    lim = ["--limit", str(cfg["startup_limit"])] if cfg["startup_limit"] else []
    log("[peak memory] warm dummy run of jaster_all to the end")
    out = r.workdir / "out_peak_memory"
    run = r.probe("jaster", ["--model", "dummy", "--model_args", "pretrained=dummy", "--tasks", "jaster_all", *lim,
                             *unsafe_flag(), "--output_path", str(out), "--log_samples"], cache_all, "memory_warm_full",
                  full=True,
                  check=False)
    lim_txt = (f" --limit {cfg['startup_limit']}" if cfg["startup_limit"] else "") + (
        " --confirm_run_unsafe_code" if unsafe_flag() else "")
    plain = report.get("startup", {}).get("plain")
    rows = [
        [f"cold preparation of all {len(prep_all['rows'])} datasets, one process (`_prep.py`, empty cache)",
         f"{prep_all['wall_s']:.1f}", f"{prep_all['maxrss_mib']:.0f}"],
        [f"warm `lm-eval-jaster --model dummy --tasks jaster_all{lim_txt} --output_path … --log_samples`, to the end "
         f"({run['n_requests']} requests)", f"{run['wall_s']:.1f}", f"{run['maxrss_mib']:.0f}"],
        [f"for scale: plain `lm_eval --model dummy --tasks {PLAIN_TASK}` to its first request (start-up section)",
         f"{statistics.median(x['wall_s'] for x in plain):.1f}" if plain else "–",
         f"{statistics.median(x['maxrss_mib'] for x in plain):.0f}" if plain else "–"],
    ]
    report["peak_memory"] = {"prep_all": {k: v for k, v in prep_all.items() if k != "stdout"},
                             "warm_full_run": {k: v for k, v in run.items() if k != "stdout"}}
    failed = ""
    if run["rc"] != 0:
        report.setdefault("errors", {})["peak_memory"] = run["stderr_tail"]
        rows[1][0] += f" — **FAILED after its first request (exit {run['rc']})**"
        last = [line for line in run["stderr_tail"].splitlines() if line.strip()][-1:]
        failed = (f"\n\n**The warm run failed after its first request** (exit {run['rc']}: "
                  f"`{last[0] if last else '?'}`), "
                  f"so its max RSS covers the run only up to that failure.")
    table = md_table(["process", "wall s", "max RSS MiB"], rows, "lrr")
    return (table + failed + f"\n\nThe warm run reached its first request after {run['to_first_request_s']:.1f} s "
            f"(max RSS then {run['maxrss_mib_at_first_request']:.0f} MiB). Max RSS = `ru_maxrss` of that process "
            f"from `os.wait4` (no grandchildren are spawned).")


# ----------------------------------------------------------------------------------------------------- main


def git_state() -> str:
    """HEAD and how many tracked/untracked files outside benchmarks/ differ from it (the tree measured)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True,
                                check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    changed = [line[3:] for line in status if not line[3:].startswith("benchmarks/")]
    if not changed:
        return f"git {head} (clean)"
    more = ", …" if len(changed) > 4 else ""
    return f"git {head} + {len(changed)} uncommitted changes ({', '.join(changed[:4])}{more})"


def wac_document_count(mirror: Path) -> int:
    ids = set()
    for split in ("train", "dev", "test"):
        path = mirror / "wikipedia_annotated_corpus" / "id" / f"{split}.id"
        ids |= {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    return len(ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="raw-data mirror (default: ../shared/data, as the tests)")
    parser.add_argument("--quick", action="store_true", help="reduced smoke run (1 repetition, fewer datasets)")
    parser.add_argument("--output", type=Path, help="also write the report (Markdown) here")
    parser.add_argument("--json", type=Path, help="also write the raw measurements (JSON) here")
    parser.add_argument("--keep-tmp", action="store_true", help="keep the work folder (mirror, caches, logs)")
    args = parser.parse_args()

    from lm_eval_jaster.registry import all_datasets

    names = list(all_datasets())
    if args.quick:
        cfg = {"startup_cold_reps": 1, "startup_reps": 1, "startup_limit": 10, "startup_limit10_reps": 0,
               "template_cost_renders": 200, "prep_datasets": ["jamp", "jemhopqa", "chabsa", "mawps"],
               "prep_warm_reps": 1, "scoring_answers": 1000, "scoring_reps": 1, "budget_check_docs": 3}
    else:
        # Sized for ~9 min of CPU on 2 cores with the 32 datasets of the tree as of 2026-11-28 (see README).
        cfg = {"startup_cold_reps": 1, "startup_reps": 2, "startup_limit": None, "startup_limit10_reps": 1,
               "template_cost_renders": 2000, "prep_datasets": names, "prep_warm_reps": 1,
               "scoring_answers": 10_000, "scoring_reps": 3, "budget_check_docs": 50}

    data_dir = (args.data_dir or default_shared_data()).resolve()
    workdir = Path(tempfile.mkdtemp(prefix="jaster-bench-"))
    report: dict = {"mode": "quick" if args.quick else "full", "config": cfg, "machine": machine(),
                    "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "data_dir": str(data_dir)}
    out: list[str] = []

    def emit(text: str = "") -> None:
        out.append(text)
        print(text, flush=True)

    try:
        emit(f"# lm-eval-jaster benchmarks ({report['mode']} mode) — {report['date']}")
        emit()
        emit(md_table(["machine", ""], [[k, v] for k, v in report["machine"].items()]
                      + [["load average at start", " ".join(f"{x:.2f}" for x in os.getloadavg())],
                         ["raw data", str(data_dir)], ["source tree", git_state()]], "ll"))
        load1 = os.getloadavg()[0]
        if load1 > 0.5 * (os.cpu_count() or 1):
            emit(f"\n**Warning: the machine is busy (1-minute load average {load1:.2f} on {os.cpu_count()} cores).** "
                 "Wall times will be inflated; compare the CPU-time columns, or rerun on an idle machine.")
        mirror, pins = build_mirror(data_dir, workdir / "mirror")
        r = Runner(workdir, mirror, pins)
        if r.comet_off:
            emit("\nunbabel-comet is not installed: every subprocess runs with `JASTER_COMET=0`, so MT tasks skip "
                 "comet_wmt22 (see docs/metrics.md#comet).")
        n_docs = wac_document_count(mirror)

        # One cache with every dataset, built cold first: it is also the peak-memory section's cold-preparation
        # measurement, and the warm cache of the start-up, scoring, budget and peak-memory sections.
        cache_all = fresh(workdir / "cache_all")
        prep_names = names if not args.quick else [*cfg["prep_datasets"], *WIKI]
        log(f"[peak memory] cold preparation of {len(prep_names)} datasets in one process")
        prep_all = r.prep(prep_names, cache_all, "prep_all")
        for row in prep_all["rows"]:
            if "error" in row:
                report.setdefault("errors", {})[f"prep/{row['dataset']}"] = row["error"]
                emit(f"\n**Could not prepare {row['dataset']}**: {row['error']}")
        if args.quick:  # the other datasets, so that jaster_all runs warm
            r.prep([n for n in names if n not in prep_names], cache_all, "prep_rest")

        sections = [
            ("startup", "Start-up to the first request", lambda: measure_startup(r, cfg, cache_all, report)),
            ("data_preparation", "Data preparation per dataset",
             lambda: measure_data_preparation(r, cfg, names, n_docs, report)),
            ("scoring_throughput", "Scoring throughput", lambda: measure_scoring_throughput(r, cfg, cache_all, report)),
            ("generation_budget", "Generation budget of jaster_all",
             lambda: measure_generation_budget(r, cfg, cache_all, report)),
            ("peak_memory", "Peak memory", lambda: measure_peak_memory(r, cfg, cache_all, prep_all, report)),
        ]
        for key, title, fn in sections:
            emit()
            emit(f"## {title}")
            emit()
            try:
                emit(fn())
            except Exception:
                report.setdefault("errors", {})[key] = traceback.format_exc()
                emit("FAILED:\n\n```\n" + traceback.format_exc()[-3000:] + "\n```")
        total = time.perf_counter() - STARTED
        report["total_s"] = total
        emit()
        emit(f"Suite run time: {total:.0f} s ({total / 60:.1f} min), {r.count} subprocesses; load average at the end "
             f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}.")
    finally:
        if args.output:
            args.output.write_text("\n".join(out) + "\n", encoding="utf-8")
        if args.json:
            args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
        if args.keep_tmp:
            print(f"work folder kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if report.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
