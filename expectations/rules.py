"""Building blocks shared by the domain suites: the meta every expectation carries, and
the checks every canonical table gets from its model (keys, code lists, ranges)."""

import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.expectations.row_conditions import Column
from sqlalchemy import Boolean, Date

from etl.canonical import SOURCE_ROW
from etl.mapping import required_fields
from etl.reference import OPERATORS, value_ranges, vocabulary
from etl.severity import CRITICAL
from models.base import metadata

CONFORMANCE, COMPLETENESS, PLAUSIBILITY = "conformance", "completeness", "plausibility"


def meta(kahn: str, severity: str, why: str) -> dict[str, str]:
    return {"kahn_category": kahn, "severity": severity, "why": why}


def canonical_table(table_name: str) -> list[gxe.Expectation]:
    """What the model of a raw table promises: its natural key is complete and unique,
    coded fields hold canonical codes, measurements lie in their plausible ranges."""
    table = metadata.tables[f"raw.{table_name}"]
    key = table.info["natural_key"]
    checks: list[gxe.Expectation] = [
        gxe.ExpectColumnToExist(column=column, meta=meta(
            CONFORMANCE, CRITICAL, f"{table_name}.{column} is required"))
        for column in [*key, *sorted(required_fields(table_name) - set(key))]
    ]
    checks += [
        gxe.ExpectColumnValuesToBeInTypeList(column=column.name, type_list=["date"], meta=meta(
            CONFORMANCE, CRITICAL, f"{column.name} holds calendar dates"))
        for column in table.c if isinstance(column.type, Date)
    ]
    for column in key:
        checks.append(gxe.ExpectColumnValuesToNotBeNull(
            column=column, meta=meta(COMPLETENESS, CRITICAL, f"{column} identifies a record")))
    unique = meta(CONFORMANCE, CRITICAL, f"one record per {', '.join(key)} in a snapshot")
    checks.append(gxe.ExpectColumnValuesToBeUnique(column=key[0], meta=unique) if len(key) == 1
                  else gxe.ExpectCompoundColumnsToBeUnique(column_list=key, meta=unique))
    for column in table.c:
        if "vocabulary" in column.info:
            checks.append(gxe.ExpectColumnValuesToBeInSet(
                column=column.name, value_set=sorted(vocabulary(column.info["vocabulary"])),
                meta=meta(CONFORMANCE, CRITICAL,
                          f"codes of dbt_project/seeds/{column.info['vocabulary']}.csv")))
        elif isinstance(column.type, Boolean) and column.name != "is_withdrawn":
            checks.append(gxe.ExpectColumnValuesToBeInSet(
                column=column.name, value_set=[True, False],
                meta=meta(CONFORMANCE, CRITICAL, "a yes/no field")))
        for limits in value_ranges().get((table_name, column.name), []):
            checks.append(_range(column.name, limits))
    return checks


def _range(column: str, limits) -> gxe.Expectation:
    options = {}
    if limits.when is not None:
        field, op, value = limits.when
        parameter = float(value) if value.replace(".", "", 1).isdigit() else value
        compare = {"=": Column.__eq__}.get(op, OPERATORS[op])
        options = {"row_condition": compare(Column(field), parameter)}
    return gxe.ExpectColumnValuesToBeBetween(
        column=column,
        min_value=float(limits.minimum) if limits.minimum is not None else None,
        max_value=float(limits.maximum) if limits.maximum is not None else None,
        meta=meta(PLAUSIBILITY, CRITICAL, f"etl/reference/value_ranges.csv: {limits.why}"),
        **options)


def date_order(earlier: str, later: str, severity: str, why: str) -> gxe.Expectation:
    """``later`` is on or after ``earlier`` where both are known."""
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=later, column_B=earlier, or_equal=True, ignore_row_if="either_value_is_missing",
        meta=meta(PLAUSIBILITY, severity, why))


# Where each record came from: kept on the frames derived from records, so that gate 1
# names a failing one by its file and row
RECORD_SOURCE = ["source_file", SOURCE_ROW]


def with_source(records: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``columns`` of ``records``, and where each came from (when the frame says so)."""
    return records.reindex(columns=[*columns, *(c for c in RECORD_SOURCE if c in records)])


def patient_dates(tables: dict[str, pd.DataFrame], frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the patient's diagnosis date, birth year and death date beside it."""
    patients = tables.get("patient", pd.DataFrame(columns=["patient_pseudonym"]))
    vital = tables.get("vital_status", pd.DataFrame(columns=["patient_pseudonym"]))
    facts = patients.reindex(columns=["patient_pseudonym", "diagnosis_date", "birth_year"])
    deaths = vital.reindex(columns=["patient_pseudonym", "death_date"])
    return frame.merge(facts, on="patient_pseudonym", how="left").merge(
        deaths, on="patient_pseudonym", how="left")
