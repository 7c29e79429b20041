"""olyscrape's benchmarks: ``python benchmarks/run.py`` (see ``benchmarks/README.md``).

Each benchmark lives in its own module (``bench_*.py``) and measures olyscrape against a
baseline run on the same machine in the same run; :mod:`benchmarks.common` holds the
shared timing, machine description, generated site and subprocess helpers.
"""
