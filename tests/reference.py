"""Independent re-statements of llm-jp-eval behaviour that tests compare the package against."""

from __future__ import annotations

HEADER = "以下は、タスクを説明する指示と、文脈のある入力の組み合わせです。要求を適切に満たす応答を書きなさい。"


def llm_jp_eval_prompt(instruction: str, shots: list[tuple[str, str]], query: str) -> str:
    """llm-jp-eval v1.3.0 ``get_evaluation_prompt`` + langchain ``PromptTemplate(...).format(input=query)``.

    The template (instruction and few-shots included) goes through ``str.format``; only the query is a value.
    """
    template = f"{HEADER}\n\n### 指示:\n{instruction}"
    for shot_input, shot_output in shots:
        template += f"\n\n### 入力:\n{shot_input}\n\n### 応答:\n{shot_output}"
    template += "\n\n### 入力:\n{input}\n\n### 応答:\n"
    return template.format(input=query)
