{#- Use the configured schema name as is (staging, intermediate, marts, codes), not
    dbt's default "<target>_<custom>", so analysts see stable schema names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name else target.schema }}
{%- endmacro %}
