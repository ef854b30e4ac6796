"""lm-eval-jaster report: leaderboard, comparisons, radar charts and worst examples from real lm-eval output."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
import struct
import sys
from pathlib import Path

import pytest

from lm_eval_jaster import cli, report, scores, stats
from lm_eval_jaster.scores import compute_scores, scores_path_for
from tiny_model import build_tiny_model

TASKS = "jaster_jamp,jaster_jemhopqa,jaster_jcommonsenseqa,jaster_mawps,jaster_jsts,jaster_wiki_reading"
DATASETS = ["jamp", "jemhopqa", "jcommonsenseqa", "wiki_reading", "mawps", "jsts"]  # registry order
CATEGORIES = ["NLI", "QA", "MC", "FA", "MR", "STS"]
META = ["model", "group", "not_comparable", "split", "limit", "n_shot", "missing_categories", "chat_template",
        "model_args", "results_file"]
COMPARISON_COLUMNS = ["baseline", "model", "scope", "name", "n", "delta", "ci_low", "ci_high", "p_value"]


# --- fixtures: real runs and their report ----------------------------------------------------------------------------

def _lm_eval(output_path: Path, model_args: list[str], limit: int = 4) -> Path:
    try:
        code = cli.main([*model_args, "--tasks", TASKS, "--limit", str(limit), "--num_fewshot", "0", "--log_samples",
                         "--output_path", str(output_path)])
    except SystemExit as e:  # cli.main exits with the command's status
        code = e.code
    assert code in (None, 0)
    [results_file] = output_path.glob("*/results_*.json")
    return results_file


@pytest.fixture(scope="module")
def runs(jaster_env, tmp_path_factory) -> dict[str, Path]:
    """model → results file of a real lm-eval run (dummy model and a tiny HF model), with samples files."""
    root = tmp_path_factory.mktemp("runs")
    tiny = build_tiny_model(root / "tiny-llama-ja")
    return {
        "dummy": _lm_eval(root / "dummy", ["--model", "dummy", "--model_args", "pretrained=dummy"]),
        "hf": _lm_eval(root / "hf", ["--model", "hf", "--model_args", f"pretrained={tiny},dtype=float32",
                                     "--device", "cpu", "--batch_size", "8"]),
    }


@pytest.fixture(scope="module")
def short_run(jaster_env, tmp_path_factory) -> Path:
    """The dummy model again, with --limit 2: not comparable with the --limit 4 runs."""
    return _lm_eval(tmp_path_factory.mktemp("short"), ["--model", "dummy", "--model_args", "pretrained=dummy"], 2)


def _load(results_file: Path) -> dict:
    return json.loads(results_file.read_text(encoding="utf-8"))


def _has_lenient(results_file: Path) -> bool:
    return any("score,lenient" in row for row in _load(results_file)["results"].values())


def _main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = report.main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def made(runs, tmp_path_factory) -> tuple[Path, str]:
    """The report of both runs (folders given, searched recursively; dummy first = baseline) and what it printed."""
    out_dir = tmp_path_factory.mktemp("report")
    code, printed, _ = _main([str(runs["dummy"].parents[1]), str(runs["hf"].parents[1]), "--output-dir", str(out_dir)])
    assert code == 0
    return out_dir, printed


LABELS = {"dummy": "dummy", "hf": "tiny-llama-ja"}  # the model's last path component


def _md_tables(markdown: str) -> dict[str, list[list[str]]]:
    """``## group`` / ``### table`` heading (joined by " / ") → rows (header first, rule dropped) of its table."""
    tables, heading, section = {}, None, ""
    for line in markdown.splitlines():
        if line.startswith("## "):
            section = heading = line[3:]
        elif line.startswith("### "):
            heading = f"{section} / {line[4:]}"
        elif line.startswith("| ") and heading is not None and not line.startswith("| ---"):
            tables.setdefault(heading, []).append([c.strip() for c in line.strip("|").split(" | ")])
    return tables


