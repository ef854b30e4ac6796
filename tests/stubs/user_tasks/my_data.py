"""The data of a user's own lm-eval task (tests/test_cli_e2e.py: --include_path beside the Jaster tasks)."""

import datasets


def load(**kwargs):
    return {"test": datasets.Dataset.from_list([{"q": "1+1=", "a": "2"}, {"q": "2+2=", "a": "4"}])}
