"""The lm-eval task class of every Jaster task: lm-eval's ConfigurableTask, plus

- the run's settings (:mod:`lm_eval_jaster.settings`) checked and recorded in the task metadata, and the optional
  metrics (COMET, BERTScore, pylint) and the code sandbox checked before any data is built or generated;
- prompts rendered with compiled templates (byte-identical to ConfigurableTask's, i.e. llm-jp-eval's);
- chat templates: ``jaster_chat_format`` chooses the message layout (docs/chat_templates.md); a system message that
  the model's template drops is moved into the first user message.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import logging
from typing import Any, Callable

from lm_eval import utils as lm_eval_utils
from lm_eval.api.task import ConfigurableTask

from lm_eval_jaster import __version__, scoring, settings
from lm_eval_jaster.data import DATA_FORMAT_VERSION
from lm_eval_jaster.metrics import neural
from lm_eval_jaster.registry import get_dataset

logger = logging.getLogger("lm_eval.jaster")

PROMPT_VERSION = 1  # llm-jp-eval v1.3's Alpaca prompt
METRICS_VERSION = 2  # 2: format_adherence = the strict answer is well-formed; lenient_recovered; kana view


def versions() -> dict[str, Any]:
    return {"lm_eval_jaster": __version__, "data_format": DATA_FORMAT_VERSION, "prompt": PROMPT_VERSION,
            "metrics": METRICS_VERSION}


def optional_metrics(info, resolved: settings.Settings) -> tuple[neural.NeuralOptions, list[str]]:
    """The model-based metric options in force for dataset ``info`` and notes on what cannot be computed.

    A metric that was asked for explicitly (``jaster_comet: true``) and cannot be computed is an error; otherwise a
    missing optional package is a note, never a crash."""
    options = neural.NeuralOptions.from_settings(resolved)
    notes = []
    if "comet_wmt22" in info.metrics:
        if options.comet is True:
            neural.require_comet(options)
        reason = neural.comet_unavailable_reason(options)
        options = dataclasses.replace(options, comet=reason is None)
        if reason:
            notes.append(f"comet_wmt22 not computed ({reason}): MT is left out of AVG. Install unbabel-comet, or "
                         f"set JASTER_COMET_PYTHON to the python of a venv that has it.")
    else:
        options = dataclasses.replace(options, comet=False)
    if options.bert_score and any(m.startswith("bert_score") for m in info.metrics):
        reason = neural.bert_score_unavailable_reason(options)
        if reason:
            notes.append(f"bert_score not computed: {reason}.")
    if "pylint_check" in info.metrics and importlib.util.find_spec("pylint") is None:
        notes.append("pylint_check not computed: pylint is not installed (pip install \"lm-eval-jaster[code]\").")
    return options, notes


def keep_system_text(chat_template: Callable[..., str], on_fold: Callable[[], None] | None = None) -> Callable[..., str]:
    """Wrap a chat-template renderer so that a system message the template drops is moved into the first user turn."""

    def render(messages: list[dict[str, Any]], **kwargs) -> str:
        rendered = chat_template(messages, **kwargs)
        if not isinstance(rendered, str):  # API chat models: the message list itself is sent, nothing is dropped
            return rendered
        system = [m for m in messages if m["role"] == "system"]
        if not system or all(m["content"] in rendered for m in system):
            return rendered
        if on_fold is not None:
            on_fold()
        system_text = "".join(m["content"] for m in system)
        rest = [dict(m) for m in messages if m["role"] != "system"]
        first_user = next(m for m in rest if m["role"] == "user")
        first_user["content"] = system_text + first_user["content"]
        return chat_template(rest, **kwargs)

    return render


@functools.lru_cache(maxsize=64)
def _compiled(template: str):
    """lm-eval's own Jinja environment, compiled once per template (lm-eval 0.4.13 recompiles on every render)."""
    return lm_eval_utils.env.from_string(template)


def render(template: str, doc: dict) -> str:
    """Same result as ``lm_eval.utils.apply_template(template, doc)``."""
    return _compiled(template).render(**doc)


