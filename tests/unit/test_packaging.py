"""The package as an operator installs it: a plain (non-editable) wheel that carries its workflow."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_the_conda_env_pins_what_pyproject_pins():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((REPO / "envs" / "hzflow.yaml").read_text())["dependencies"]
    flat = [d for d in env if isinstance(d, str)] + [d for d in env if isinstance(d, dict)][0]["pip"]
    conda_name = {"snakemake": "snakemake-minimal"}

    def spec(text):
        name, rest = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)", text).groups()
        return name.lower(), rest.replace(" ", "")

    pinned = dict(spec(d) for d in flat if not d.startswith("-e"))
    for requirement in project:
        name, ranges = spec(requirement)
        assert pinned.get(conda_name.get(name, name)) == ranges, requirement


def test_the_aiodns_floor_has_the_query_the_resolver_makes():
    """dns.Resolver asks with `query_dns`, which aiodns has from 4.0 (3.x resolves but lacks it)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    floor = next(re.search(r">=\s*([0-9.]+)", d).group(1) for d in project if d.startswith("aiodns"))
    assert tuple(int(part) for part in floor.split(".")) >= (4,), floor


def test_a_plain_install_imports_every_module_and_carries_the_workflow(tmp_path):
    source = tmp_path / "src"              # a copy, so the build leaves nothing in the checkout
    shutil.copytree(REPO, source, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", ".venv", "*-out", "build", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(source)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("hzflow-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in ("hzflow/workflow/Snakefile", "hzflow/workflow/rules/common.smk",
                    "hzflow/workflow/profiles/default/config.yaml", "hzflow/workflow/config/config.schema.yaml",
                    "hzflow/workflow/config/config.yaml", "hzflow/workflow/envs/hzflow.yaml",
                    "hzflow/schema/metrics.sql"):
        assert shipped in names, shipped
    assert not any(n.startswith("hzflow_dev") or "ptrserver" in n for n in names)
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    # -S: no site.py, so the editable install of this checkout is not on the path, only the
    # unpacked wheel and the third-party packages it depends on
    probe = (
        "import sys, importlib, pkgutil; sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
        "for extra in ('dnslib', 'pytest', 'hzflow_dev'):\n"
        "    sys.modules[extra] = None           # the test extras and the harness are not installed\n"
        "import hzflow\n"
        "assert hzflow.__file__.startswith(sys.argv[1]), hzflow.__file__\n"
        "for m in pkgutil.walk_packages(hzflow.__path__, 'hzflow.'):\n"
        "    importlib.import_module(m.name)\n"
        "from hzflow import invocation\n"
        "assert invocation.SNAKEFILE.is_file() and invocation.PROFILE.is_dir()\n"
        "print('ok', len(list(pkgutil.walk_packages(hzflow.__path__, 'hzflow.'))))\n")
    r = subprocess.run([sys.executable, "-S", "-c", probe, str(unpacked), sysconfig.get_paths()["purelib"]],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stderr


def lint_config(tmp_path):
    """The lint config with a scratch work directory (Snakemake's working directory)."""
    config = tmp_path / "lint.yaml"
    config.write_text((REPO / "tests" / "workflow" / "lint.yaml").read_text().replace("/nonexistent/hzflow-lint",
                                                                                     str(tmp_path / "work")))
    return config


def test_the_packaged_workflow_parses_without_credentials_and_writes_nowhere_else(tmp_path):
    snakefile = REPO / "scripts" / "hzflow" / "workflow" / "Snakefile"
    elsewhere = tmp_path / "started-here"
    elsewhere.mkdir()
    r = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), "--configfile",
                        str(lint_config(tmp_path)), "-n"], capture_output=True, text=True, cwd=elsewhere)
    assert r.returncode == 0, r.stdout + r.stderr
    assert list(elsewhere.iterdir()) == [] and (tmp_path / "work").is_dir()


def test_a_bare_snakemake_stops_at_once_saying_how_to_give_a_config(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HZFLOW_CONFIG"}
    r = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "-n"],
                       capture_output=True, text=True, cwd=tmp_path, env=env)
    assert r.returncode == 2 and "--configfile" in r.stderr and "HZFLOW_CONFIG" in r.stderr
    assert [line for line in r.stderr.splitlines() if line.startswith("hzflow:")] == r.stderr.splitlines()[-1:]
    assert list(tmp_path.iterdir()) == []
    r = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "-n"],
                       capture_output=True, text=True, cwd=tmp_path, env={**env, "HZFLOW_CONFIG": str(lint_config(tmp_path))})
    assert r.returncode == 0, r.stdout + r.stderr
