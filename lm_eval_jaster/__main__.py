import sys

from lm_eval_jaster.cli import main

if __name__ == "__main__":
    sys.exit(main())