class JasterTask(ConfigurableTask):
    def __init__(self, config: dict | None = None, **kwargs) -> None:
        config = {k: v for k, v in (config or {}).items() if k != "class"}
        self.info = get_dataset((config.get("dataset_kwargs") or {})["jaster_dataset"])
        metadata = dict(config.get("metadata") or {})
        self.settings = settings.resolve(metadata)
        self.metric_options, notes = optional_metrics(self.info, self.settings)
        if self.info.unsafe_code:
            from lm_eval_jaster import sandbox

            sandbox.configure(self.settings.sandbox)
            sandbox.require_available(self.settings.sandbox)
        metadata["jaster_settings"] = {
            "split": self.settings.split, "chat_format": self.settings.chat_format, "missing": self.settings.missing,
            "comet": self.metric_options.comet, "bert_score": self.metric_options.bert_score,
            **({"sandbox": self.settings.sandbox} if self.info.unsafe_code else {})}
        metadata["jaster_versions"] = versions()
        metadata["jaster_notes"] = notes
        for note in notes:
            logger.warning("%s: %s", self.info.task_name, note)
        config["metadata"] = metadata
        self._folded_system = False
        super().__init__(config=config, **kwargs)
        self.chat_format = self.settings.chat_format

    def download(self, dataset_kwargs: dict[str, Any] | None = None, **kwargs) -> None:
        """ConfigurableTask's custom_dataset path, without its "Custom kwargs can be passed" warning."""
        self.dataset = self.config.custom_dataset(**(self.config.metadata or {}), **(self.config.dataset_kwargs or {}))

    # Scoring: the dataset's metrics with this run's options (lm-eval calls these with docs and items only).
    def process_results(self, doc, results):
        return scoring.process_results(doc, results, self.metric_options)

    def aggregation(self):
        aggregations = dict(super().aggregation())
        for name, fn in list(aggregations.items()):
            if fn in (neural.comet_wmt22_aggregation, neural.bert_score_aggregation):
                aggregations[name] = functools.partial(fn, options=self.metric_options)
        return aggregations

    # Prompt rendering with compiled templates; otherwise exactly ConfigurableTask's (no prompt, no doc_to_choice).
    def doc_to_text(self, doc, doc_to_text=None):
        template = self.config.doc_to_text if doc_to_text is None else doc_to_text
        if self.prompt is None and isinstance(template, str) and template not in self.features:
            return render(template, doc)
        return super().doc_to_text(doc, doc_to_text)

    @staticmethod
    def resolve_field(doc: dict[str, Any], field: str | None = None):
        if field:
            return doc[field] if field in doc else render(field, doc)

    def _warn_folded_system(self) -> None:
        if not self._folded_system:
            self._folded_system = True
            logger.warning("%s: the chat template dropped the system message; its text is put at the start of the "
                           "first user message instead, so the instruction is kept (once per task).",
                           self.info.task_name)

    def fewshot_context(self, doc: dict, num_fewshot: int, system_instruction: str | None = None,
                        apply_chat_template: bool = False, fewshot_as_multiturn: bool = False,
                        chat_template: Callable[..., str] | None = None, gen_prefix: str | None = None):
        if not (apply_chat_template and chat_template):
            return super().fewshot_context(doc, num_fewshot, system_instruction=system_instruction,
                                           gen_prefix=gen_prefix)
        chat_template = keep_system_text(chat_template, self._warn_folded_system)
        if self.chat_format == "multiturn":
            return super().fewshot_context(doc, num_fewshot, system_instruction=system_instruction,
                                           apply_chat_template=True, fewshot_as_multiturn=fewshot_as_multiturn,
                                           chat_template=chat_template, gen_prefix=gen_prefix)
        prompt = super().fewshot_context(doc, num_fewshot, gen_prefix=gen_prefix)  # llm-jp-eval's plain prompt
        messages = ([{"role": "system", "content": system_instruction}] if system_instruction else [])
        messages.append({"role": "user", "content": prompt})
        return chat_template(messages, add_generation_prompt=not gen_prefix)
