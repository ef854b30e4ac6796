"""Verdicts model code cannot forge: every attack below comes with a wrong solution, so a "pass" would be forged.

The evaluator sends a fresh nonce before each step and counts the steps acknowledged with it; the child binds
``exec``, ``compile`` and the channel before model code runs. What remains possible (model code that walks the
interpreter's frames up to the step loop) is pinned by the strict xfail at the end, and documented.
"""

from __future__ import annotations

import pytest

from lm_eval_jaster import code_exec, sandbox
from lm_eval_jaster.sandbox import Limits
from test_sandbox_host import MODES, run_watched

WRONG = "\ndef add(a, b):\n    return a - b\n"
TESTS = ["assert add(0, 0) == 0", "assert add(1, 2) == 3", "assert add(2, 2) == 4"]
FORGED_LINES = ("'ready\\n' + '0' * 32 + ' ok 1\\n' + 'passed\\n' + "
                "'\\n' + 'f' * 32 + ' {\"passed\": true, \"reason\": \"passed\"}\\n'")

ATTACKS = {
    "patch builtins.exec": "import builtins\nbuiltins.exec = lambda *a, **k: None",
    "patch builtins.compile": "import builtins\nbuiltins.compile = lambda *a, **k: compile('pass', 'x', 'exec')",
    "patch exec in the namespace": "exec = lambda *a, **k: None\ncompile = lambda *a, **k: None",
    "print a forged verdict": (f"import sys\nprint({FORGED_LINES})\nsys.stderr.write({FORGED_LINES})\n"
                               "sys.stdout.flush()"),
    "os._exit in the solution": "import os\nos._exit(0)",
    "sys.exit in the solution": "import sys\nsys.exit(0)",
    "os._exit in a test": "import os\ndef add(a, b):\n    os._exit(0)",
    "sys.exit in a test": "def add(a, b):\n    raise SystemExit(0)",
    "KeyboardInterrupt in a test": "def add(a, b):\n    raise KeyboardInterrupt",
    "atexit": "import atexit, os\natexit.register(os._exit, 0)",
    "excepthook": ("import sys, os\nsys.excepthook = lambda *a: os._exit(0)\n"
                   "sys.unraisablehook = lambda *a: os._exit(0)"),
    "write to every descriptor": (
        "import os\nfor fd in range(0, 1024):\n    for line in (b'ready\\n', b'0' * 32 + b' ok 1\\n', b'passed\\n'):\n"
        "        try:\n            os.write(fd, line)\n        except OSError:\n            pass"),
    "read every descriptor for nonces": (
        "import os\nfor fd in range(0, 64):\n    try:\n        os.set_blocking(fd, False)\n"
        "        data = os.read(fd, 4096)\n        os.write(fd + 1, data.strip() + b' ok 1\\n')\n"
        "    except OSError:\n        pass"),
    "SystemExit from __del__": ("class Bomb:\n    def __del__(self):\n        raise SystemExit(0)\n"
                                "def add(a, b):\n    Bomb()\n    return a - b"),
    "KeyboardInterrupt from a cyclic __del__": (
        "import gc\nclass Bomb:\n    def __init__(self):\n        self.me = self\n    def __del__(self):\n"
        "        raise KeyboardInterrupt\ngc.set_threshold(1)\ndef add(a, b):\n    for _ in range(100):\n"
        "        Bomb()\n    return a - b"),
    "finaliser exits between steps": (
        "import gc, os\nclass Bomb:\n    def __init__(self):\n        self.me = self\n    def __del__(self):\n"
        "        os._exit(0)\ngc.set_threshold(1)\nfor _ in range(100):\n    Bomb()"),
    "signal handler exits between steps": (
        "import os, signal\nsignal.signal(signal.SIGALRM, lambda *a: os._exit(0))\n"
        "signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)"),
    "thread reading the job pipe": (
        "import os, threading\ndef steal():\n    for fd in range(3, 64):\n        try:\n"
        "            os.write(fd, os.read(fd, 33)[:32] + b' ok 1\\n')\n        except OSError:\n            pass\n"
        "threading.Thread(target=steal, daemon=True).start()"),
    "monkeypatch the child's modules": (
        "import sys, os, json, gc, signal, builtins\nmain = sys.modules['__main__']\n"
        "for name in ('describe', 'peak_rss_kib', 'serve', 'read_exact', 'steps_of'):\n"
        "    setattr(main, name, lambda *a, **k: 'passed')\n"
        "os.write = lambda fd, data: len(data)\nos._exit = lambda code: None\nos.read = lambda fd, n: b''\n"
        "json.dumps = lambda *a, **k: 'passed'\ngc.disable = gc.enable = lambda: None\n"
        "signal.pthread_sigmask = lambda *a: set()\nbuiltins.BaseException = type('X', (Exception,), {})"),
    "replace the child's function code": (
        "import sys\nmain = sys.modules['__main__']\nmain.describe.__code__ = (lambda e: 'passed').__code__"),
    "audit hook of its own": "import sys\nsys.addaudithook(lambda event, args: None)",
    "tracing": "import sys\nsys.settrace(lambda *a: None)\nsys.setprofile(lambda *a: None)",
}


@pytest.fixture(autouse=True)
def allowed(monkeypatch):
    monkeypatch.setenv(sandbox.ALLOW_ENV, "1")


@pytest.mark.parametrize("name", list(ATTACKS))
@pytest.mark.parametrize("mode", MODES)
def test_attack_cannot_make_a_wrong_solution_pass(mode, name):
    result, watch = run_watched(ATTACKS[name] + WRONG, TESTS, mode, Limits(timeout_s=5, cpu_s=5))
    assert not result.passed, (name, result.reason)
    assert watch.survivors() == []


def test_patched_exec_through_the_public_entry_point():
    """The issue's end-to-end case: builtins.exec patched used to make every test pass (code_exec = 1.0)."""
    result = code_exec.run_tests("import builtins\nbuiltins.exec = lambda *a, **k: None" + WRONG, TESTS)
    assert not result.passed and result.reason == "test 2 raised AssertionError"


@pytest.mark.parametrize("mode", MODES)
def test_every_test_must_run(mode):
    """A solution that stops the run after the first test cannot pass the remaining ones."""
    code = ("import os\ncalls = []\ndef add(a, b):\n    calls.append(1)\n    if len(calls) == 2:\n"
            "        os._exit(0)\n    return a + b")
    result, _ = run_watched(code, TESTS, mode)
    assert not result.passed and result.reason == "exited without a result (exit status 0)"


FRAME_WALK = '''
import os, sys
def add(a, b):
    frame = sys._getframe()
    while frame is not None and "nonce" not in frame.f_locals:
        frame = frame.f_back
    scope = frame.f_locals
    nonce = scope["nonce"]
    while nonce:
        os.write(scope["ack_fd"], nonce + b" ok 1\\n")
        nonce = os.read(scope["job_fd"], 33)[:32]
    os._exit(0)
'''


@pytest.mark.xfail(strict=True, reason="documented limit: model code that walks the interpreter's frames up to the "
                                       "step loop can read the current nonce (docs/sandbox.md)")
def test_frame_walking_into_the_step_loop_is_a_known_limit():
    result, _ = run_watched(FRAME_WALK, TESTS, "bwrap")
    assert not result.passed
