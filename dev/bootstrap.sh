#!/usr/bin/env bash
# Set up everything the demo, the tests and the benchmarks need on a fresh
# Debian machine: MariaDB server and client binaries (from Debian), a venv
# with hzflow and its test extras.  Safe to run again; it only does what is
# missing.  Sourced by dev/demo.sh, dev/test.sh and dev/bench.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

missing=()
if [ -z "${HZFLOW_TEST_SOCKET:-}${HZFLOW_TEST_HOST:-}" ]; then
    [ -x /usr/sbin/mariadbd ] || command -v mariadbd >/dev/null 2>&1 || missing+=(mariadb-server)
    command -v mariadb >/dev/null 2>&1 || missing+=(mariadb-client)
fi
"${PYTHON:-python3}" -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
# the install test builds the hub's venv from Debian's own python3 (one a service account may run)
if [ -x /usr/bin/python3 ] && ! /usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    case " ${missing[*]} " in *" python3-venv "*) ;; *) missing+=(python3-venv) ;; esac
fi
# `make install` is tested by installing into a staging tree; its logrotate stanza by rotating a log
command -v make >/dev/null 2>&1 || missing+=(make)
command -v logrotate >/dev/null 2>&1 || missing+=(logrotate)
# the report test renders the page in a real browser (Debian's, driven by its chromedriver)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing ${missing[*]} from Debian" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "bootstrap: missing Debian packages. Install them with:" >&2
        echo "    sudo apt-get install ${missing[*]}" >&2
        echo "(for MariaDB, pointing HZFLOW_TEST_SOCKET or HZFLOW_TEST_HOST/_PORT at a server also works;" >&2
        echo " without chromium the report's browser test is skipped, without make the install test)" >&2
        case " ${missing[*]} " in *" mariadb"* | *" python3-venv "*) exit 1 ;; esac
    fi
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "bootstrap: creating .venv" >&2
    "$PY" -m venv .venv
fi
# The SLURM executor plugin only where a cluster is used (HZFLOW_TEST_SLURM=1, bench fleet-slurm).
extras=test
if [ "${HZFLOW_TEST_SLURM:-}" = 1 ]; then extras=test,slurm; fi
stamp=.venv/.hzflow-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || ! grep -qx "$extras" "$stamp" 2>/dev/null; then
    echo "bootstrap: installing hzflow and its dependencies ($extras) into .venv" >&2
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e ".[$extras]"
    echo "$extras" > "$stamp"
fi
# Byte-compile the package once (an environment with PYTHONDONTWRITEBYTECODE
# would otherwise recompile it in every workflow job).
.venv/bin/python -m compileall -q scripts dev >/dev/null
export PATH="$ROOT/.venv/bin:$PATH"
