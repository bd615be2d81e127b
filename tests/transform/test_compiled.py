"""Reading dbt's manifest for f1pipe's runner, and the project's version (no dbt needed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from f1pipe.errors import F1PipeError
from f1pipe.transform.compiled import project_version, read_manifest

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt"


def node(name: str, kind: str = "model", materialized: str = "table", sql: str = "",
         depends: tuple[str, ...] = (), **config) -> dict:
    return {"unique_id": f"{kind}.f1pipe.{name}", "name": name, "resource_type": kind,
            "compiled_code": sql or f'select * from "f1pipe_compile"."main"."{name}_src"',
            "depends_on": {"nodes": list(depends)},
            "config": {"materialized": materialized, "enabled": True, **config}}


def manifest(*nodes: dict) -> dict:
    return {"nodes": {n["unique_id"]: n for n in nodes},
            "sources": {"source.f1pipe.f1.laps": {"identifier": "laps"}}}


def test_models_come_after_the_models_they_read_and_ephemerals_are_left_out():
    project = read_manifest(manifest(
        node("lap_gaps", depends=("model.f1pipe.lap_positions",)),
        node("lap_positions", depends=("model.f1pipe.stg_laps",)),
        node("stg_laps", materialized="ephemeral"),
        node("lap_gaps_are_ok", kind="test", materialized="test",
             depends=("model.f1pipe.lap_gaps",), severity="WARN"),
    ), "v1")
    assert [m.name for m in project.models] == ["lap_positions", "lap_gaps"]
    assert project.models[1].depends_on == ("lap_positions",)
    assert project.models[0].sql == 'select * from "lap_positions_src"'  # unqualified
    assert [(t.name, t.severity) for t in project.tests] == [("lap_gaps_are_ok", "warn")]
    assert project.sources == ("laps",)


def test_a_cycle_is_one_line():
    with pytest.raises(F1PipeError, match="cycle"):
        read_manifest(manifest(node("a", depends=("model.f1pipe.b",)),
                               node("b", depends=("model.f1pipe.a",))), "v1")


def test_sql_naming_the_compile_database_otherwise_is_refused():
    with pytest.raises(KeyError, match="cannot rewrite"):
        read_manifest(manifest(node("a", sql="select * from f1pipe_compile.main.laps")), "v1")


def test_the_version_follows_the_models_and_the_dbt_used(tmp_path):
    project = tmp_path / "dbt"
    shutil.copytree(DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    dbt = tmp_path / "dbt-bin"
    first = project_version(project, dbt)
    assert project_version(project, dbt) == first
    (project / "target").mkdir()
    (project / "target" / "manifest.json").write_text("{}")
    assert project_version(project, dbt) == first  # dbt's own output does not count
    stints = project / "models" / "marts" / "stints.sql"
    stints.write_text(stints.read_text() + "\n-- a change\n")
    assert project_version(project, dbt) != first
    assert project_version(project, tmp_path / "other-dbt") != project_version(project, dbt)


def test_the_status_letters_of_the_dbt_test_are_the_contracts():
    import yaml

    from f1pipe.schemas import CLASSIFIED_STATUS_LETTERS

    project = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text())
    assert project["vars"]["classified_status_letters"] == list(CLASSIFIED_STATUS_LETTERS)
