"""lm-eval-jaster report: leaderboard, radar charts and worst examples from real lm-eval output of two models."""

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

from lm_eval_jaster import cli, report
from lm_eval_jaster.scores import compute_scores
from tiny_model import build_tiny_model

TASKS = "jaster_jamp,jaster_jemhopqa,jaster_jcommonsenseqa,jaster_mawps,jaster_jsts,jaster_wiki_reading"
DATASETS = ["jamp", "jemhopqa", "jcommonsenseqa", "wiki_reading", "mawps", "jsts"]  # registry order
CATEGORIES = ["NLI", "QA", "MC", "FA", "MR", "STS"]
META = ["model", "split", "limit", "n_shot", "missing_categories", "chat_template", "model_args", "results_file"]


# --- fixtures: two real runs and their report ----------------------------------------------------------------------

def _lm_eval(output_path: Path, model_args: list[str]) -> Path:
    cli.main([*model_args, "--tasks", TASKS, "--limit", "4", "--num_fewshot", "0", "--log_samples",
              "--output_path", str(output_path)])
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


def _load(results_file: Path) -> dict:
    return json.loads(results_file.read_text(encoding="utf-8"))


def _has_lenient(results_file: Path) -> bool:
    return any("score,lenient" in row for row in _load(results_file)["results"].values())


@pytest.fixture(scope="module")
def made(runs, tmp_path_factory) -> tuple[Path, str]:
    """The report of both runs (folders given, searched recursively) and what report.main printed."""
    out_dir = tmp_path_factory.mktemp("report")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert report.main([str(runs["dummy"].parents[1]), str(runs["hf"].parents[1]),
                            "--output-dir", str(out_dir)]) == 0
    return out_dir, printed.getvalue()


def _label(results_file: Path) -> str:
    return _load(results_file)["model_name"]


def _md_tables(markdown: str) -> dict[str, list[list[str]]]:
    """``## heading`` → rows (header first, rule dropped) of the table under it."""
    tables, heading = {}, None
    for line in markdown.splitlines():
        if line.startswith("## "):
            heading = line[3:]
        elif line.startswith("| ") and heading is not None and not line.startswith("| ---"):
            tables.setdefault(heading, []).append([c.strip() for c in line.strip("|").split(" | ")])
    return tables


def _read_csv(path: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames), {row["model"]: row for row in rows}


def _cell(value: str) -> float | None:
    return float(value) if value else None


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
    return struct.unpack(">II", data[16:24])


# --- end to end --------------------------------------------------------------------------------------------------

def test_files_written_and_printed(runs, made):
    out_dir, printed = made
    labels = [_label(runs["dummy"]), _label(runs["hf"])]
    assert labels[0] == "dummy" and Path(labels[1]).name == "tiny-llama-ja"
    names = {p.name for p in out_dir.iterdir()}
    radars = {n for n in names if n.startswith("radar_")}
    assert {"leaderboard.md", "leaderboard.csv", "worst_examples.md", "radar_all.png", "radar_dummy.png"} <= names
    assert len(radars) == 3 and any(n.endswith("tiny-llama-ja.png") for n in radars)
    for name in [*radars, "leaderboard.md", "leaderboard.csv", "worst_examples.md"]:
        assert f"wrote {out_dir / name}" in printed
    assert (out_dir / "leaderboard.md").read_text(encoding="utf-8") in printed


