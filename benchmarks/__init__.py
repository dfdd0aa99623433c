"""virtlab's benchmark suite (``make bench`` → ``python -m benchmarks``).

Each ``bench_<topic>.py`` module defines ``BENCHMARKS``, a list of
zero-argument functions returning result rows; :mod:`benchmarks.harness`
discovers and runs them, prints a table and writes ``benchmarks/results.json``.
Targets are those of design.md ("Targets").
"""
