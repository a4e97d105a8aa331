"""The Alembic history creates exactly what the models describe, both ways."""

from sqlalchemy import inspect

from etl import db


def test_upgrade_downgrade_upgrade_without_drift(settings):
    with db.connect(settings) as connection:
        db.upgrade(connection)
        assert db.current_revision(connection) == "0001"
        assert db.schema_drift(connection) == []
        assert "treatment_cycle" in inspect(connection).get_table_names(schema="raw")

        db.downgrade(connection, "base")
        assert db.current_revision(connection) is None
        assert inspect(connection).get_table_names(schema="raw") == []

        db.upgrade(connection)
        assert db.current_revision(connection) == "0001"
        assert db.schema_drift(connection) == []


def test_drift_is_reported(settings):
    with db.connect(settings) as connection:
        db.upgrade(connection)
        connection.exec_driver_sql("ALTER TABLE raw.patient ADD COLUMN patient_name VARCHAR")
        connection.commit()
        assert db.schema_drift(connection) == [
            "raw.patient.patient_name: in the database, not in the models"
        ]
