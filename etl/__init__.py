"""PRRT outcomes warehouse: extract centre deliveries, gate, build with dbt, publish."""
