{#- Marts rebuilt per patient: on a night after the first, only the patients whose raw
    records changed since the mart was last built have their rows derived again.

    Every such mart derives a patient's rows from that patient's raw records alone (plus
    seeds and vars), so the rows of a patient whose records did not change are the ones
    a full build would make. A patient's records of one raw table are known by their
    current versions' ids: how many, the largest and an xor of their hashes. Ids come
    from a sequence and are never reused, so a new, changed or returning record adds a
    larger id and a withdrawn one lowers the count; the xor tells a raw rebuilt from
    scratch. Which raw tables a mart reads is found in dbt's graph, not listed by hand.

    The pre-hook finds the changed patients and deletes their rows; the model selects
    only their rows and appends them (``for_changed_patients`` on every input holding
    patients' rows: DuckDB does not push a join's filter into views, and an input that
    makes rows, left whole, would add the unchanged patients' rows again, which the
    marts' uniqueness tests would fail); the post-hook remembers the records the rows
    were derived from, in the same transaction as the rows. Code, seeds and vars are
    judged by the pipeline: it passes the project's digest as the var ``project_digest``
    and builds with --full-refresh when the digest differs from the one stored here
    (``etl/transform.py``). -#}

{#- The configuration of such a mart; its model calls this instead of config(). -#}
{% macro rebuilt_per_patient() -%}
    {{ config(materialized='incremental', incremental_strategy='append',
              on_schema_change='fail',
              pre_hook="{{ scope_to_changed_patients() }}",
              post_hook="{{ remember_patient_records() }}") }}
{%- endmacro %}

{% macro _changed_patients_table() -%}
    {{ model.name }}__changed_patients
{%- endmacro %}

{% macro _patient_records_table() -%}
    {{ model.name }}__patient_records
{%- endmacro %}

{#- The sources (raw tables) the current model reads, directly or through other models. -#}
{% macro _raw_sources_of_model() -%}
    {%- set seen = [] -%}
    {%- set queue = [model.unique_id] -%}
    {%- set sources = [] -%}
    {%- for node_id in queue -%}
        {%- if node_id.startswith('source.') -%}
            {%- do sources.append(graph.sources[node_id]) -%}
        {%- elif node_id in graph.nodes -%}
            {%- for parent in graph.nodes[node_id].depends_on.nodes -%}
                {%- if parent not in seen -%}
                    {%- do seen.append(parent) -%}
                    {%- do queue.append(parent) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(sources | unique(attribute='name') | sort(attribute='name')) }}
{%- endmacro %}

{#- Pre-hook: the state tables, the patients' current records of the raw tables the model
    reads and, when the mart is kept, the changed patients, whose rows are deleted. -#}
{% macro scope_to_changed_patients() %}
    {%- set sources = _raw_sources_of_model() if execute else [] -%}
    {%- if execute and not sources -%}
        {{ exceptions.raise_compiler_error(model.name ~ " reads no raw table: nothing to scope by patient") }}
    {%- endif %}
    create schema if not exists build_state;
    create table if not exists build_state.patient_records (
        model varchar, source_table varchar, site varchar, patient_pseudonym varchar,
        records bigint, last_raw_id bigint, raw_id_xor ubigint);
    create table if not exists build_state.incremental_build (
        model varchar primary key, project_digest varchar, built_at timestamp);
    create or replace temp table {{ _patient_records_table() }} as
    {% for raw_table in sources -%}
        select '{{ raw_table.name }}' as source_table, site, patient_pseudonym, count(*) as records,
               max(raw_id) as last_raw_id, bit_xor(hash(raw_id)) as raw_id_xor
        from {{ raw_table.relation_name }}
        where valid_to is null and not is_withdrawn
        group by site, patient_pseudonym
        {% if not loop.last %}union all{% endif %}
    {% endfor %};
    {% if is_incremental() %}
    create or replace temp table {{ _changed_patients_table() }} as
    select distinct coalesce(tonight.site, built.site) as site,
           coalesce(tonight.patient_pseudonym, built.patient_pseudonym) as patient_pseudonym
    from {{ _patient_records_table() }} as tonight
    full join (select * from build_state.patient_records where model = '{{ model.name }}') as built
        on tonight.source_table = built.source_table and tonight.site = built.site
        and tonight.patient_pseudonym = built.patient_pseudonym
    where tonight.records is distinct from built.records
        or tonight.last_raw_id is distinct from built.last_raw_id
        or tonight.raw_id_xor is distinct from built.raw_id_xor;
    delete from {{ this }}
    where not exists (select 1 from build_state.incremental_build where model = '{{ model.name }}')
        or (site, patient_pseudonym) in (select site, patient_pseudonym from {{ _changed_patients_table() }});
    {% endif %}
{% endmacro %}

{#- Post-hook, inside the model's transaction: the records this build derived from. -#}
{% macro remember_patient_records() %}
    delete from build_state.patient_records where model = '{{ model.name }}';
    insert into build_state.patient_records
    select '{{ model.name }}', source_table, site, patient_pseudonym, records, last_raw_id,
           raw_id_xor
    from {{ _patient_records_table() }};
    insert or replace into build_state.incremental_build
    values ('{{ model.name }}', '{{ var("project_digest", "unknown") }}', now());
{% endmacro %}

{#- ``relation`` as the model reads it: only the changed patients' rows when the mart is
    kept and updated, every row when it is built whole. -#}
{% macro for_changed_patients(relation) -%}
    {%- if is_incremental() -%}
        (select * from {{ relation }}
         where (site, patient_pseudonym) in
             (select site, patient_pseudonym from {{ _changed_patients_table() }}))
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
