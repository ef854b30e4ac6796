"""lm_eval_jaster.fingerprint: the settings of a run and the differences between two, in words."""

from __future__ import annotations

import copy

from lm_eval_jaster.fingerprint import comparable, describe, differences, run_settings


def _results(tasks=("jamp", "janli", "jnli", "jemhopqa"), limit=10.0, shots=4, **top) -> dict:
    """An lm-eval results dict of the shape lm-eval 0.4.13 writes (only the keys the fingerprint reads)."""
    names = [f"jaster_{t}" for t in tasks]
    return {
        "results": {n: {"exact_match,llm-jp-eval": 0.5} for n in names},
        "configs": {n: {"task": n, "metadata": {"version": 1.0, "pretrained": "x"}} for n in names},
        "versions": {n: 1.0 for n in names},
        "n-shot": {n: shots for n in names},
        "config": {"model": "hf", "model_args": "pretrained=x", "limit": limit, "gen_kwargs": {}},
        "lm_eval_version": "0.4.13",
        "chat_template": None, "chat_template_sha": None, "system_instruction_sha": None,
        "fewshot_as_multiturn": False,
        **top,
    }


def _with_metadata(results: dict, **metadata) -> dict:
    results = copy.deepcopy(results)
    for config in results["configs"].values():
        config["metadata"].update(copy.deepcopy(metadata))
    return results


def test_settings_of_an_older_results_file_use_the_defaults():
    settings = run_settings(_results())
    assert settings == {
        "datasets": ["jamp", "janli", "jnli", "jemhopqa"], "split": "dev", "limit": 10,
        "n_shot": {"jamp": 4, "janli": 4, "jnli": 4, "jemhopqa": 4}, "chat_template": False,
        "chat_template_sha": None, "chat_format": "single_turn", "system_instruction_sha": None,
        "fewshot_as_multiturn": False, "gen_kwargs": None, "lm_eval_version": "0.4.13",
        "task_versions": {"jamp": 1.0, "janli": 1.0, "jnli": 1.0, "jemhopqa": 1.0},
        "jaster_versions": {}, "jaster_settings": {}}
    assert isinstance(settings["limit"], int)  # lm-eval writes 10.0
    assert run_settings(_results(limit=None))["limit"] is None
    assert run_settings(_results(limit=0.5))["limit"] == 0.5
    assert run_settings(_with_metadata(_results(), jaster_split="test"))["split"] == "test"
    assert comparable(run_settings(_results()), run_settings(_results(model_name="other")))


def test_settings_and_versions_from_task_metadata():
    results = _with_metadata(
        _results(chat_template="{{ messages }}", chat_template_sha="abc123"),
        jaster_settings={"split": "test", "chat_format": "multiturn", "missing": "error", "comet": "auto",
                         "data_dir": "/mirror"},
        jaster_versions={"lm_eval_jaster": "0.2.0", "data_format": 1, "prompt": 2, "metrics": 3})
    results["configs"]["jaster_jnli"]["metadata"]["jaster_versions"]["prompt"] = 3  # one task differs
    settings = run_settings(results)
    assert settings["split"] == "test" and settings["chat_format"] == "multiturn"
    assert settings["chat_template"] is True and settings["chat_template_sha"] == "abc123"
    assert settings["jaster_versions"] == {"data_format": 1, "lm_eval_jaster": "0.2.0", "metrics": 3,
                                           "prompt": {"jamp": 2, "janli": 2, "jnli": 3, "jemhopqa": 2}}
    assert settings["jaster_settings"] == {"comet": "auto", "data_dir": "/mirror", "missing": "error"}


