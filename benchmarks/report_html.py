"""report.html at the scale of a full ``jaster_all`` for several models: file size and time to first render.

    .venv/bin/python benchmarks/report_html.py [--runs 5] [--samples 20000] [--keep DIR]

Synthesises RUNS lm-eval runs (results file and ``--log_samples`` files in lm-eval's format, all Jaster datasets,
SAMPLES samples per run split over them, 4-shot prompts in llm-jp-eval's layout with Japanese text, answers right
for 30–70 % of the docs depending on the run, a lenient line per doc), writes report.html with
:func:`lm_eval_jaster.report.html.render_page`, then opens it from disk in headless Chromium (/usr/bin/chromium or
$CHROMIUM, driven by Playwright) and measures the time to the first listed sample, a dataset switch, a filter and
a search. Prints the figures; asserts nothing.

Synthetic text (:class:`Text`) compresses a little worse than real Japanese text, and real prompts repeat more (e.g.
several JSQuAD questions on one paragraph): the size measured here is an upper estimate.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lm_eval_jaster.registry import all_datasets  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--enable-precise-memory-info"]
DATE = "2025-01-01T00-00-00.000000"
SHOTS = 4
HEADER = ("以下は、タスクを説明する指示と、文脈のある入力の組み合わせです。"
          "要求を適切に満たす応答を書きなさい。")
# (input characters, gold characters) by category: the shape of Jaster's prompts and answers
LENGTHS = {"NLI": (90, 0), "QA": (60, 10), "RC": (650, 12), "MC": (140, 1), "EL": (300, 40), "FA": (250, 60),
           "MR": (110, 3), "MT": (120, 120), "HE": (260, 1), "CG": (400, 200), "SUM": (1500, 150), "STS": (90, 3),
           "CL": (40, 1)}
WEIGHTS = {"RC": 3.0, "HE": 3.0, "MC": 1.5, "NLI": 1.5}  # datasets of these categories are larger


class Text:
    """Japanese-looking text: words of kana and kanji drawn with Zipf's law (s = 1.1) from a 20,000-word vocabulary.
    gzip shrinks it 3.0×, real JSQuAD text 3.6×: the sizes measured here are on the safe side."""

    def __init__(self, rng: random.Random, vocabulary: int = 20_000, exponent: float = 1.1):
        self.rng = rng
        words = random.Random(0)
        hiragana = [chr(c) for c in range(0x3041, 0x3094)]
        katakana = [chr(c) for c in range(0x30A1, 0x30F7)]
        kanji = [chr(0x4E00 + words.randrange(0, 0x5200)) for _ in range(2500)]

        def word() -> str:
            kind = words.random()
            alphabet, length = ((hiragana, (1, 3)) if kind < 0.45 else (kanji, (1, 3)) if kind < 0.85
                                else (katakana, (2, 5)))
            return "".join(words.choice(alphabet) for _ in range(words.randint(*length)))

        self.words = [word() for _ in range(vocabulary)]
        self.cumulative = list(itertools.accumulate(1 / (i + 1) ** exponent for i in range(vocabulary)))

    def __call__(self, length: int) -> str:
        out, total = [], 0
        while total < length:
            w = self.words[bisect.bisect(self.cumulative, self.rng.random() * self.cumulative[-1])]
            if self.rng.random() < 0.08:
                w += self.rng.choice("、。")
            out.append(w)
            total += len(w)
        return "".join(out)[:max(length, 1)]


def _sizes(total: int) -> dict[str, int]:
    infos = all_datasets()
    weights = {name: WEIGHTS.get(info.category, 1.0) for name, info in infos.items()}
    scale = total / sum(weights.values())
    return {name: max(1, round(w * scale)) for name, w in weights.items()}


def _docs(name: str, count: int, text: Text) -> tuple[str, list[dict]]:
    """The shared prompt start (header, instruction, few-shots) and the docs (input, gold) of one dataset."""
    info = all_datasets()[name]
    input_chars, gold_chars = LENGTHS[info.category]

    def gold() -> str:
        if info.labels:
            return text.rng.choice(info.labels)
        if info.key_metric in ("pearson", "spearman"):
            return f"{text.rng.randint(0, 5)}.{text.rng.randint(0, 9)}"
        return text(max(1, int(gold_chars * text.rng.uniform(0.5, 1.5))))

    def one_input() -> str:
        return text(max(8, int(input_chars * text.rng.uniform(0.5, 1.5))))

    shots = "".join(f"### 入力:\n{one_input()}\n\n### 応答:\n{gold()}\n\n" for _ in range(SHOTS))
    prefix = f"{HEADER}\n\n### 指示:\n{info.instruction}\n\n{shots}"
    return prefix, [{"input": one_input(), "output": gold()} for _ in range(count)]


def _value(key_metric: str, right: bool, rng: random.Random, answer: str, gold: str):
    if key_metric in ("pearson", "spearman"):
        return [answer, gold]
    if key_metric == "exact_match":
        return 1.0 if right else 0.0
    return 1.0 if right else round(rng.uniform(0, 0.8), 4)


def write_run(root: Path, index: int, sizes: dict[str, int], docs: dict[str, tuple[str, list[dict]]]) -> Path:
    """One model's run: results_<date>.json and samples_<task>_<date>.jsonl, as lm-eval writes them."""
    rng = random.Random(1000 + index)
    text = Text(rng)
    model = f"org/model-{index + 1}"
    run_dir = root / f"model-{index + 1}"
    run_dir.mkdir(parents=True)
    accuracy = 0.3 + 0.1 * index
    results, n_samples = {}, {}
    for name, info in all_datasets().items():
        prefix, items = docs[name]
        task = info.task_name
        strict_sum = lenient_sum = adherence_sum = 0.0
        lines = []
        for doc_id, doc in enumerate(items):
            right = rng.random() < accuracy
            well_formed = right or rng.random() < 0.7
            answer = doc["output"] if right else text(max(1, len(doc["output"])))
            raw = answer if well_formed else f"{answer}\n\n{text(rng.randint(20, 120))}"
            value = _value(info.key_metric, right, rng, answer, doc["output"])
            strict_value = value if well_formed or not isinstance(value, float) else 0.0
            common = {"doc_id": doc_id, "target": doc["output"], "resps": [[raw]],
                      "metrics": [info.key_metric, "score"], "doc_hash": f"{name}-{doc_id}",
                      "prompt_hash": f"p-{name}-{doc_id}", "target_hash": f"t-{name}-{doc_id}"}
            strict = {"doc_id": doc_id, "doc": {**doc, "split": "test", "jaster_dataset": name},
                      "arguments": {"gen_args_0": {"arg_0": f"{prefix}### 入力:\n{doc['input']}\n\n### 応答:\n",
                                                   "arg_1": {"until": ["\n\n"], "max_gen_toks": 256}}},
                      **common, "filtered_resps": [answer if well_formed else raw], "filter": "llm-jp-eval",
                      info.key_metric: strict_value, "score": strict_value}
            lenient = {**strict, "filtered_resps": [answer], "filter": "lenient",
                       "format_adherence": 1.0 if well_formed else 0.0, "lenient_recovered": 0.0}
            lines += [strict, lenient]
            number = value if isinstance(value, float) else float(right)
            strict_sum += number if well_formed else 0.0  # the strict filter cannot read a malformed answer
            lenient_sum += number
            adherence_sum += 1.0 if well_formed else 0.0
        n = len(items)
        with (run_dir / f"samples_{task}_{DATE}.jsonl").open("w", encoding="utf-8") as f:
            for line in lines:
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
        results[task] = {"alias": task, f"{info.key_metric},llm-jp-eval": strict_sum / n,
                         f"{info.key_metric},lenient": lenient_sum / n, "format_adherence,lenient": adherence_sum / n}
        n_samples[task] = {"original": n, "effective": n}
    tasks = [info.task_name for info in all_datasets().values()]
    (run_dir / f"results_{DATE}.json").write_text(json.dumps({
        "results": results, "n-shot": dict.fromkeys(tasks, SHOTS), "n-samples": n_samples,
        "versions": dict.fromkeys(tasks, 2.0), "lm_eval_version": "0.4.13", "model_name": model,
        "config": {"model": "hf", "model_args": f"pretrained={model}", "limit": None, "gen_kwargs": {}},
    }, ensure_ascii=False), encoding="utf-8")
    return run_dir / f"results_{DATE}.json"


