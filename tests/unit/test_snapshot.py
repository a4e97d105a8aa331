"""How tonight's rows reach DuckDB for the merge."""

from datetime import date
from decimal import Decimal

import pandas as pd
import pyarrow as pa

from etl.snapshot import _columnar


def test_rows_reach_duckdb_as_typed_arrow_columns_with_their_values():
    rows = pd.DataFrame({"sample_date": [date(2024, 1, 2), None],
                         "value": [Decimal("7.40"), None], "unit": ["GBq", None],
                         "is_target": [True, None]})
    table = _columnar(rows)
    assert isinstance(table, pa.Table)
    assert table.schema.field("sample_date").type == pa.date32()
    assert pa.types.is_decimal(table.schema.field("value").type)
    assert table.to_pydict() == {"sample_date": [date(2024, 1, 2), None],
                                 "value": [Decimal("7.40"), None], "unit": ["GBq", None],
                                 "is_target": [True, None]}


def test_a_column_mixing_types_is_left_to_duckdb_as_pandas():
    rows = pd.DataFrame({"value": [1, "one"]})
    assert _columnar(rows) is rows


def test_tonights_rows_are_cast_to_the_stored_types_and_a_missing_column_is_null():
    from etl.snapshot import _typed

    sql = _typed({"sample_date": "DATE", "value": "DECIMAL(12,4)", "unit": "VARCHAR"},
                 pd.Index(["unit", "sample_date"]))
    assert sql == ('SELECT CAST("sample_date" AS DATE) AS "sample_date", '
                   'CAST(NULL AS DECIMAL(12,4)) AS "value", '
                   'CAST("unit" AS VARCHAR) AS "unit" FROM incoming_frame')
