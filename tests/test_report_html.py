"""report.html, opened in headless Chromium as a person would: what the page shows, filters, side by side, escaping,
and that it reaches no network.

Needs the Debian package ``chromium`` (/usr/bin/chromium; another binary: $CHROMIUM) and Playwright's Python package
(the ``test`` extra), which drives that browser: no browser is downloaded. Missing either is a failure, not a skip.
"""

from __future__ import annotations

import contextlib
import csv
import html.parser
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from lm_eval_jaster import cli, report

try:
    from playwright.sync_api import expect
except ImportError:  # reported by the browser fixture, as a failure
    expect = None
from lm_eval_jaster.report.html import dataset_samples, shared_prefix
from lm_eval_jaster.scores import compute_scores
from tiny_model import build_tiny_model

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
TASKS = "jaster_jamp,jaster_jemhopqa,jaster_mawps"
DATASETS = ["jamp", "jemhopqa", "mawps"]  # registry order: jamp is the first dataset of the sample browser
LIMIT = 24  # more samples than a page (20)
SHOTS = 2
PAGE_SIZE = 20
ORACLE = '<i>oracle</i></script> & "co"'  # a label with markup: must show as text
NASTY = ('<img src="http://192.0.2.1/x.png" onerror="document.title=\'pwned\'"><b>bold</b> & "q" \'s\' '
         '</script><script>document.title="pwned"</script>\nsecond line')
NASTY_DOC = 1


# --- real runs -----------------------------------------------------------------------------------------------------

def _lm_eval(output_path: Path, model_args: list[str], limit: int = LIMIT) -> Path:
    try:
        code = cli.main([*model_args, "--tasks", TASKS, "--limit", str(limit), "--num_fewshot", str(SHOTS),
                         "--log_samples", "--output_path", str(output_path)])
    except SystemExit as e:  # cli.main exits with the command's status
        code = e.code
    assert code in (None, 0)
    [results_file] = output_path.glob("*/results_*.json")
    return results_file


def _read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _oracle_copy(dummy: Path, root: Path) -> Path:
    """The dummy run, rewritten so that every even doc is answered right (the gold, key metric 1, format kept) and
    doc NASTY_DOC's generation is markup; results recomputed from the samples, so scores and samples agree."""
    run_dir = root / "oracle"
    shutil.copytree(dummy.parent, run_dir)
    for path in run_dir.glob("jaster_scores_*.json"):
        path.unlink()  # its intervals were the dummy's: the report computes them from the samples
    results_file = run_dir / dummy.name
    results = json.loads(results_file.read_text(encoding="utf-8"))
    results["config"]["model_args"] = {"pretrained": "oracle"}
    for path in run_dir.glob("samples_*.jsonl"):
        task = path.name[len("samples_"):].rsplit("_", 1)[0]
        lines = _read_lines(path)
        for line in lines:
            metrics = [m for m in line["metrics"] if m in line]
            if line["doc_id"] % 2 == 0:
                line["resps"], line["filtered_resps"] = [[line["target"]]], [line["target"]]
                line.update(dict.fromkeys(metrics, 1.0))
                if "format_adherence" in line:
                    line["format_adherence"] = 1.0
            elif line["doc_id"] == NASTY_DOC:
                line["resps"] = [[NASTY]]
        path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
        for key in list(results["results"][task]):
            metric, _, filter_name = key.partition(",")
            values = [line[metric] for line in lines if line["filter"] == filter_name and metric in line]
            if values and all(isinstance(v, float) for v in values):
                results["results"][task][key] = sum(values) / len(values)
    results_file.write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")
    return results_file


