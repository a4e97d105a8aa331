"""Publishing writes a new release and switches `current`; rollback goes back one."""

import os

import duckdb

from etl import db, publish


def test_publish_switches_current_and_rollback_returns(settings):
    with db.connect(settings) as connection:
        db.upgrade(connection)
        for schema in ("marts", "codes"):
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        connection.exec_driver_sql("CREATE TABLE marts.dim_patient AS SELECT 1 AS n")
        connection.exec_driver_sql("COMMENT ON TABLE marts.dim_patient IS 'one per patient'")
        connection.exec_driver_sql("COMMENT ON COLUMN marts.dim_patient.n IS 'a count'")
        connection.commit()
        first = publish.publish(connection, settings, "20240601T000000Z-0001")
        connection.exec_driver_sql("UPDATE marts.dim_patient SET n = 2")
        connection.commit()
        second = publish.publish(connection, settings, "20240602T000000Z-0002")

        current = settings.current_link / "warehouse.duckdb"
        assert os.readlink(settings.current_link) == "releases/20240602T000000Z-0002"
        with duckdb.connect(str(current), read_only=True) as reader:
            assert reader.sql("SELECT n FROM marts.dim_patient").fetchall() == [(2,)]
            assert reader.sql("SELECT comment FROM duckdb_tables() WHERE table_name = "
                              "'dim_patient'").fetchall() == [("one per patient",)]
            assert reader.sql("SELECT comment FROM duckdb_columns() WHERE table_name = "
                              "'dim_patient'").fetchall() == [("a count",)]
            assert reader.sql("SELECT count(*) FROM duckdb_tables() WHERE schema_name "
                              "IN ('raw', 'meta')").fetchall() == [(0,)]

        assert publish.rollback(connection, settings) == first
        with duckdb.connect(str(current), read_only=True) as reader:
            assert reader.sql("SELECT n FROM marts.dim_patient").fetchall() == [(1,)]
        assert second.exists()
        assert connection.exec_driver_sql(
            "SELECT run_id FROM meta.publication WHERE is_current").fetchall() == [
            ("20240601T000000Z-0001",)]
