"""lm-eval-jaster's own commands: ``data``, ``tasks``, ``export``, ``scores``, ``tasks-dir`` (``report`` is its own
package). Each returns an exit status; errors are JasterErrors, printed by the CLI as one line and a hint."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Callable

from lm_eval_jaster import TASKS_DIR, groups, settings
from lm_eval_jaster.datasets.base import DatasetInfo
from lm_eval_jaster.errors import JasterError
from lm_eval_jaster.registry import CATEGORIES, all_datasets, dataset_for_task

COMMANDS = {
    "data": "data status (where every raw file is, verified or missing) and data download (into the cache or a "
            "mirror folder for offline machines)",
    "tasks": "the Jaster tasks and groups: category, key metric, split sizes, licence, data here or not",
    "export": "write llm-jp-eval's evaluation files (<dir>/<split>/<dataset>.json) and check published hashes",
    "scores": "print (and save) the llm-jp-eval table of an lm-eval results file",
    "report": "leaderboards, intervals, paired comparisons, charts and an HTML sample browser of one or more runs",
    "tasks-dir": "print the task folder, for `lm_eval --include_path`",
}


def select_datasets(names: str | None) -> list[DatasetInfo]:
    """Datasets named by dataset (jnli), task (jaster_jnli) or group (jaster_all) names; all when None."""
    if not names:
        return list(all_datasets().values())
    chosen: dict[str, DatasetInfo] = {}
    for name in (n.strip() for n in names.split(",") if n.strip()):
        tasks = groups.leaf_tasks(name) or groups.leaf_tasks(f"jaster_{name.replace('-', '_')}")
        if not tasks:
            import difflib

            known = [*all_datasets(), *groups.group_members()]
            match = difflib.get_close_matches(name, known, n=1)
            raise JasterError(f"unknown dataset, task or group {name!r}." + (f" Did you mean {match[0]!r}?" if match
                                                                              else ""),
                              "`lm-eval-jaster tasks` lists them.")
        for task in tasks:
            info = dataset_for_task(task)
            chosen[info.name] = info
    return [i for n, i in all_datasets().items() if n in chosen]


def _table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(head, *rows)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


# --- data ----------------------------------------------------------------------------------------------------------

def data_status(args: argparse.Namespace) -> int:
    from lm_eval_jaster.sources import file_status, local_root, resolve_data_dir, source_entries

    mirror = resolve_data_dir(args.data_dir)
    chosen = select_datasets(args.datasets)
    rows, problems = [], 0
    for source in dict.fromkeys(i.source for i in chosen):
        infos = [i for i in all_datasets().values() if i.source == source]
        statuses = [file_status(e, mirror) for e in source_entries(source)]
        bad = [s for s in statuses if not s.ok]
        pinned = all(s.entry.pinned for s in statuses)
        if not bad:
            state = "verified" if pinned else "present (no pinned checksum)"
        else:
            problems += 1
            kinds = sorted({s.state for s in bad})
            state = f"{'/'.join(kinds)}: {len(bad)} of {len(statuses)} files"
        where = str(local_root(mirror) / source)
        rows.append([source, ", ".join(i.name for i in infos), infos[0].license, state, where])
        if args.verbose:
            for s in bad:
                rows.append(["", f"  {s.entry.upstream_path}", "", s.state, s.entry.url])
    print(_table(["source", "datasets", "licence", "state", "where"], rows))
    print()
    origin = f"mirror {mirror} ({settings.SETTINGS['data_dir'].env_name})" if mirror else \
        f"cache {local_root(None)} (downloads on first use)"
    print(f"Raw files from the {origin}. {problems} source(s) incomplete."
          + (" `lm-eval-jaster data status -v` lists the files; `lm-eval-jaster data download` fetches them."
             if problems else ""))
    return 0


def _progress_printer(label: str) -> Callable[[int, int | None], None]:
    interactive = sys.stderr.isatty()
    state = {"last": -1}

    def show(done: int, total: int | None) -> None:
        step = done // (1 << 22)  # a line every 4 MiB when not on a terminal
        if not interactive and step == state["last"]:
            return
        state["last"] = step
        text = f"{done / 1e6:.1f}" + (f" of {total / 1e6:.1f}" if total else "") + " MB"
        print(f"\r  {label}: {text}" if interactive else f"  {label}: {text}", end="" if interactive else "\n",
              file=sys.stderr, flush=True)

    return show


def data_download(args: argparse.Namespace) -> int:
    from lm_eval_jaster.sources import JasterDataError, cache_lock, download, file_status, local_path, source_entries

    target = Path(args.to).expanduser() if args.to else None
    chosen = select_datasets(args.datasets)
    entries = [e for source in dict.fromkeys(i.source for i in chosen) for e in source_entries(source)]
    failed, fetched, present = [], 0, 0
    for n, entry in enumerate(entries, start=1):
        status = file_status(entry, target)
        dest = local_path(entry, target)
        if status.ok:
            present += 1
            continue
        label = f"[{n}/{len(entries)}] {entry.source}/{entry.upstream_path}"
        print(f"{label} ← {entry.url}", file=sys.stderr)
        try:
            with cache_lock(f"raw/{entry.source}/{entry.upstream_path}"):
                download(entry, dest, progress=_progress_printer(label))
            if sys.stderr.isatty():
                print(file=sys.stderr)
            fetched += 1
        except JasterDataError as e:
            failed.append((entry, e))
            print(f"  FAILED: {e.message}", file=sys.stderr)
    where = f"{target} (use it as JASTER_DATA_DIR)" if target else "the cache"
    print(f"{fetched} downloaded, {present} already there, {len(failed)} failed, into {where}.")
    if failed:
        raise JasterError(f"{len(failed)} file(s) could not be downloaded: "
                          + "; ".join(f"{e.source}/{e.upstream_path}" for e, _ in failed),
                          "Check the network (the URLs are llm-jp-eval's upstream ones), then run the command again: "
                          "files already downloaded are kept.")
    return 0


# --- tasks ---------------------------------------------------------------------------------------------------------

def _data_here(info: DatasetInfo, mirror: Path | None, built: bool) -> str:
    from lm_eval_jaster.sources import local_path, source_entries

    if built:
        return "built"
    entries = source_entries(info.source)
    absent = [e for e in entries if not local_path(e, mirror).is_file()]
    if not absent:
        return "here"
    if mirror is None:
        return "to download" if len(absent) == len(entries) else f"{len(absent)} file(s) to download"
    return f"missing ({len(absent)} of {len(entries)} files)"


def tasks(args: argparse.Namespace) -> int:
    from lm_eval_jaster.data import cached_splits
    from lm_eval_jaster.sources import resolve_data_dir

    mirror = resolve_data_dir(args.data_dir)
    rows = []
    for info in all_datasets().values():
        built = cached_splits(info, mirror)
        avg = "" if info.in_avg and CATEGORIES[info.category].in_avg else " (not in AVG)"
        rows.append([info.task_name, info.category + avg, info.key_metric,
                     str(len(built["dev"])) if built else "–", str(len(built["test"])) if built else "–",
                     info.license + (" (NC)" if info.non_commercial else ""), _data_here(info, mirror, built is not None)])
    print(_table(["task", "category", "key metric", "dev", "test", "licence", "data"], rows))
    print()
    group_rows = [[name, ", ".join(members)] for name, members in groups.group_members().items()]
    print(_table(["group", "members"], group_rows))
    print()
    print("Sizes are shown once a dataset is built (after its first run). llm-jp-eval's v1.4.1 full run is "
          "`--tasks jaster_all_with_nc,jaster_cg --confirm_run_unsafe_code`.")
    return 0


# --- export, scores, tasks-dir -------------------------------------------------------------------------------------

def export(args: argparse.Namespace) -> int:
    from lm_eval_jaster.data import build_splits
    from lm_eval_jaster.export import write_llm_jp_eval_json
    from lm_eval_jaster.sources import JasterDataError

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    failures = 0
    for info in select_datasets(args.datasets):
        try:
            splits = build_splits(info, args.data_dir)
        except JasterDataError as e:
            print(f"{info.name}: FAILED: {e}", file=sys.stderr)
            failures += 1
            continue
        path = args.output_dir / args.split / f"{info.name}.json"
        digest = write_llm_jp_eval_json(info, splits[args.split], path)
        status = ""
        if args.split == "dev" and info.published_dev_sha256:
            if digest == info.published_dev_sha256:
                status = f"  matches llm-jp-eval {info.published_dev_sha256_version}'s published sha256"
            else:
                status = (f"  DIFFERS from llm-jp-eval {info.published_dev_sha256_version}'s published sha256 "
                          f"{info.published_dev_sha256}")
                failures += 1
        print(f"{path}  {len(splits[args.split])} samples  sha256 {digest}{status}")
    return 1 if failures else 0


def scores(args: argparse.Namespace) -> int:
    from lm_eval_jaster.scores import format_table, scores_from_file, write_scores

    computed = scores_from_file(args.results)
    print(format_table(computed))
    if args.output:
        write_scores(computed, args.output)
    return 0


def tasks_dir(args: argparse.Namespace) -> int:
    print(TASKS_DIR)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lm-eval-jaster", description="Jaster commands of lm-eval-jaster.")
    sub = p.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help=COMMANDS["data"])
    data_sub = data.add_subparsers(dest="data_command", required=True)
    status = data_sub.add_parser("status", help="a table of raw-data sources: datasets, licence, verified/missing, "
                                                "where found")
    status.add_argument("--datasets", help="datasets, tasks or groups, comma-separated (default: all)")
    status.add_argument("--data-dir", help="raw-data mirror (default: $JASTER_DATA_DIR, else the cache)")
    status.add_argument("-v", "--verbose", action="store_true", help="list each missing file")
    status.set_defaults(func=data_status)
    fetch = data_sub.add_parser("download", help="download and verify raw files into the cache, or into a folder "
                                                 "laid out as JASTER_DATA_DIR expects (--to)")
    fetch.add_argument("--datasets", help="datasets, tasks or groups, comma-separated (default: all)")
    fetch.add_argument("--to", help="a folder to use as JASTER_DATA_DIR elsewhere (default: the cache)")
    fetch.set_defaults(func=data_download)

    listing = sub.add_parser("tasks", help=COMMANDS["tasks"])
    listing.add_argument("--data-dir", help="raw-data mirror (default: $JASTER_DATA_DIR, else the cache)")
    listing.set_defaults(func=tasks)

    exp = sub.add_parser("export", help=COMMANDS["export"])
    exp.add_argument("--split", choices=("train", "dev", "test"), required=True)
    exp.add_argument("--output-dir", required=True, type=Path)
    exp.add_argument("--datasets", help="datasets, tasks or groups, comma-separated (default: all)")
    exp.add_argument("--data-dir", help="local raw-data mirror (default: $JASTER_DATA_DIR, else download)")
    exp.set_defaults(func=export)

    sc = sub.add_parser("scores", help=COMMANDS["scores"])
    sc.add_argument("results", type=Path, help="lm-eval results_<date>.json (from lm_eval or lm-eval-jaster)")
    sc.add_argument("--output", type=Path, help="also write the table as JSON here")
    sc.set_defaults(func=scores)

    sub.add_parser("tasks-dir", help=COMMANDS["tasks-dir"]).set_defaults(func=tasks_dir)
    return p


def run(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    settings.check_environment()
    return args.func(args)