def _mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def measure_browser(path: Path) -> dict[str, float]:
    from playwright.sync_api import expect, sync_playwright

    figures = {}
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        start = time.perf_counter()
        page.goto(path.resolve().as_uri())
        page.wait_for_selector("#sample-list .sample", timeout=120_000)
        figures["load to first sample, wall (s)"] = time.perf_counter() - start
        figures["first render after navigation start (ms)"] = float(
            page.get_attribute("html", "data-first-render-ms"))
        timing = page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])")
        navigation = json.loads(timing)
        figures["HTML parsed, DOMContentLoaded (ms)"] = navigation["domContentLoadedEventEnd"]
        largest = page.evaluate("""() => Array.from(document.querySelectorAll('script.jaster-samples'))
            .sort((a, b) => b.textContent.length - a.textContent.length)[0].dataset.dataset""")
        for box in page.locator("#sample-runs input").all():  # every run side by side
            if not box.is_checked():
                box.click()
        start = time.perf_counter()
        page.select_option("#sample-dataset", largest)
        expect(page.locator("#sample-status")).to_contain_text(f"({largest}, ", timeout=120_000)
        figures[f"open the largest dataset ({largest}), all runs shown (s)"] = time.perf_counter() - start
        start = time.perf_counter()
        page.click('#sample-filters button[data-filter="wrong"]')
        page.wait_for_selector('#sample-filters button[data-filter="wrong"][aria-pressed="true"]')
        figures["filter: wrong in every run (s)"] = time.perf_counter() - start
        start = time.perf_counter()
        page.fill("#sample-search", "no such text")  # matches nothing: every string of every run is read
        expect(page.locator("#sample-status")).to_contain_text("(0 match the search)", timeout=120_000)
        figures["search matching nothing, incl. 150 ms debounce (s)"] = time.perf_counter() - start
        heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0")
        figures["JS heap after that (MiB)"] = heap / 2**20
        figures["console errors"] = len(errors)
        context.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--samples", type=int, default=20_000, help="samples per run, over all datasets")
    parser.add_argument("--keep", type=Path, help="write the runs and report.html here and keep them")
    args = parser.parse_args(argv)

    from lm_eval_jaster.report import collect_runs, comparisons
    from lm_eval_jaster.report.html import render_page

    root = args.keep or Path(tempfile.mkdtemp(prefix="jaster_html_bench_"))
    try:
        sizes = _sizes(args.samples)
        text = Text(random.Random(7))
        docs = {name: _docs(name, n, text) for name, n in sizes.items()}
        start = time.perf_counter()
        results = [write_run(root / "runs", i, sizes, docs) for i in range(args.runs)]
        made = time.perf_counter() - start
        on_disk = sum(p.stat().st_size for p in (root / "runs").rglob("samples_*.jsonl"))
        start = time.perf_counter()
        runs = collect_runs(results)
        for run in runs:
            run.samples  # noqa: B018 (read now, to time it apart)
        read = time.perf_counter() - start
        start = time.perf_counter()
        found = comparisons(runs)
        compared = time.perf_counter() - start
        start = time.perf_counter()
        page = render_page(runs, found)
        path = root / "report.html"
        path.write_text(page, encoding="utf-8")
        written = time.perf_counter() - start
        size = path.stat().st_size
        samples_part = sum(len(chunk) for chunk in page.split('class="jaster-samples"')[1:])
        print(f"report.html for {args.runs} runs × {sum(sizes.values()):,} samples ({len(sizes)} datasets), "
              f"{SHOTS}-shot prompts")
        print(f"  synthesised runs: {made:.1f} s; their samples files: {_mib(on_disk)}")
        print(f"  read samples files: {read:.1f} s; comparisons: {compared:.1f} s; "
              f"render and write report.html: {written:.1f} s")
        print(f"  report.html: {_mib(size)} (samples, gzip+base64: {_mib(samples_part)}; the rest: "
              f"{_mib(size - samples_part)})")
        if not Path(CHROMIUM).is_file():
            print(f"  no browser at {CHROMIUM}: set $CHROMIUM to measure the time to first render")
            return 1
        for name, value in measure_browser(path).items():
            print(f"  {name}: {value:.2f}" if isinstance(value, float) else f"  {name}: {value}")
        print(f"  files: {root}" if args.keep else "")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
