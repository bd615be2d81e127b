"""The loader's cheap paths for frequent loads (the streaming landing): many Parquet objects
read in one statement (a corrupt one still reported alone), and a warehouse whose tables are
all there checked with one catalog query (one missing a column still upgraded)."""

from __future__ import annotations

from f1pipe.lake.records import LakeRecord
from f1pipe.schemas import ENVELOPE_FIELDS, CarDataV1, make_message, validate_message
from f1pipe.warehouse import load, query
from f1pipe.warehouse.destination import connect
from f1pipe.warehouse.loader import ensure_schema
from tests.warehouse.conftest import duckdb_warehouse
from tests.warehouse.lakefiles import lake_objects, write_folder


def _car_records(count: int, first_offset: int = 0) -> list[LakeRecord]:
    records = []
    for i in range(count):
        message = make_message(CarDataV1(
            season=2018, round=4, session="R", driver_number=1 + i % 20,
            time_utc=f"2018-04-29T12:{i // 1200 % 60:02d}:{i // 20 % 60:02d}.000Z",
            speed_kmh=100 + i % 200, session_time_ms=i), "test")
        records.append(LakeRecord("f1.car_data", 0, first_offset + i, 1, validate_message(
            message), {k: message[k] for k in ENVELOPE_FIELDS}))
    return records


def test_many_parquet_objects_load_in_one_read_and_a_corrupt_one_is_reported(tmp_path):
    wh = duckdb_warehouse(tmp_path)
    objects = lake_objects(_car_records(200), "parquet", batch=40)  # 5 objects
    paths = write_folder(tmp_path / "lake", objects)
    lake = f"file://{tmp_path / 'lake'}"

    summary = load(wh.settings, lake, wh.url)
    assert (summary.objects_loaded, summary.records["car_data"], summary.failed) == (5, 200, [])

    more = lake_objects(_car_records(60, first_offset=1000), "parquet", batch=20)
    write_folder(tmp_path / "lake", more)
    bad = paths[0].with_name(paths[0].name.replace("+0000000000", "+0000009999"))
    bad.write_bytes(b"PAR1 not really parquet")
    summary = load(wh.settings, lake, wh.url)

    assert [key.rsplit("/", 1)[-1] for key, _ in summary.failed] == [bad.name]
    assert (summary.objects_loaded, summary.records["car_data"]) == (3, 60)
    _, rows = query(wh.settings, wh.url,
                    "SELECT COUNT(*), COUNT(DISTINCT object_key) FROM raw_car_data")
    assert rows == [(260, 8)]


def test_a_complete_warehouse_is_left_alone_and_an_older_one_is_upgraded(tmp_path):
    wh = duckdb_warehouse(tmp_path)
    dest = connect(wh.settings, wh.url)
    try:
        ensure_schema(dest)
        assert dest.table_columns()["car_data"] >= {"speed_kmh", "kafka_offset"}
        dest.execute("ALTER TABLE f1_results DROP COLUMN session_type")  # an older f1pipe's
        dest.execute("DROP TABLE load_rejects")
        ensure_schema(dest)
        tables = dest.table_columns()
    finally:
        dest.close()
    assert "session_type" in tables["f1_results"] and "load_rejects" in tables


def test_a_loop_memory_skips_opening_the_warehouse_only_when_nothing_changed(tmp_path):
    from f1pipe.warehouse.loader import LoadMemory

    wh = duckdb_warehouse(tmp_path)
    lake = f"file://{tmp_path / 'lake'}"
    write_folder(tmp_path / "lake", lake_objects(_car_records(40), "parquet", batch=20))
    memory = LoadMemory()
    first = load(wh.settings, lake, wh.url, memory=memory)
    assert (first.objects_loaded, first.table_rows["car_data"]) == (2, 40)

    again = load(wh.settings, lake, wh.url, memory=memory)
    assert (again.objects_skipped, again.table_rows) == (2, {})  # not opened

    write_folder(tmp_path / "lake", lake_objects(_car_records(20, 500), "parquet", batch=20))
    new = load(wh.settings, lake, wh.url, memory=memory)
    assert (new.objects_loaded, new.table_rows["car_data"]) == (1, 40)  # same samples, newer

    query(wh.settings, wh.url, "SELECT 1")  # a reader changes nothing
    assert load(wh.settings, lake, wh.url, memory=memory).table_rows == {}

    (tmp_path / "f1.duckdb").unlink()  # a new warehouse file: everything again
    fresh = load(wh.settings, lake, wh.url, memory=memory)
    assert (fresh.objects_loaded, fresh.table_rows["car_data"]) == (3, 40)

    dest = connect(wh.settings, wh.url)  # another writer
    dest.execute("DELETE FROM load_history")
    dest.close()
    assert load(wh.settings, lake, wh.url, memory=memory).objects_loaded == 3


def test_parquet_objects_of_two_topics_read_per_topic_keep_each_record_as_one_read_has_it(
        tmp_path):
    """One read per topic (matched by column name) gives each record the same JSON, under
    its own object key, as reading its object alone; an object lacking a column another
    object of its topic has shows it as null."""
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from f1pipe.warehouse.duckdb.sql import land_object, land_parquet_objects
    from f1pipe.warehouse.sql import BATCH, LANDING

    folder = tmp_path / "lake"
    files = {"f1.car_data/a.parquet": {"n": [1, 2], "speed": [1.5, 0.00001]},
             "f1.car_data/b.parquet": {"n": [3], "speed": [2.0]},
             "f1.location/c.parquet": {"n": [4], "x": [-7]},
             "f1.location/d.parquet": {"n": [5]}}  # no x
    for key, columns in files.items():
        (folder / key).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(columns), folder / key)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE {LANDING} (v JSON)")
    con.execute(f"CREATE TABLE {BATCH} (v JSON, object_key VARCHAR, schema_name VARCHAR)")
    con.execute(land_parquet_objects([(str(folder / k), k) for k in files]))
    together = sorted(con.execute(f"SELECT object_key, v FROM {BATCH}").fetchall())

    alone = []
    for key in files:
        con.execute(f"DELETE FROM {LANDING}")
        con.execute(land_object(str(folder / key), "parquet"))
        alone += [(key, v) for (v,) in con.execute(f"SELECT v FROM {LANDING}").fetchall()]
    alone = [(k, v.replace('{"n":5}', '{"n":5,"x":null}')) for k, v in alone]
    assert together == sorted(alone)
    assert ("f1.car_data/a.parquet", '{"n":2,"speed":0.00001}') in together
