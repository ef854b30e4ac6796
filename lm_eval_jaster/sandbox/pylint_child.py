"""pylint's child program: lint one solution (read from stdin) inside the sandbox. The code is parsed, never run.

Started by :mod:`lm_eval_jaster.sandbox.runner` as
``python -I -S -B -X utf8 pylint_child.py [--uid=UID] MEMORY_BYTES SITE_DIR...``; prints pylint's message ids, one
a line, then ``PYLINT_DONE``.
"""

from __future__ import annotations

import os
import resource
import site
import sys

PYLINT_ARGS = ["--persistent=n", "--score=n", "--reports=n", "--errors-only", "--msg-template={msg_id}"]


def main(argv: list[str]) -> None:
    if len(argv) > 1 and argv[1].startswith("--uid="):
        uid = int(argv[1][6:])
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        argv = [argv[0], *argv[2:]]
    memory = int(argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.dont_write_bytecode = True
    for path in argv[2:]:
        site.addsitedir(path)
    source = sys.stdin.buffer.read()
    with open("solution.py", "wb") as f:
        f.write(source)
    from pylint.lint import Run  # pylint: disable=import-outside-toplevel  # found on the site dirs above

    Run([*PYLINT_ARGS, "solution.py"], exit=False)
    sys.stdout.write("\nPYLINT_DONE\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv)
