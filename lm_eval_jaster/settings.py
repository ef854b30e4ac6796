"""Every user setting of lm-eval-jaster in one table: its ``--metadata`` key, its ``JASTER_*`` variable, type,
default and meaning. Settings are read here and nowhere else; unknown keys and bad values are errors.

A ``--metadata`` key wins over its environment variable, which wins over the default. lm-eval merges
``--model_args`` into the metadata, so only keys starting with ``jaster_`` are checked here.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from lm_eval_jaster.errors import SettingsError

PREFIX = "jaster_"
ENV_PREFIX = "JASTER_"


@dataclass(frozen=True)
class Setting:
    name: str  # attribute of Settings, e.g. "split"
    kind: str  # "choice", "bool", "int", "float", "path", "text", "auto_bool"
    default: Any
    meaning: str
    choices: tuple[str, ...] = ()
    metadata: bool = True  # settable with --metadata (as jaster_<name>)
    env: bool = True  # settable with JASTER_<NAME>

    @property
    def key(self) -> str | None:
        return f"{PREFIX}{self.name}" if self.metadata else None

    @property
    def env_name(self) -> str | None:
        return f"{ENV_PREFIX}{self.name.upper()}" if self.env else None

    @property
    def type_text(self) -> str:
        if self.choices:
            return " \\| ".join(f"`{c}`" for c in self.choices)
        return {"bool": "true/false", "auto_bool": "auto/true/false", "int": "integer", "float": "number",
                "path": "path", "text": "text"}[self.kind]


SETTINGS: dict[str, Setting] = {s.name: s for s in [
    # data
    Setting("split", "choice", "dev", "split scored: llm-jp-eval's `data_type` (its default is dev; the Swallow "
            "leaderboard used test)", choices=("dev", "test")),
    Setting("data_dir", "path", None, "local mirror of the raw upstream files (`<dir>/<source>/<upstream path>`): "
            "nothing is downloaded"),
    Setting("cache_dir", "path", None, "where downloads and built splits are cached (default "
            "`$XDG_CACHE_HOME/lm_eval_jaster`, i.e. `~/.cache/lm_eval_jaster`)", metadata=False),
    Setting("missing", "choice", "error", "what a run does when raw files are missing: `error` lists them all "
            "before the model is loaded; `skip` runs the datasets that are there and marks AVG partial",
            choices=("error", "skip")),
    # prompts
    Setting("chat_format", "choice", "single_turn", "message layout with `--apply_chat_template`: the whole "
            "llm-jp-eval prompt as one user message (llm-jp-eval v2), or lm-eval's multi-turn few-shots",
            choices=("single_turn", "multiturn")),
    # optional metrics
    Setting("comet", "auto_bool", "auto", "comet_wmt22 (MT key metric): `auto` computes it when unbabel-comet "
            "(or `comet_python`) is available and otherwise reports it missing with the reason; `true` requires "
            "it; `false` switches it off"),
    Setting("comet_python", "path", None, "a Python interpreter (e.g. another venv's `bin/python`) that has "
            "unbabel-comet: COMET runs there, fed the MT outputs"),
    Setting("comet_model", "text", "Unbabel/wmt22-comet-da", "COMET model id, or a local `.ckpt` file"),
    Setting("comet_batch_size", "int", 8, "COMET batch size (llm-jp-eval's: 8)"),
    Setting("comet_gpus", "int", None, "GPUs for COMET (default: 1 if CUDA is available, else 0)"),
    Setting("bert_score", "bool", False, "also report bert_score_*_f1 (needs the package bert-score; not in any "
            "average)"),
    # code execution
    Setting("sandbox", "choice", "bwrap", "how model-written code runs: a bubblewrap sandbox per sample, or "
            "`process` (a contained child process only: weaker, explicit opt-in)", choices=("bwrap", "process")),
    Setting("allow_code_exec", "bool", False, "allow running model-written code outside lm-eval's "
            "`--confirm_run_unsafe_code` (e.g. calling the scorer from Python)", metadata=False),
    Setting("code_exec_timeout", "float", 10.0, "wall-clock seconds per code sample", metadata=False),
    Setting("code_exec_memory_mb", "float", 2048.0, "address-space limit per code sample, MiB", metadata=False),
]}

# Set by lm-eval-jaster itself (task YAMLs and task metadata), not by users.
INTERNAL_KEYS = frozenset({"jaster_dataset", "jaster_settings", "jaster_versions", "jaster_notes"})
# Read by the benchmark suite only.
INTERNAL_ENV = frozenset({"JASTER_BENCH_PINS"})

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _closest(word: str, candidates: list[str]) -> str:
    match = difflib.get_close_matches(word, candidates, n=1, cutoff=0.5)
    return f" Did you mean {match[0]!r}?" if match else ""


def _convert(setting: Setting, value: Any, where: str) -> Any:
    def bad(expected: str) -> SettingsError:
        return SettingsError(f"{where} = {value!r} is not {expected}.",
                             f"Valid: {setting.type_text}." + (_closest(str(value), list(setting.choices))
                                                               if setting.choices else ""))

    if value is None:
        return None
    kind = setting.kind
    if kind == "choice":
        text = str(value).strip()
        if text not in setting.choices:
            raise bad("one of " + ", ".join(setting.choices))
        return text
    if kind in ("bool", "auto_bool"):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if kind == "auto_bool" and text == "auto":
            return "auto"
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise bad("true or false" + (" or auto" if kind == "auto_bool" else ""))
    if kind == "int":
        if isinstance(value, bool):
            raise bad("an integer")
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad("an integer") from None
    if kind == "float":
        try:
            number = float(str(value).strip())
        except ValueError:
            raise bad("a number") from None
        if not number > 0 or number == float("inf"):
            raise bad("a positive number")
        return number
    if kind == "path":
        text = str(value).strip()
        return str(Path(text).expanduser()) if text else None
    return str(value)


class Settings:
    """Resolved settings of a run: ``settings.split``, ``settings.comet``, … (see :data:`SETTINGS`)."""

    def __init__(self, values: dict[str, Any], sources: dict[str, str]) -> None:
        self._values = values
        self._sources = sources  # name → "default", "JASTER_X" or "jaster_x"

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(f"no setting {name!r}; known: {', '.join(SETTINGS)}") from None

    def source(self, name: str) -> str:
        return self._sources[name]

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def __repr__(self) -> str:
        return f"Settings({self._values!r})"


def check_keys(metadata: Mapping[str, Any] | None) -> None:
    """Raise SettingsError for a ``jaster_*`` key that is not a setting (naming the closest one)."""
    known = [s.key for s in SETTINGS.values() if s.key]
    for key in (metadata or {}):
        if isinstance(key, str) and key.startswith(PREFIX) and key not in known and key not in INTERNAL_KEYS:
            raise SettingsError(f"unknown --metadata key {key!r}.{_closest(key, known)}",
                                f"Jaster keys: {', '.join(known)}.")


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """Raise SettingsError for a ``JASTER_*`` variable that is not a setting."""
    environ = os.environ if environ is None else environ
    known = [s.env_name for s in SETTINGS.values() if s.env_name]
    for name in environ:
        if name.startswith(ENV_PREFIX) and name not in known and name not in INTERNAL_ENV:
            raise SettingsError(f"unknown environment variable {name}.{_closest(name, known)}",
                                f"Jaster variables: {', '.join(known)}.")


def resolve(metadata: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None,
            strict: bool = True) -> Settings:
    """The settings in force for ``metadata`` (``--metadata`` merged with ``--model_args``, as lm-eval passes it)
    and the environment. ``strict``: unknown ``jaster_*`` keys and ``JASTER_*`` variables are errors too."""
    environ = os.environ if environ is None else environ
    metadata = metadata or {}
    if strict:
        check_keys(metadata)
        check_environment(environ)
    values, sources = {}, {}
    for setting in SETTINGS.values():
        if setting.key and metadata.get(setting.key) is not None and metadata.get(setting.key) != "":
            raw, where = metadata[setting.key], setting.key
        elif setting.env_name and environ.get(setting.env_name, "") != "":
            raw, where = environ[setting.env_name], setting.env_name
        else:
            values[setting.name], sources[setting.name] = setting.default, "default"
            continue
        values[setting.name], sources[setting.name] = _convert(setting, raw, where), where
    return Settings(values, sources)


def get(name: str, metadata: Mapping[str, Any] | None = None) -> Any:
    """One setting, without the unknown-key checks (for library code that is handed partial metadata)."""
    return getattr(resolve(metadata, strict=False), name)


def markdown_table() -> str:
    """The table of settings, for the README (generated by utils/generate_tasks.py)."""
    rows = ["| `--metadata` key | environment variable | values | default | meaning |", "|---|---|---|---|---|"]
    for s in SETTINGS.values():
        default = "–" if s.default is None else f"`{str(s.default).lower() if isinstance(s.default, bool) else s.default}`"
        rows.append(f"| {f'`{s.key}`' if s.key else '–'} | {f'`{s.env_name}`' if s.env_name else '–'} | "
                    f"{s.type_text} | {default} | {s.meaning} |")
    return "\n".join(rows)