@pytest.fixture(scope="module")
def runs(jaster_env, tmp_path_factory) -> dict[str, Path]:
    """name → results file: the dummy model, a tiny HF model (real lm-eval runs, --log_samples, 2-shot) and the
    dummy run with half its answers made right ("oracle")."""
    root = tmp_path_factory.mktemp("html_runs")
    tiny = build_tiny_model(root / "tiny-llama-ja")
    dummy = _lm_eval(root / "dummy", ["--model", "dummy", "--model_args", "pretrained=dummy"])
    return {
        "dummy": dummy,
        "hf": _lm_eval(root / "hf", ["--model", "hf", "--model_args", f"pretrained={tiny},dtype=float32",
                                     "--device", "cpu", "--batch_size", "8"]),
        "oracle": _oracle_copy(dummy, root),
    }


def _report(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = report.main(argv)
    assert code == 0, err.getvalue()
    return code, out.getvalue()


@pytest.fixture(scope="module")
def made(runs, tmp_path_factory) -> Path:
    """``lm-eval-jaster report dummy hf oracle --output-dir R``: the output folder."""
    out_dir = tmp_path_factory.mktemp("html_report")
    _, printed = _report([str(runs["dummy"]), str(runs["hf"]), str(runs["oracle"]), "--label", "dummy",
                          "--label", "tiny-llama-ja", "--label", ORACLE, "--output-dir", str(out_dir)])
    assert f"wrote {out_dir / 'report.html'}" in printed
    return out_dir


def _samples(results_file: Path, dataset: str, filter_name: str = "llm-jp-eval") -> list[dict]:
    [path] = results_file.parent.glob(f"samples_jaster_{dataset}_*.jsonl")
    return sorted((s for s in _read_lines(path) if s["filter"] == filter_name), key=lambda s: s["doc_id"])


def _wrong(sample: dict) -> bool:
    return sample["exact_match"] < 1.0  # jamp's key metric


# --- the browser ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (the system's) with a fresh profile."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: the HTML report is tested in headless Chromium. Install it with "
                    f"`apt-get install -y chromium` (.ci/run does), or point $CHROMIUM at a Chromium binary.")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # the test extra installs it
        pytest.fail("Playwright's Python package drives the browser in these tests: pip install -e '.[test]'.")
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000})
        yield context
        context.close()


class Page:
    """A report opened from disk, with the console errors and requests it caused."""

    def __init__(self, context, path: Path):
        self.path = path
        self.page = context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_selector("#sample-list .sample", timeout=30_000)  # no click: the first dataset shows

    def __getattr__(self, name):
        return getattr(self.page, name)

    def texts(self, selector: str) -> list[str]:
        return self.page.locator(selector).all_text_contents()

    def docs(self) -> list[int]:
        return [int(d) for d in self.page.locator("#sample-list .sample").evaluate_all(
            "nodes => nodes.map(n => n.dataset.doc)")]

    def show_runs(self, *labels: str) -> None:
        """Tick exactly these runs in the sample browser."""
        for label in self.page.locator("#sample-runs label").all():
            box = label.locator("input")
            if box.is_enabled() and box.is_checked() != (label.text_content() in labels):
                box.click()

    def filter(self, name: str) -> None:
        self.page.click(f'#sample-filters button[data-filter="{name}"]')

    def check_clean(self) -> None:
        assert self.errors == []
        assert all(url == self.path.resolve().as_uri() or url.startswith("data:") for url in self.requests), \
            self.requests


@pytest.fixture
def page(browser, made):
    opened = Page(browser, made / "report.html")
    yield opened
    opened.check_clean()
    opened.close()


# --- tests ---------------------------------------------------------------------------------------------------------

def test_cli_writes_report_html_and_no_html_leaves_it_out(runs, made, tmp_path):
    assert (made / "report.html").stat().st_size > 0
    _, printed = _report([str(runs["dummy"]), "--no-html", "--output-dir", str(tmp_path)])
    assert not (tmp_path / "report.html").exists() and "report.html" not in printed
    assert (tmp_path / "leaderboard.md").is_file()


