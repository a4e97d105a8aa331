{#- An episode's window ends the day before the next episode's C1D1, or is open
    (derivations, "Conventions"): does ``date_column`` fall before that end? -#}
{% macro before_next_episode(date_column, episodes='episodes') -%}
    ({{ episodes }}.next_episode_c1d1_date is null
     or {{ date_column }} < {{ episodes }}.next_episode_c1d1_date)
{%- endmacro %}
