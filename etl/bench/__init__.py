"""Benchmarks at registry scale (``prrt bench``, ``make bench``): whole ``prrt`` processes
against the physical floor (DuckDB reading the same files) and a naive hand-written
extract, with wall time, CPU time and peak memory. Results: ``bench/results/``."""