def test_opens_with_runs_datasets_and_first_sample_without_a_click(page, runs):
    assert page.title() == f"Jaster report: dummy, tiny-llama-ja, {ORACLE}"
    assert page.texts("#run-chips .chip")[2].startswith(ORACLE)  # markup in a label is text
    assert page.locator("#run-chips i").count() == 0
    rows = page.texts("#leaderboard tr.run-row th")
    assert rows == ["dummy", "tiny-llama-ja", ORACLE]
    heads = " ".join(page.texts("#leaderboard thead th"))
    assert all(name in heads for name in ["AVG", "NLI", "QA", "MR", *DATASETS])
    assert page.locator("#sample-dataset option").evaluate_all("o => o.map(x => x.value)") == DATASETS
    assert page.locator("#sample-dataset").input_value() == "jamp"
    first = _samples(runs["dummy"], "jamp")[0]
    card = page.locator("#sample-list .sample").first
    assert card.get_attribute("data-doc") == str(first["doc_id"])
    own = card.locator(".prompt-own").text_content()
    assert first["doc"]["input"] in own
    prompt = first["arguments"]["gen_args_0"]["arg_0"]
    assert prompt.endswith(own) and prompt.startswith(card.locator(".prompt-prefix").text_content())
    assert card.locator("details.fewshot").get_attribute("open") is None  # few-shots collapsed
    assert card.locator(".gold-text").text_content() == first["target"]
    # the default view: the first two runs side by side
    assert page.locator("#sample-runs input:checked").count() == 2
    assert card.locator(".answer").count() == 2 and card.locator(".answer .raw").first.text_content() == "lol"


def test_no_network_reference(made, page):
    found = []

    class Links(html.parser.HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend((tag, k, v) for k, v in attrs if k in ("src", "href", "action", "srcset", "poster"))

    text = (made / "report.html").read_text(encoding="utf-8")
    Links().feed(text)
    assert found and all(v.startswith("#") or v.startswith("data:") for _, _, v in found), found
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text
    rendered = page.locator("[src], [href]").evaluate_all(
        "nodes => nodes.map(n => n.getAttribute('src') || n.getAttribute('href'))")
    assert rendered and all(v.startswith("#") or v.startswith("data:") for v in rendered), rendered
    csp = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp


def test_leaderboard_values_intervals_and_sorting(page, runs):
    for model, label in (("dummy", "dummy"), ("oracle", ORACLE)):
        scores = compute_scores(json.loads(runs[model].read_text(encoding="utf-8")))
        [run] = report.collect_runs([runs[model]])
        row = page.locator("#leaderboard tr.run-row").filter(has_text=label).first
        avg = row.locator("td").first
        assert avg.locator(".value").text_content() == f"{scores['AVG']:.4f}"
        low, high = run.intervals.avg
        assert avg.locator(".ci").text_content() == f"[{low:.3f}, {high:.3f}]"
    page.click("#leaderboard thead th:nth-child(2) button")  # AVG: numbers sort high to low first
    values = [float(v) for v in page.texts("#leaderboard tr.run-row td:nth-child(2) .value")]
    assert values == sorted(values, reverse=True) and values[0] > values[-1]
    assert page.texts("#leaderboard tr.run-row th")[0] == ORACLE
    assert page.get_attribute("#leaderboard thead th:nth-child(2)", "aria-sort") == "descending"
    page.click('#leaderboard .switch button[data-value="lenient"]')
    scores = compute_scores(json.loads(runs["oracle"].read_text(encoding="utf-8")))
    row = page.locator("#leaderboard tr.run-row").filter(has_text=ORACLE).first
    assert row.locator("td .value").first.text_content() == f"{scores['lenient_AVG']:.4f}"
    assert row.locator(".ci").count() == 0
    bars = page.locator("#charts svg.bar-chart rect")
    assert bars.count() == len(DATASETS) * 3
    assert page.locator("#charts svg.radar polygon.series:not(.lenient)").count() == 3


def test_comparisons_match_the_csv(page, made):
    with (made / "comparison.csv").open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["model"] == ORACLE]
    section = page.locator("#comparisons .comparison").filter(has_text=f"{ORACLE} vs dummy")
    shown = {r.get_attribute("data-name"): r for r in section.locator("tr.cmp-row").all()}
    assert set(shown) == {r["name"] for r in rows}
    for row in rows:
        cells = shown[row["name"]].locator("td").all_text_contents()
        delta, p = float(row["delta"]), float(row["p_value"])
        assert cells[4] == f"{delta:+.4f}" and cells[6] == f"{p:.3f}"
        assert cells[7] == ("▲" if p < 0.05 and delta > 0 else "▼" if p < 0.05 and delta < 0 else "")
    assert shown["jamp"].locator("td").all_text_contents()[7] == "▲"  # 12 of 24 right against none