def test_differences_in_words():
    base = run_settings(_results())
    other = run_settings(_results(tasks=("jamp", "jemhopqa", "mawps"), limit=5.0, shots=0))
    assert differences(base, other) == [
        "datasets: janli, jnli only in A; mawps only in B", "limit 10 vs 5", "n-shot 4 vs 0"]
    assert differences(base, other, coverage=False) == ["n-shot 4 vs 0"]
    assert differences(base, run_settings(_results(limit=None)), names=("x", "y")) == ["limit 10 vs all"]
    partial = _results()
    partial["n-shot"]["jaster_jnli"] = 0
    partial["n-shot"]["jaster_janli"] = 0
    assert differences(base, run_settings(partial)) == ["n-shot 4 vs 0 (janli, jnli)"]
    assert differences(base, run_settings(_with_metadata(_results(), jaster_split="test"))) == ["split dev vs test"]


def test_chat_system_generation_and_version_differences():
    base = run_settings(_results())
    chat = run_settings(_results(chat_template="t", chat_template_sha="aaaaaaaaaaaa", system_instruction_sha="s1",
                                 fewshot_as_multiturn=True, lm_eval_version="0.4.14",
                                 config={"limit": 10.0, "gen_kwargs": {"temperature": 0.7}}))
    assert differences(base, chat) == [
        "chat template not applied vs applied", "system instruction none vs set", "fewshot_as_multiturn false vs true",
        'gen_kwargs {} vs {"temperature": 0.7}', "lm-eval 0.4.13 vs 0.4.14"]
    other_template = dict(chat, chat_template_sha="bbbbbbbbbbbb", system_instruction_sha="s2")
    assert differences(chat, other_template) == ["chat template differs (sha aaaaaaaa vs bbbbbbbb)",
                                                 "system instruction differs"]
    multiturn = run_settings(_with_metadata(_results(chat_template="t", chat_template_sha="aaaaaaaaaaaa",
                                                     system_instruction_sha="s1", fewshot_as_multiturn=True,
                                                     lm_eval_version="0.4.14",
                                                     config={"limit": 10.0, "gen_kwargs": {"temperature": 0.7}}),
                                            jaster_settings={"chat_format": "multiturn"}))
    assert differences(chat, multiturn) == ["chat format single_turn vs multiturn"]
    # without a chat template the chat format changes nothing
    multiturn_without_template = _with_metadata(_results(), jaster_settings={"chat_format": "multiturn"})
    assert differences(base, run_settings(multiturn_without_template)) == []


def test_versions_and_settings_that_matter_and_those_that_do_not():
    def versioned(prompt: int, package: str, **settings) -> dict:
        return run_settings(_with_metadata(_results(), jaster_versions={"lm_eval_jaster": package, "prompt": prompt},
                                           jaster_settings=settings))

    assert differences(versioned(1, "0.1.0", data_dir="/a", missing="skip"),
                       versioned(1, "0.2.0", data_dir="/b", missing="error")) == []  # paths, package version
    assert differences(versioned(1, "0.1.0"), versioned(2, "0.1.0")) == ["prompt version 1 vs 2"]
    assert differences(versioned(1, "0.1.0", comet_model="m1"), versioned(1, "0.1.0", comet_model="m2")) == [
        "comet_model m1 vs m2"]
    assert differences(run_settings(_results()), versioned(1, "0.1.0")) == ["prompt version unknown vs 1"]
    task_version = _results()
    task_version["versions"]["jaster_jamp"] = 2.0
    assert differences(run_settings(_results()), run_settings(task_version)) == ["task version 1.0 vs 2.0 (jamp)"]


def test_many_datasets_are_summarised():
    many = ("jamp", "janli", "jnli", "jsem", "jsick", "jemhopqa")
    base, other = _results(tasks=many), _results(tasks=many)
    for task in many[:5]:
        other["n-shot"][f"jaster_{task}"] = 0
    assert differences(run_settings(base), run_settings(other)) == ["n-shot 4 vs 0 (jamp, janli, jnli, … (5 datasets))"]


def test_describe():
    assert describe(run_settings(_results())) == "split dev, limit 10, 4-shot, no chat template, 4 datasets"
    mixed = _results(chat_template="t", limit=None)
    mixed["n-shot"]["jaster_jamp"] = 0
    assert describe(run_settings(mixed)) == ("split dev, limit all, n-shot per dataset, chat template (single_turn), "
                                             "4 datasets")