def test_csv_numbers_are_compute_scores(runs, made):
    out_dir, _ = made
    header, rows = _read_csv(out_dir / "leaderboard.csv")
    lenient = _has_lenient(runs["dummy"])
    expected = META + ["AVG", *CATEGORIES, *DATASETS]
    if lenient:
        expected += [f"{c}:lenient" for c in ["AVG", *CATEGORIES, *DATASETS]]
        expected += [f"{d}:format_adherence" for d in DATASETS]
    assert header == expected
    assert len(rows) == 2
    for results_file in runs.values():
        scores = compute_scores(_load(results_file))
        row = rows[_label(results_file)]
        assert (row["split"], row["limit"], row["n_shot"]) == ("dev", "4", "0")
        assert row["missing_categories"] == " ".join(scores["missing_categories"])
        assert {"RC", "EL"} <= set(row["missing_categories"].split()) and row["results_file"] == str(results_file)
        assert _cell(row["AVG"]) == scores["AVG"]
        assert _cell(row["QA"]) == scores["categories"]["QA"]
        assert _cell(row["STS"]) == scores["categories"]["STS"]
        for name in DATASETS:
            assert _cell(row[name]) == scores["datasets"][name]["score"]
        if lenient:
            assert _cell(row["AVG:lenient"]) == scores["lenient_AVG"]
            assert _cell(row["NLI:lenient"]) == scores["lenient_categories"].get("NLI")
            for name in DATASETS:
                assert _cell(row[f"{name}:lenient"]) == scores["datasets"][name]["lenient_score"]
                assert _cell(row[f"{name}:format_adherence"]) == scores["datasets"][name]["format_adherence"]


def test_markdown_leaderboard(runs, made):
    out_dir, _ = made
    markdown = (out_dir / "leaderboard.md").read_text(encoding="utf-8")
    assert "llm-jp-eval v1.4.1 data, v1.3.0 prompt and metrics" in markdown  # scores["reference"]
    tables = _md_tables(markdown)
    strict = tables['Strict (filter "llm-jp-eval", llm-jp-eval\'s scoring)']
    assert strict[0][:6] == ["model", "split", "limit", "n-shot", "missing", "AVG"]
    assert "jamp (exact\\_match)" not in strict[0] and "jamp (exact_match)" in strict[0]
    assert "STS (not in AVG)" in strict[0] and "jsts (pearson)" in strict[0]
    assert len(strict) == 3  # header + one row per model
    by_model = {row[0]: dict(zip(strict[0], row)) for row in strict[1:]}
    for results_file in runs.values():
        scores = compute_scores(_load(results_file))
        row = by_model[report.md_text(_label(results_file))]
        assert (row["split"], row["limit"], row["n-shot"]) == ("dev", "4", "0")
        assert {"RC", "EL"} <= set(row["missing"].split(", "))
        assert row["AVG"] == f"{scores['AVG']:.4f}"
        assert row["MC"] == f"{scores['categories']['MC']:.4f}"
        assert row["jemhopqa (char_f1)"] == f"{scores['datasets']['jemhopqa']['score']:.4f}"
    assert len(tables["Runs"]) == 3
    lenient_tables = [t for t in tables if t.startswith("Lenient")]
    if _has_lenient(runs["dummy"]):
        [name] = lenient_tables
        assert len(tables[name]) == 3 and tables[name][0] == strict[0]
        assert len(tables["Format adherence (fraction of answers whose strict and lenient readings agree)"]) == 3
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
    assert jamp.count("#### doc ") == len(strict) == 4  # --limit 4 < N = 5
    assert "- raw answer: `lol`" in jamp
    for sample in strict:  # all score 0: ties in doc_id order, each with its gold
        assert f"#### doc {sample['doc_id']}: exact\\_match 0.0000" in jamp
        assert f"- gold: `{sample['target']}`" in jamp
    assert "```text\n…" in jamp and "### 応答:\n```" in jamp  # prompt tail, fenced
    assert ("- lenient answer:" in jamp) == _has_lenient(runs["dummy"])
    jsts = _section(dummy, "\n### jaster\\_jsts (pearson)\n", "###")
    assert "|parse\\_float(pred) - gold| = 7.00" in jsts.replace("\\|", "|")  # "lol" → -2.0 vs gold 5.0 first
    hf = _section(markdown, f"\n## {report.md_text(_label(runs['hf']))}\n", "##")
    assert all(f"### jaster\\_{d.replace('_', chr(92) + '_')} (" in hf for d in DATASETS)


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
    assert "No samples files" in no_samples and "#### doc" not in no_samples
    assert "jaster\\_jamp" in _section(worst, f"\n## dummy @ {report.run_date(runs['dummy'])}\n", "##")
    alone = report.write_report(report.collect_runs([bare]), tmp_path / "alone")
    assert "worst_examples.md" not in alone and alone["leaderboard.md"].is_file()
    assert len(_read_csv(alone["leaderboard.csv"])[1]) == 1


