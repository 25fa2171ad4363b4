#!/usr/bin/env bash
# The test suite: linters (ruff, snakefmt, snakemake --lint), then unit, database
# (private MariaDB), workflow (real snakemake) and golden parity tests (against
# ../shared/parity when it is present).  Arguments go to pytest.
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
.venv/bin/ruff check scripts dev tests
.venv/bin/snakefmt --check --compact-diff Snakefile rules
lint_dir="$(mktemp -d)"
trap 'rm -rf "$lint_dir"' EXIT
# the lint config's work_dir (Snakemake's working directory) is a scratch directory
sed "s|/nonexistent/hzflow-lint|$lint_dir|" tests/workflow/lint.yaml > "$lint_dir/lint.yaml"
.venv/bin/python -m snakemake --snakefile Snakefile --configfile "$lint_dir/lint.yaml" --lint 2>&1 \
    | grep -v "^Using workflow specific profile"
# Two workers, each taking whole files (a module's fixtures stay in one process, with its own private
# server); HZFLOW_TEST_WORKERS=0 runs everything in this process.
PYTHONPATH="$ROOT/dev${PYTHONPATH:+:$PYTHONPATH}" .venv/bin/python -m pytest \
    -n "${HZFLOW_TEST_WORKERS:-2}" --dist loadfile "$@"