def _read_csv(path: Path, key: str = "model") -> tuple[list[str], dict[str, dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames), {row[key]: row for row in rows}


def _cell(value: str) -> float | None:
    return float(value) if value else None


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
    return struct.unpack(">II", data[16:24])


# --- end to end --------------------------------------------------------------------------------------------------

def test_files_written_and_printed(runs, made):
    out_dir, printed = made
    names = {p.name for p in out_dir.iterdir()}
    radars = {n for n in names if n.startswith("radar_")}
    assert radars == {"radar_all.png", "radar_dummy.png", "radar_tiny-llama-ja.png"}
    text = {"leaderboard.md", "leaderboard.csv", "comparison.csv", "comparison.md", "worst_examples.md", "report.html"}
    assert names == radars | text
    for name in names:
        assert f"wrote {out_dir / name}" in printed
    assert (out_dir / "leaderboard.md").read_text(encoding="utf-8") in printed


def test_settings_fingerprint_of_a_real_run(runs):
    [run] = report.collect_runs([runs["dummy"]])
    assert run.label == "dummy"
    settings = run.settings
    assert (settings["split"], settings["limit"], settings["chat_template"]) == ("dev", 4, False)
    assert settings["datasets"] == DATASETS and settings["n_shot"] == dict.fromkeys(DATASETS, 0)
    assert settings["lm_eval_version"] == _load(runs["dummy"])["lm_eval_version"]
    assert set(settings["task_versions"]) == set(DATASETS)


def test_csv_numbers_are_compute_scores(runs, made):
    out_dir, _ = made
    header, rows = _read_csv(out_dir / "leaderboard.csv")
    lenient = _has_lenient(runs["dummy"])
    names = ["AVG", *CATEGORIES, *DATASETS]
    expected = META + names + [f"{n}:{end}" for n in names for end in ("ci_low", "ci_high")]
    if lenient:
        expected += [f"{c}:lenient" for c in names] + [f"{d}:format_adherence" for d in DATASETS]
    assert header == expected
    assert len(rows) == 2
    for model, results_file in runs.items():
        scores = compute_scores(_load(results_file))
        row = rows[LABELS[model]]
        assert (row["group"], row["not_comparable"]) == ("1", "")
        assert (row["split"], row["limit"], row["n_shot"]) == ("dev", "4", "0")
        assert row["missing_categories"] == " ".join(scores["missing_categories"])
        assert {"RC", "EL"} <= set(row["missing_categories"].split()) and row["results_file"] == str(results_file)
        assert _cell(row["AVG"]) == scores["AVG"]
        assert _cell(row["QA"]) == scores["categories"]["QA"]
        assert _cell(row["STS"]) == scores["categories"]["STS"]
        for name in DATASETS:
            assert _cell(row[name]) == scores["datasets"][name]["score"]
        for name in names:  # every score has its interval, around it
            assert _cell(row[f"{name}:ci_low"]) <= _cell(row[name]) <= _cell(row[f"{name}:ci_high"]), name
        if lenient:
            assert _cell(row["AVG:lenient"]) == scores["lenient_AVG"]
            assert _cell(row["NLI:lenient"]) == scores["lenient_categories"].get("NLI")
            for name in DATASETS:
                assert _cell(row[f"{name}:lenient"]) == scores["datasets"][name]["lenient_score"]
                assert _cell(row[f"{name}:format_adherence"]) == scores["datasets"][name]["format_adherence"]
    # the dummy answers "lol": char_f1 against the jemhopqa golds varies, so that interval has width
    assert _cell(rows["dummy"]["jemhopqa:ci_low"]) < _cell(rows["dummy"]["jemhopqa:ci_high"])


def test_intervals_agree_with_the_scores_file(runs):
    """The report's intervals from the samples files are the ones lm-eval-jaster records during the run."""
    for results_file in runs.values():
        [run] = report.collect_runs([results_file])
        samples, notes = run.dataset_samples()
        assert set(samples) == set(DATASETS) and notes == {}
        computed = stats.run_intervals(samples, stats.category_members(run.scores), run.scores["avg_categories"])
        assert set(computed.categories) == set(CATEGORIES) and computed.avg is not None

        def rounded(estimate: stats.Estimate) -> list[float]:  # as the score table rounds
            return [scores.rounded(estimate.low), scores.rounded(estimate.high)]

        saved = json.loads(scores_path_for(results_file).read_text(encoding="utf-8"))
        if "AVG_ci" in saved:  # recorded by the run
            assert saved["AVG_ci"] == rounded(computed.avg)
            assert saved["categories_ci"] == {c: rounded(e) for c, e in computed.categories.items()}
            assert {d: saved["datasets"][d]["ci"] for d in DATASETS} == {
                d: rounded(e) for d, e in computed.datasets.items()}
            assert run.intervals.source == str(scores_path_for(results_file))
        else:
            assert run.intervals.source == "samples" and list(run.intervals.avg) == rounded(computed.avg)


def test_markdown_leaderboard(runs, made):
    out_dir, _ = made
    markdown = (out_dir / "leaderboard.md").read_text(encoding="utf-8")
    assert "llm-jp-eval v1.4.1 data, v1.3.0 prompt and metrics" in markdown  # scores["reference"]
    assert "all runs here do." in markdown
    tables = _md_tables(markdown)
    group = "Group 1: split dev, limit 4, 0-shot, no chat template, 6 datasets"
    strict = tables[f'{group} / Strict (filter "llm-jp-eval", llm-jp-eval\'s scoring)']
    assert strict[0][:6] == ["model", "split", "limit", "n-shot", "missing", "AVG"]
    assert "jamp (exact\\_match)" not in strict[0] and "jamp (exact_match)" in strict[0]
    assert "STS (not in AVG)" in strict[0] and "jsts (pearson)" in strict[0]
    assert len(strict) == 3  # header + one row per model
    by_model = {row[0]: dict(zip(strict[0], row)) for row in strict[1:]}
    cell = re.compile(r"(\d\.\d{4}) \[(\d\.\d{3}), (\d\.\d{3})\]")
    for model, results_file in runs.items():
        scores = compute_scores(_load(results_file))
        row = by_model[report.md_text(LABELS[model])]
        assert (row["split"], row["limit"], row["n-shot"]) == ("dev", "4", "0")
        assert {"RC", "EL"} <= set(row["missing"].split(", "))
        value, low, high = cell.fullmatch(row["AVG"]).groups()
        assert value == f"{scores['AVG']:.4f}" and float(low) <= float(value) <= float(high)
        assert cell.fullmatch(row["MC"]).group(1) == f"{scores['categories']['MC']:.4f}"
        assert cell.fullmatch(row["jemhopqa (char_f1)"]).group(1) == f"{scores['datasets']['jemhopqa']['score']:.4f}"
    assert len(tables["Runs"]) == 3
    coverage = tables["Coverage (samples scored per dataset)"]
    assert coverage[0] == ["dataset", "dummy", "tiny-llama-ja"]
    assert [r[0] for r in coverage[1:-1]] == [report.md_text(d) for d in DATASETS]
    assert all(r[1:] == ["4", "4"] for r in coverage[1:-1]) and coverage[-1][1:] == ["yes", "yes"]
    lenient_tables = [t for t in tables if " / Lenient" in t]
    if _has_lenient(runs["dummy"]):
        [name] = lenient_tables
        assert len(tables[name]) == 3 and tables[name][0] == strict[0]
        assert len(tables[f"{group} / Format adherence (per dataset)"]) == 3
    else:
        assert not lenient_tables and "format_adherence" not in (out_dir / "leaderboard.csv").read_text()


def test_radar_pngs(made):
    out_dir, _ = made
    for path in out_dir.glob("radar_*.png"):
        width, height = _png_size(path)
        assert 400 <= width <= 2000 and 400 <= height <= 2000, (path, width, height)
        assert 10_000 < path.stat().st_size < 1_000_000, path


def _section(markdown: str, start: str, level: str) -> str:
    """From the heading ``start`` to the next model (``##``) or task (``###``) heading; prompts hold "### 応答:"."""
    after = markdown.split(start, 1)[1]
    return after.split("\n## " if level == "##" else "\n### jaster\\_", 1)[0]


def test_worst_examples(runs, made):
    out_dir, _ = made
    markdown = (out_dir / "worst_examples.md").read_text(encoding="utf-8")
    dummy = _section(markdown, "\n## dummy\n", "##")
    jamp = _section(dummy, "\n### jaster\\_jamp (exact\\_match)\n", "###")
    samples_file = next(runs["dummy"].parent.glob("samples_jaster_jamp_*.jsonl"))
    strict = [json.loads(line) for line in samples_file.read_text(encoding="utf-8").splitlines()]
    strict = [s for s in strict if s["filter"] == "llm-jp-eval"]
    assert jamp.count("#### doc ") == len(strict) == 4  # all wrong; --limit 4 < N = 5
    lenient = _has_lenient(runs["dummy"])
    assert jamp.count(f"- raw = strict{' = lenient' if lenient else ''} answer: `lol`") == 4  # shown once each
    assert "- raw answer:" not in jamp and "- strict answer:" not in jamp
    for sample in strict:  # all score 0: ties in doc_id order, each with its gold
        assert f"#### doc {sample['doc_id']}: exact\\_match 0.0000" in jamp
        assert f"- gold: `{sample['target']}`" in jamp
    assert "```text\n…" in jamp and "### 応答:\n```" in jamp  # prompt tail, fenced
    jsts = _section(dummy, "\n### jaster\\_jsts (pearson)\n", "###")
    assert "|parse\\_float(pred) - gold| = 7.00" in jsts.replace("\\|", "|")  # "lol" → -2.0 vs gold 5.0 first
    hf = _section(markdown, f"\n## {report.md_text(LABELS['hf'])}\n", "##")
    assert all(f"### jaster\\_{d.replace('_', chr(92) + '_')} (" in hf for d in DATASETS)


def test_comparison_csv_of_two_real_runs(runs, made):
    """delta = model − baseline on the samples both scored: with full overlap, the difference of the two scores."""
    out_dir, _ = made
    with (out_dir / "comparison.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert reader.fieldnames == COMPARISON_COLUMNS
    assert {(r["baseline"], r["model"]) for r in rows} == {("dummy", "tiny-llama-ja")}
    by_name = {(r["scope"], r["name"]): r for r in rows}
    assert set(by_name) == {("dataset", d) for d in DATASETS} | {("category", c) for c in CATEGORIES} | {
        ("avg", "AVG")}
    base, model = compute_scores(_load(runs["dummy"])), compute_scores(_load(runs["hf"]))
    for row in rows:
        delta, low, high, p = (float(row[k]) for k in ("delta", "ci_low", "ci_high", "p_value"))
        assert low <= delta <= high and 0 < p <= 1, row
    for name in DATASETS:
        row = by_name[("dataset", name)]
        assert int(row["n"]) == 4
        assert float(row["delta"]) == pytest.approx(
            model["datasets"][name]["score"] - base["datasets"][name]["score"], abs=2e-6)  # 6 decimals
    for name in CATEGORIES:
        assert float(by_name[("category", name)]["delta"]) == pytest.approx(
            model["categories"][name] - base["categories"][name], abs=2e-6)
    avg = by_name[("avg", "AVG")]
    assert float(avg["delta"]) == pytest.approx(model["AVG"] - base["AVG"], abs=2e-6)
    assert int(avg["n"]) == 4 * 5  # the five categories in AVG, jsts (STS) left out
    markdown = (out_dir / "comparison.md").read_text(encoding="utf-8")
    assert "## tiny-llama-ja vs dummy" in markdown and "sign-flip permutation test" in markdown
    assert "Significant wins (p < 0.05)" in markdown and "Significant losses (p < 0.05)" in markdown


def test_runs_with_different_limits_are_not_ranked_together(runs, short_run, tmp_path):
    code, _, _ = _main([str(runs["dummy"]), str(short_run), "--label", "dummy-4", "--label", "dummy-2",
                        "--output-dir", str(tmp_path)])
    assert code == 0
    markdown = (tmp_path / "leaderboard.md").read_text(encoding="utf-8")
    assert "here they fall into 2 groups" in markdown
    assert "Not comparable with group 1: limit 4 vs 2." in markdown
    tables = _md_tables(markdown)
    strict = [rows for heading, rows in tables.items() if " / Strict" in heading]
    assert [[row[0] for row in rows[1:]] for rows in strict] == [["dummy-4"], ["dummy-2"]]  # one run per table
    _, rows = _read_csv(tmp_path / "leaderboard.csv")
    assert (rows["dummy-4"]["group"], rows["dummy-4"]["not_comparable"]) == ("1", "")
    assert (rows["dummy-2"]["group"], rows["dummy-2"]["not_comparable"]) == ("2", "limit 4 vs 2")
    comparison = (tmp_path / "comparison.md").read_text(encoding="utf-8")
    assert "Coverage differs (limit 4 vs 2): compared on the samples both scored." in comparison
    with (tmp_path / "comparison.csv").open(encoding="utf-8", newline="") as f:
        dataset_rows = [r for r in csv.DictReader(f) if r["scope"] == "dataset"]
    assert len(dataset_rows) == len(DATASETS) and all(r["n"] == "2" for r in dataset_rows)


def test_truncated_samples_line_is_skipped_with_a_warning(runs, tmp_path):
    """A killed run leaves a truncated last line: the report warns (file and line) and is written anyway."""
    run_dir = tmp_path / "killed" / "dummy"
    shutil.copytree(runs["dummy"].parent, run_dir)
    samples_file = next(run_dir.glob("samples_jaster_jamp_*.jsonl"))
    lines = samples_file.read_text(encoding="utf-8").splitlines(keepends=True)
    samples_file.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2], encoding="utf-8")
    broken = next(run_dir.glob("samples_jaster_mawps_*.jsonl"))
    mawps = broken.read_text(encoding="utf-8").splitlines(keepends=True)
    broken.write_text("".join(mawps[:1]) + "[1, 2]\n" + "".join(mawps[1:]), encoding="utf-8")
    code, printed, warnings = _main([str(run_dir), str(runs["hf"]), "--output-dir", str(tmp_path / "out")])
    assert code == 0
    assert f"warning: {samples_file}: line {len(lines)}: not valid JSON" in warnings
    assert f"warning: {broken}: line 2: not an lm-eval sample" in warnings
    assert "Traceback" not in warnings and f"wrote {tmp_path / 'out' / 'leaderboard.md'}" in printed
    assert {"leaderboard.md", "comparison.csv", "worst_examples.md"} <= {p.name for p in (tmp_path / "out").iterdir()}