def test_filter_leaves_only_wrong_answers(page, runs):
    page.show_runs(ORACLE)
    assert page.locator("#sample-list .sample .answer").count() == PAGE_SIZE  # one column per card
    page.filter("wrong")
    wrong = [s["doc_id"] for s in _samples(runs["oracle"], "jamp") if _wrong(s)]
    assert 0 < len(wrong) < LIMIT
    assert page.docs() == wrong[:PAGE_SIZE]
    assert page.locator("#sample-list .badge.right").count() == 0
    assert page.locator("#sample-list .badge.wrong").count() == len(page.docs())
    assert f"of {len(wrong)} " in page.text_content("#sample-status")
    page.filter("correct")
    assert page.docs() == [s["doc_id"] for s in _samples(runs["oracle"], "jamp") if not _wrong(s)][:PAGE_SIZE]
    assert page.locator("#sample-list .badge.wrong").count() == 0
    page.filter("format")
    errors = [s["doc_id"] for s in _samples(runs["oracle"], "jamp", "lenient") if s["format_adherence"] == 0]
    assert page.docs() == errors[:PAGE_SIZE] and errors


def test_side_by_side_only_a_or_b_right(page, runs):
    page.show_runs("dummy", ORACLE)
    card = page.locator("#sample-list .sample").first
    names = card.locator(".answer h4 .run-name").all_text_contents()
    assert names == ["dummy", ORACLE]
    dummy = {s["doc_id"]: _wrong(s) for s in _samples(runs["dummy"], "jamp")}
    oracle = {s["doc_id"]: _wrong(s) for s in _samples(runs["oracle"], "jamp")}
    only_oracle = [d for d in sorted(dummy) if dummy[d] and not oracle[d]]
    only_dummy = [d for d in sorted(dummy) if oracle[d] and not dummy[d]]
    assert only_oracle and not only_dummy
    page.filter("onlyB")
    assert page.docs() == only_oracle[:PAGE_SIZE]
    for card in page.locator("#sample-list .sample").all():
        answers = card.locator(".answer")
        assert answers.nth(0).locator(".badge.wrong").count() == 1
        assert answers.nth(1).locator(".badge.right").count() == 1
    assert page.text_content('#sample-filters button[data-filter="onlyB"]').startswith(f"Only {ORACLE} right")
    page.filter("onlyA")
    assert page.docs() == [] and "No sample of jamp matches" in page.text_content("#sample-status")
    page.show_runs(ORACLE)  # one run: no "only A / only B" filter, back to all
    assert page.locator('#sample-filters button[data-filter="onlyA"]').count() == 0
    assert page.locator("#sample-list .sample").count() == PAGE_SIZE


def test_pages_datasets_and_search(page, runs):
    page.show_runs("dummy")
    assert page.docs() == list(range(PAGE_SIZE))
    page.click("#samples .pager .next >> nth=0")
    assert page.docs() == list(range(PAGE_SIZE, LIMIT))
    page.select_option("#sample-dataset", "mawps")
    expect(page.locator("#sample-status")).to_contain_text("(mawps, ")  # decoded on first use
    mawps = _samples(runs["dummy"], "mawps")
    assert page.docs() == [s["doc_id"] for s in mawps][:PAGE_SIZE]
    target = mawps[7]
    query = target["doc"]["input"][5:25]
    expected = [s["doc_id"] for s in mawps if query.lower() in s["doc"]["input"].lower()
                or query.lower() in str(s["target"]).lower()]
    page.fill("#sample-search", query)
    expect(page.locator("#sample-list .sample")).to_have_count(len(expected))
    assert target["doc_id"] in page.docs() and page.docs() == expected


