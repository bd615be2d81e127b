"""The dbt project compiled once for f1pipe's own runner (:mod:`f1pipe.transform.incremental`).

``dbt compile --vars '{f1pipe_scoped: true}'`` against an empty placeholder DuckDB file writes
``manifest.json``: every model's and test's SQL with the macros expanded and the ephemeral
staging models inlined. f1pipe keeps it per version of the project (a hash of its files), so
dbt starts only when the models change, and reads from it:

* the marts in dependency order, each with the SQL that selects its rows;
* the data tests, each with the SQL that selects its failing rows.

The SQL names the placeholder database (``"f1pipe_compile"."main".laps``); the names are made
unqualified so they resolve in whichever warehouse file runs them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.transform.runner import dbt_executable, dbt_process, first_error, project_dir

COMPILE_DATABASE = "f1pipe_compile"
SCOPE_TABLE = "f1pipe_transform_scope"
_PROJECT_SUFFIXES = (".sql", ".yml", ".yaml", ".md")


@dataclass(frozen=True)
class CompiledNode:
    """One model or data test of the project, as SQL ready to run."""

    name: str
    kind: str  # model, test
    sql: str  # models: the SELECT of the rows; tests: the SELECT of the failing rows
    depends_on: tuple[str, ...]  # names of the models (not ephemeral) it reads
    severity: str = "error"  # tests: error or warn
    tags: tuple[str, ...] = ()  # tests: "facts" for the invariants of the model tables


@dataclass(frozen=True)
class CompiledProject:
    version: str  # hash of the project's files
    models: tuple[CompiledNode, ...]  # materialized models, each after the models it reads
    tests: tuple[CompiledNode, ...]
    sources: tuple[str, ...]  # the warehouse tables the models read (f1_results, laps, ...)


def project_version(project: Path, dbt: Path) -> str:
    """A hash of every file of the dbt project that can change the SQL, and of the dbt used."""
    digest = hashlib.sha256(str(dbt.resolve()).encode())
    for path in sorted(project.rglob("*")):
        if path.suffix in _PROJECT_SUFFIXES and path.is_file() and "target" not in path.parts:
            digest.update(str(path.relative_to(project)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def compiled_dir(settings: Settings) -> Path:
    return (settings.dbt_compiled_dir or settings.state_dir / "dbt" / "compiled").resolve()


def compiled_project(settings: Settings) -> CompiledProject:
    """The project compiled for f1pipe's runner: read from the cache, or compiled by dbt
    (once per version of the project, ~10 s) when the cache lacks it."""
    project, dbt = project_dir(settings), dbt_executable(settings)
    version = project_version(project, dbt)
    manifest = compiled_dir(settings) / version / "manifest.json"
    if not manifest.is_file():
        compile_project(settings, manifest)
    try:
        return read_manifest(json.loads(manifest.read_bytes()), version)
    except (ValueError, KeyError) as exc:
        raise F1PipeError(f"unreadable compiled dbt project {manifest}: {exc}; delete the "
                          "folder and run f1pipe transform again") from None


def compile_project(settings: Settings, manifest: Path) -> None:
    """``dbt compile`` into a private folder, then ``manifest.json`` moved into place (two
    processes compiling at once both succeed; the last move wins, with the same content)."""
    work = manifest.parent.parent / f".compiling-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        env = {"DBT_TARGET_PATH": str(work / "target"), "DBT_LOG_PATH": str(work / "logs"),
               "F1PIPE_DBT_TARGET": "duckdb",
               "F1PIPE_DUCKDB_PATH": str(work / f"{COMPILE_DATABASE}.duckdb")}
        done, _ = dbt_process(settings, env, "compile", "--vars", "{f1pipe_scoped: true}")
        written = work / "target" / "manifest.json"
        if done.returncode != 0 or not written.is_file():
            raise F1PipeError(f"dbt compile failed: {first_error(done.stdout + done.stderr)}")
        manifest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(written, manifest)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def read_manifest(manifest: dict, version: str) -> CompiledProject:
    """The materialized models (in dependency order), tests and sources of a dbt manifest."""
    nodes = manifest["nodes"]
    models = {n["unique_id"]: n for n in nodes.values() if n["resource_type"] == "model"
              and n["config"].get("enabled", True) and n["config"]["materialized"] != "ephemeral"}
    graph = {uid: [d for d in n["depends_on"]["nodes"] if d in models]
             for uid, n in models.items()}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise F1PipeError("the dbt models depend on each other in a cycle: "
                          f"{exc.args[1]}") from None
    compiled = tuple(CompiledNode(models[uid]["name"], "model", _sql(models[uid]),
                                  tuple(models[d]["name"] for d in graph[uid]))
                     for uid in order)
    tests = tuple(CompiledNode(n["name"], "test", _sql(n),
                               tuple(nodes[d]["name"] for d in n["depends_on"]["nodes"]
                                     if d in models),
                               str(n["config"].get("severity", "error")).lower(),
                               tuple(n.get("tags") or n["config"].get("tags") or ()))
                  for n in sorted(nodes.values(), key=lambda n: n["name"])
                  if n["resource_type"] == "test" and n["config"].get("enabled", True))
    sources = tuple(sorted({s["identifier"] for s in manifest.get("sources", {}).values()}))
    return CompiledProject(version, compiled, tests, sources)


def _sql(node: dict) -> str:
    sql = node.get("compiled_code")
    if not sql:
        raise KeyError(f"{node['unique_id']} has no compiled SQL")
    sql = sql.replace(f'"{COMPILE_DATABASE}"."main".', "").rstrip().rstrip(";")
    if COMPILE_DATABASE in sql:
        raise KeyError(f"{node['unique_id']} names the compile database in a way f1pipe "
                       "cannot rewrite")
    return sql
