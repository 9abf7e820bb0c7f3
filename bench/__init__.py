"""sheet2video benchmarks (``make bench`` = ``python -m bench``).

Every figure is a ratio against a reference measured side by side in the same run (or an absolute
latency / memory figure with its target), the median of at least three repetitions, with min and
max: these machines are small (2 cores) and shared, so single timings are noise. Results go to
``bench/results.json`` and the table in ``bench/README.md``; work files to ``bench/work/``.
"""