def test_answers_are_text_not_markup(page):
    page.show_runs(ORACLE)
    card = page.locator(f'#sample-list .sample[data-doc="{NASTY_DOC}"]')
    assert card.locator(".raw").text_content() == NASTY
    assert page.locator("#sample-list img, #sample-list script, #sample-list pre b").count() == 0
    assert page.title() != "pwned"


def test_not_comparable_runs_are_flagged(runs, jaster_env, tmp_path, browser):
    short = _lm_eval(tmp_path / "short", ["--model", "dummy", "--model_args", "pretrained=dummy"], limit=2)
    _report([str(runs["dummy"]), str(short), "--label", "dummy-24", "--label", "dummy-2", "--output-dir",
             str(tmp_path / "out"), "--worst", "0"])
    opened = Page(browser, tmp_path / "out" / "report.html")
    flags = opened.texts("#leaderboard .not-comparable")
    assert flags == [f"Not comparable with group 1: limit {LIMIT} vs 2."]
    assert [t.split(":")[0] for t in opened.texts("#leaderboard .group h3")] == ["Group 1", "Group 2"]
    assert any(f"limit {LIMIT} vs 2" in t for t in opened.texts("#settings .not-comparable"))
    assert opened.get_attribute('#settings tr[data-setting="limit"]', "class") == "differs"
    assert opened.get_attribute('#settings tr[data-setting="split"]', "class") == ""
    opened.check_clean()
    opened.close()


def test_runs_without_samples_files(runs, tmp_path, browser):
    """Without --log_samples the page still shows the leaderboard, and says how to get samples."""
    bare = tmp_path / "bare" / "dummy"
    bare.mkdir(parents=True)
    shutil.copy(runs["dummy"], bare / runs["dummy"].name)
    written = report.write_report(report.collect_runs([bare]), tmp_path / "out")
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(written["report.html"].resolve().as_uri())
    expect(page.locator("#samples .note")).to_contain_text("Rerun with --log_samples")
    assert page.locator("#leaderboard tr.run-row").all_text_contents() != []
    assert "A single run: nothing to compare" in page.text_content("#comparisons")
    assert errors == []
    page.close()


# --- the data, without a browser -----------------------------------------------------------------------------------

def test_strings_are_stored_once_and_the_shared_prompt_start_once_per_run(runs):
    loaded = report.collect_runs([runs["dummy"], runs["oracle"]], ["a", "b"])
    data = dataset_samples(loaded, "jamp")
    strings = data["strings"]
    assert len(strings) == len(set(strings))
    a, b = data["runs"]["0"], data["runs"]["1"]
    assert a["prompt"] == b["prompt"] and a["prefix"] == b["prefix"]  # same prompts: the same strings
    prefix = strings[a["prefix"]]
    assert prefix.count("### 入力:") == SHOTS and prefix.endswith("\n\n")  # the few-shots with their answers
    for record, index in zip(loaded[0].samples["jamp"], a["prompt"]):
        assert prefix + strings[index] == record.strict["arguments"]["gen_args_0"]["arg_0"]
    assert [strings[i] for i in b["raw"]][NASTY_DOC] == NASTY
    assert a["outcome"] == [0] * LIMIT and b["outcome"] == [1 - d % 2 for d in range(LIMIT)]


def test_shared_prefix_cuts_at_a_line():
    assert shared_prefix(["head\n\nQ: one\nA:", "head\n\nQ: two\nA:"]) == "head\n\n"
    assert shared_prefix(["a\nb1", "a\nb2"]) == "a\n"
    assert shared_prefix(["same", "same"]) == "" and shared_prefix(["only"]) == ""
    assert shared_prefix(["xy", "xz"]) == ""
