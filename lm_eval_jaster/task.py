"""The lm-eval task class of every Jaster task: lm-eval's ConfigurableTask plus chat-template handling.

Plain-text prompts (no ``--apply_chat_template``) are exactly ConfigurableTask's, i.e. llm-jp-eval's. With a chat
template, ``jaster_chat_format`` (``--metadata`` key, or env ``JASTER_CHAT_FORMAT``) chooses the message layout:

- ``single_turn`` (default): the whole llm-jp-eval prompt (header, instruction, few-shots, query) is ONE user
  message, preceded by a system message only when ``--system_instruction`` is given. This is how llm-jp-eval v2
  (llm-jp-eval-inference, ``apply_chat_template: true``) sends prompts. ``--fewshot_as_multiturn`` is ignored.
- ``multiturn``: lm-eval's own layout — header and instruction as the system message, each few-shot as a
  user/assistant pair (``--fewshot_as_multiturn false`` collapses them into one user message).

In both, a chat template that rejects the system role must not lose text: lm-eval's HF and vLLM wrappers silently
drop system messages in that case, so a dropped system message is detected and folded into the first user message.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Any, Callable

from lm_eval import utils as lm_eval_utils
from lm_eval.api.task import ConfigurableTask

logger = logging.getLogger("lm_eval.jaster")

CHAT_FORMAT_ENV = "JASTER_CHAT_FORMAT"
CHAT_FORMATS = ("single_turn", "multiturn")


def resolve_chat_format(value: str | None) -> str:
    chosen = value or os.environ.get(CHAT_FORMAT_ENV) or "single_turn"
    if chosen not in CHAT_FORMATS:
        raise ValueError(f"jaster_chat_format must be one of {CHAT_FORMATS}, got {chosen!r}")
    return chosen


def keep_system_text(chat_template: Callable[..., str]) -> Callable[..., str]:
    """Wrap a chat-template renderer so that a system message the template drops is moved into the first user turn."""

    def render(messages: list[dict[str, Any]], **kwargs) -> str:
        rendered = chat_template(messages, **kwargs)
        system = [m for m in messages if m["role"] == "system"]
        if not system or all(m["content"] in rendered for m in system):
            return rendered
        logger.warning("The chat template dropped the system message; putting its text at the start of the first "
                       "user message instead, so the instruction is kept.")
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
        super().__init__(config=config, **kwargs)
        self.chat_format = resolve_chat_format((self.config.metadata or {}).get("jaster_chat_format"))

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

    def fewshot_context(self, doc: dict, num_fewshot: int, system_instruction: str | None = None,
                        apply_chat_template: bool = False, fewshot_as_multiturn: bool = False,
                        chat_template: Callable[..., str] | None = None, gen_prefix: str | None = None):
        if not (apply_chat_template and chat_template):
            return super().fewshot_context(doc, num_fewshot, system_instruction=system_instruction,
                                           gen_prefix=gen_prefix)
        chat_template = keep_system_text(chat_template)
        if self.chat_format == "multiturn":
            return super().fewshot_context(doc, num_fewshot, system_instruction=system_instruction,
                                           apply_chat_template=True, fewshot_as_multiturn=fewshot_as_multiturn,
                                           chat_template=chat_template, gen_prefix=gen_prefix)
        prompt = super().fewshot_context(doc, num_fewshot, gen_prefix=gen_prefix)  # llm-jp-eval's plain prompt
        messages = ([{"role": "system", "content": system_instruction}] if system_instruction else [])
        messages.append({"role": "user", "content": prompt})
        return chat_template(messages, add_generation_prompt=not gen_prefix)