def test_run_without_samples_and_duplicate_labels(runs, tmp_path):
    bare = tmp_path / "bare" / "dummy"
    bare.mkdir(parents=True)
    shutil.copy(runs["dummy"], bare / "results_2030-01-01T00-00-00.000000.json")  # same model, other date
    out = tmp_path / "out"
    written = report.write_report(report.collect_runs([bare.parent, runs["dummy"]]), out)
    _, rows = _read_csv(written["leaderboard.csv"])
    assert set(rows) == {"dummy @ 2030-01-01T00-00-00.000000", f"dummy @ {report.run_date(runs['dummy'])}"}
    worst = written["worst_examples.md"].read_text(encoding="utf-8")
    no_samples = _section(worst, "\n## dummy @ 2030-01-01T00-00-00.000000\n", "##")
    assert "No samples files" in no_samples and "--log\\_samples" in no_samples and "#### doc" not in no_samples
    assert "jaster\\_jamp" in _section(worst, f"\n## dummy @ {report.run_date(runs['dummy'])}\n", "##")
    comparison = written["comparison.md"].read_text(encoding="utf-8")
    assert "the paired comparison needs --log\\_samples for dummy @ 2030-01-01T00-00-00.000000" in comparison
    assert written["comparison.csv"].read_text(encoding="utf-8").splitlines() == [",".join(COMPARISON_COLUMNS)]
    coverage = _md_tables(written["leaderboard.md"].read_text(encoding="utf-8"))["Coverage (samples scored per "
                                                                                 "dataset)"]
    assert coverage[-1][1:] == ["**no**", "yes"]
    alone = report.write_report(report.collect_runs([bare]), tmp_path / "alone")
    assert "worst_examples.md" not in alone and "comparison.csv" not in alone and alone["leaderboard.md"].is_file()
    assert len(_read_csv(alone["leaderboard.csv"])[1]) == 1