# --- errors and unit tests (no lm-eval run) -----------------------------------------------------------------------

def test_paths_without_results_exit_clearly(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SystemExit, match=re.escape(f"{empty}: no lm-eval results file")):
        report.main([str(empty)])
    with pytest.raises(SystemExit, match="no such file or folder"):
        report.collect_runs([tmp_path / "missing"])
    other = tmp_path / "other" / "model"
    other.mkdir(parents=True)
    (other / "results_2025-01-01T00-00-00.json").write_text(
        json.dumps({"results": {"arc_easy": {"acc,none": 0.5}}}), encoding="utf-8")
    with pytest.raises(SystemExit, match="no lm-eval results with Jaster tasks .*no Jaster task scored"):
        report.collect_runs([tmp_path / "other"])
    (other / "results_2025-01-01T00-00-00.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SystemExit, match="not readable as JSON"):
        report.collect_runs([other / "results_2025-01-01T00-00-00.json"])


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
    assert rows[0]["NLI:lenient"] == 0.75 and rows[0]["AVG:lenient"] == pytest.approx((0.75 + 0.4 + 0.6) / 3)
    assert rows[1]["AVG:lenient"] is None and rows[0]["n_shot"] == "jamp=4 jemhopqa=4 mawps=4 jsts=0"
    tables = _md_tables(report.leaderboard_markdown(runs))
    lenient = next(v for k, v in tables.items() if k.startswith("Lenient"))
    assert [len(r) for r in lenient] == [len(lenient[0])] * 3  # the "|" in a label does not add a column
    assert lenient[1][0] == "with\\|pipe" and lenient[2][lenient[0].index("AVG")] == "–"
    written = report.write_report(runs, tmp_path)
    _png_size(written["radar_all.png"])
    assert {"radar_with_pipe.png", "radar_strict-only.png"} <= set(written)


def test_missing_matplotlib_message(tmp_path, monkeypatch):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(SystemExit, match=r"pip install 'lm-eval-jaster\[report\]'"):
        report.write_report([_hand_run("m")], tmp_path)
    assert (tmp_path / "leaderboard.md").is_file()  # the text files are written first


def test_markdown_escaping_of_answers():
    markdown_it = pytest.importorskip("markdown_it")
    nasty = "a | b ```x``` c\nsecond line"
    strict = {"doc_id": 7, "filter": "llm-jp-eval", "target": "gold|```\n",
              "arguments": {"gen_args_0": {"arg_0": "P" * 300 + "\n```\n| x |\n### 応答:\n", "arg_1": {}}},
              "resps": [[nasty]], "filtered_resps": [nasty.split("\n")[0]], "exact_match": 0.0}
    lenient = {**strict, "filter": "lenient", "filtered_resps": ["`b`"], "format_adherence": 0.0}
    [(s, l, shown)] = report.worst_samples([strict, lenient], "exact_match", 5)
    text = "\n".join(["# t", "", *report.format_example(s, l, shown), "after"])
    tokens = markdown_it.MarkdownIt("commonmark").enable("table").parse(text)
    [fence] = [t for t in tokens if t.type == "fence"]
    assert fence.content == "…" + strict["arguments"]["gen_args_0"]["arg_0"][-200:]
    inline = [c.content for t in tokens if t.type == "inline" for c in t.children if c.type == "code_inline"]
    assert inline == ["a | b ```x``` c↵second line", "a | b ```x``` c", "`b`", "gold|```↵"]
    assert [t.type for t in tokens].count("list_item_open") == 4
    assert tokens[-2].content == "after"  # nothing leaked past the example
    assert report.md_code("") == "*(empty)*" and report.md_code(" x ") == "`  x  `"
