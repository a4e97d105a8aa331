"""The Alembic history creates exactly what the models describe, both ways."""

from sqlalchemy import inspect

from etl import db


def test_upgrade_downgrade_upgrade_without_drift(settings):
    with db.connect(settings) as connection:
        db.upgrade(connection)
        assert db.current_revision(connection) == "0004"
        assert db.schema_drift(connection) == []
        assert "treatment_cycle" in inspect(connection).get_table_names(schema="raw")

        db.downgrade(connection, "base")
        assert db.current_revision(connection) is None
        assert inspect(connection).get_table_names(schema="raw") == []

        db.upgrade(connection)
        assert db.current_revision(connection) == "0004"
        assert db.schema_drift(connection) == []


def test_drift_is_reported(settings):
    with db.connect(settings) as connection:
        db.upgrade(connection)
        connection.exec_driver_sql("ALTER TABLE raw.patient ADD COLUMN patient_name VARCHAR")
        connection.commit()
        assert db.schema_drift(connection) == [
            "raw.patient.patient_name: in the database, not in the models"
        ]


def test_upgrade_to_0002_keeps_file_accounting_and_adds_skipped_rows(settings):
    with db.connect(settings) as connection:
        db.upgrade(connection, "0001")
        connection.exec_driver_sql(
            "INSERT INTO meta.delivery_file (delivery_id, file_name, file_sha256, target_table, "
            "rows_read, rows_loaded, rows_quarantined) VALUES (1, 'a.csv', 'x', 'patient', 5, 4, 1)"
        )
        connection.commit()
        db.upgrade(connection)
        assert connection.exec_driver_sql(
            "SELECT file_name, rows_read, rows_loaded, rows_skipped, rows_quarantined "
            "FROM meta.delivery_file").fetchall() == [("a.csv", 5, 4, 0, 1)]
        assert db.schema_drift(connection) == []
        db.downgrade(connection, "0001")
        assert connection.exec_driver_sql(
            "SELECT rows_read, rows_loaded, rows_quarantined FROM meta.delivery_file"
        ).fetchall() == [(5, 4, 1)]
