"""SQL text for the statements DuckDB cannot take parameters in (ATTACH, COMMENT ON, COPY
targets, generated column expressions): quoting in one place."""


def literal(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (any characters, case kept)."""
    return '"' + name.replace('"', '""') + '"'
