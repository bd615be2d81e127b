"""deploy/mwaa: the DAG parses on an environment holding only Airflow and the listed
requirements, and the f1pipe modules its tasks import need nothing outside them.

A fresh virtualenv per test run would take minutes; instead each check runs in a subprocess
whose imports are limited, by an import hook, to the dependency closure of the allowed
distributions (import_guard.py): what is not listed cannot be imported, as on MWAA."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
REQUIREMENTS = ROOT / "deploy" / "mwaa" / "requirements.txt"
GUARD = Path(__file__).with_name("import_guard.py")
DAG = ROOT / "dags" / "f1_pipeline.py"
AIRFLOW = "apache-airflow"


def listed() -> list[str]:
    """Distribution names in requirements.txt (a wheel path counts as its project)."""
    names = []
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        if line.endswith(".whl"):
            names.append(Path(line).name.split("-")[0])
        else:
            names.append(Requirement(line).name)
    return names


def task_imports() -> list[str]:
    """The f1pipe modules imported inside the DAG's task functions."""
    found = set()
    for node in ast.walk(ast.parse(DAG.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("f1pipe"):
            found.add(node.module)
    return sorted(found)


def guarded(mode: str, requirements: list[str],
            modules: list[str] = ()) -> subprocess.CompletedProcess:
    args = [sys.executable, str(GUARD), mode, *requirements]
    if modules:
        args += ["--", *modules]
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "PYTHONPATH": str(ROOT)}
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env=env,
                          cwd=ROOT)


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory):
    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow-home")))


def test_dag_parses_with_airflow_alone(airflow_home):
    done = guarded("parse", [AIRFLOW])
    assert done.returncode == 0, done.stderr[-2000:]
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    assert parsed == {"import_errors": {}, "dag_ids": ["f1_pipeline"]}


def test_task_imports_are_covered_by_the_requirements():
    modules = task_imports()
    assert {"f1pipe.config", "f1pipe.pipeline"} <= set(modules)
    done = guarded("import", [AIRFLOW, *listed()], modules)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"imported": modules}


def test_the_guard_refuses_what_is_not_listed():
    done = guarded("import", [AIRFLOW], ["f1pipe.pipeline"])
    assert done.returncode != 0
    assert "not in the requirements" in done.stderr


def test_requirements_list_f1pipes_runtime_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    have = {canonicalize_name(n) for n in listed()}
    assert "f1pipe" in have
    assert needed - have == set()
    assert AIRFLOW not in have  # MWAA brings its own Airflow: never reinstall it
