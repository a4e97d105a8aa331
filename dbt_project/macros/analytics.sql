{#- A relation named without its database, for views that are copied into the release:
    DuckDB resolves an unqualified schema.table inside a view in the view's own file, so
    analytics views read the release's marts, not the build file's. -#}
{% macro published(relation) -%}
    {{ relation.include(database=false) }}
{%- endmacro %}

{#- Post-hook of an analytics view: give its columns the comments of the same columns of
    the mart it reads, so SQL clients see one description per column, written once. -#}
{% macro inherit_column_comments(source) -%}
    {%- if execute -%}
        {%- set comments = run_query(
            "select s.column_name, s.comment from duckdb_columns() s"
            ~ " join duckdb_columns() v on v.column_name = s.column_name"
            ~ " and v.database_name = s.database_name"
            ~ " and v.schema_name = '" ~ this.schema ~ "' and v.table_name = '" ~ this.identifier ~ "'"
            ~ " where s.database_name = current_database() and s.schema_name = '" ~ source.schema ~ "'"
            ~ " and s.table_name = '" ~ source.identifier ~ "' and s.comment is not null") -%}
        {%- for row in comments.rows %}
        comment on column {{ this }}."{{ row[0] }}" is '{{ row[1] | replace("'", "''") }}';
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}