def test_labels(runs, tmp_path):
    code, _, _ = _main([str(runs["hf"]), str(runs["dummy"]), "--label", "tiny", "--label", "baseline?",
                        "--output-dir", str(tmp_path), "--worst", "0"])
    assert code == 0
    _, rows = _read_csv(tmp_path / "leaderboard.csv")
    assert list(rows) == ["tiny", "baseline?"] and "worst_examples.md" not in {p.name for p in tmp_path.iterdir()}
    code, _, error = _main([str(runs["hf"]), str(runs["dummy"]), "--label", "one", "--output-dir", str(tmp_path)])
    assert code == 2 and "error: 1 --label given for 2 runs" in error and str(runs["dummy"]) in error
    assert "hint: Give --label once per run" in error
    code, _, error = _main([str(runs["hf"]), str(runs["dummy"]), "--label", "x", "--label", "x"])
    assert code == 2 and "--label 'x' is given more than once" in error


# --- errors and unit tests (no lm-eval run) -----------------------------------------------------------------------

def test_paths_without_results_exit_clearly(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, error = _main([str(empty)])
    assert code == 2 and f"error: {empty}: no lm-eval results file" in error and "Traceback" not in error
    with pytest.raises(report.ReportError, match="no such file or folder"):
        report.collect_runs([tmp_path / "missing"])
    other = tmp_path / "other" / "model"
    other.mkdir(parents=True)
    (other / "results_2025-01-01T00-00-00.json").write_text(
        json.dumps({"results": {"arc_easy": {"acc,none": 0.5}}}), encoding="utf-8")
    with pytest.raises(report.ReportError, match="no lm-eval results with Jaster tasks .*no Jaster task scored"):
        report.collect_runs([tmp_path / "other"])
    (other / "results_2025-01-01T00-00-00.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(report.ReportError, match="not readable as JSON"):
        report.collect_runs([other / "results_2025-01-01T00-00-00.json"])


def test_default_labels_are_the_last_path_component():
    label = report.model_label
    assert label({"config": {"model_args": "pretrained=/x/y/gemma-3-270m,dtype=float32"}}, Path("r.json")) == \
        "gemma-3-270m"
    assert label({"config": {"model_args": {"pretrained": "google/gemma-3-270m/"}}}, Path("r.json")) == "gemma-3-270m"
    assert label({"model_name": "C:\\models\\m1"}, Path("r.json")) == "m1"
    assert label({}, Path("/out/some-model/results_x.json")) == "some-model"


def _hand_run(label: str, lenient: bool = True) -> report.Run:
    f = "llm-jp-eval"
    results = {"results": {
        "jaster_jamp": {f"exact_match,{f}": 0.5, "exact_match,lenient": 0.75, "format_adherence,lenient": 0.5},
        "jaster_jemhopqa": {f"char_f1,{f}": 0.3, "char_f1,lenient": 0.4, "format_adherence,lenient": 0.9},
        "jaster_mawps": {f"exact_match,{f}": 0.2, "exact_match,lenient": 0.6, "format_adherence,lenient": 0.6},
        "jaster_jsts": {f"pearson,{f}": 0.9, f"spearman,{f}": 0.8},
    }, "config": {"limit": 100, "model_args": "pretrained=x"}, "n-shot": {"jaster_jamp": 4, "jaster_jemhopqa": 4,
                                                                          "jaster_mawps": 4, "jaster_jsts": 0}}
    if not lenient:
        for row in results["results"].values():
            for key in [k for k in row if k.endswith(",lenient")]:
                del row[key]
    return report.Run(label, Path(f"/x/{label}/results_2025-01-01T00-00-00.json"), results,
                      compute_scores(results))


def test_lenient_columns_from_hand_made_results(tmp_path):
    runs = [_hand_run("with|pipe"), _hand_run("strict-only", lenient=False)]
    header, rows = report.leaderboard_rows(runs)
    assert header[-4:] == [f"{d}:format_adherence" for d in ("jamp", "jemhopqa", "mawps", "jsts")]
    assert not any(h.endswith(":ci_low") for h in header)  # no samples, no scores file: no intervals
    assert rows[0]["NLI:lenient"] == 0.75 and rows[0]["AVG:lenient"] == pytest.approx((0.75 + 0.4 + 0.6) / 3)
    assert rows[1]["AVG:lenient"] is None and rows[0]["n_shot"] == "jamp=4 jemhopqa=4 mawps=4 jsts=0"
    tables = _md_tables(report.leaderboard_markdown(runs))
    lenient = next(v for k, v in tables.items() if " / Lenient" in k)
    assert [len(r) for r in lenient] == [len(lenient[0])] * 3  # the "|" in a label does not add a column
    assert lenient[1][0] == "with\\|pipe" and lenient[2][lenient[0].index("AVG")] == "–"
    written = report.write_report(runs, tmp_path)
    _png_size(written["radar_all.png"])
    assert {"radar_with_pipe.png", "radar_strict-only.png"} <= set(written)


def test_intervals_from_the_scores_file_when_there_are_no_samples(tmp_path):
    run = _hand_run("m")
    run_dir = tmp_path / "m"
    run_dir.mkdir()
    results_file = run_dir / "results_2025-01-01T00-00-00.json"
    results_file.write_text(json.dumps(run.results), encoding="utf-8")
    scores = {"datasets": {"jamp": {"ci": [0.4, 0.6]}, "jsts": {"ci": [0.85, 0.95]}},
              "categories_ci": {"NLI": [0.4, 0.6]}, "AVG_ci": [0.3, 0.4]}
    (run_dir / "jaster_scores_2025-01-01T00-00-00.json").write_text(json.dumps(scores), encoding="utf-8")
    [loaded] = report.collect_runs([results_file])
    assert loaded.intervals.get("jamp") == (0.4, 0.6) and loaded.intervals.get("AVG") == (0.3, 0.4)
    header, [row] = report.leaderboard_rows([loaded])
    assert (row["AVG:ci_low"], row["NLI:ci_high"], row["mawps:ci_low"]) == (0.3, 0.6, None)
    assert "0.5000 [0.400, 0.600]" in report.leaderboard_markdown([loaded])


def test_missing_matplotlib_message(tmp_path, monkeypatch):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg", "matplotlib.lines"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(report.ReportError, match=r"radar charts need matplotlib") as error:
        report.write_report([_hand_run("m")], tmp_path)
    assert error.value.hint == "pip install 'lm-eval-jaster[report]'"
    assert (tmp_path / "leaderboard.md").is_file()  # the text files are written first


def test_markdown_escaping_of_answers():
    markdown_it = pytest.importorskip("markdown_it")
    nasty = "a | b ```x``` c\nsecond line"
    strict = {"doc_id": 7, "filter": "llm-jp-eval", "target": "gold|```\n",
              "arguments": {"gen_args_0": {"arg_0": "P" * 300 + "\n```\n| x |\n### 応答:\n", "arg_1": {}}},
              "resps": [[nasty]], "filtered_resps": [nasty.split("\n")[0]], "exact_match": 0.0}
    lenient = {**strict, "filter": "lenient", "filtered_resps": ["`b`"], "format_adherence": 0.0}
    [(s, lenient_line, shown)] = report.worst_samples([strict, lenient], "exact_match", 5)
    text = "\n".join(["# t", "", *report.format_example(s, lenient_line, shown), "after"])
    tokens = markdown_it.MarkdownIt("commonmark").enable("table").parse(text)
    [fence] = [t for t in tokens if t.type == "fence"]
    assert fence.content == "…" + strict["arguments"]["gen_args_0"]["arg_0"][-200:]
    inline = [c.content for t in tokens if t.type == "inline" for c in t.children if c.type == "code_inline"]
    assert inline == ["a | b ```x``` c↵second line", "a | b ```x``` c", "`b`", "gold|```↵"]
    assert [t.type for t in tokens].count("list_item_open") == 4
    assert tokens[-2].content == "after"  # nothing leaked past the example
    assert report.md_code("") == "*(empty)*" and report.md_code(" x ") == "`  x  `"


def test_worst_examples_are_wrong_answers_only():
    def sample(doc_id: int, value, answer: str = "a") -> dict:
        return {"doc_id": doc_id, "filter": "llm-jp-eval", "resps": [[answer]], "filtered_resps": [answer],
                "target": "t", "score": value}

    samples = [sample(0, 1.0), sample(1, 0.5), sample(2, 0.0), sample(3, 1.0), sample(4, 0.99)]
    assert [s["doc_id"] for s, _, _ in report.worst_samples(samples, "score", 10)] == [2, 1, 4]
    assert report.worst_samples([sample(0, 1.0)], "score", 5) == []
    sts = [sample(0, ["3.0", "3.0"]), sample(1, ["x", "1.0"]), sample(2, ["2.5", "3.0"])]
    ranked = report.worst_samples(sts, "score", 5)
    assert [(s["doc_id"], shown) for s, _, shown in ranked] == [(1, "|parse_float(pred) - gold| = 3.00"),
                                                              (2, "|parse_float(pred) - gold| = 0.50")]
    raw_differs = {**sample(5, 0.0, "x"), "resps": [["x\n\nmore"]]}
    lenient = {**raw_differs, "filter": "lenient"}
    lines = report.format_example(raw_differs, lenient, "score 0")
    assert "- raw answer: `x↵↵more`" in lines and "- strict = lenient answer: `x`" in lines
