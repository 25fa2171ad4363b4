"""`python -m hzflow.cli`: how the workflow's jobs run hzflow (with Snakemake's own interpreter)."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
