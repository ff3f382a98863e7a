"""Performance benchmarks: wall time, throughput and peak memory of the pipeline's code at real scale.

Run from the repository root as modules, e.g. `python -m benchmarks.bench_dedup`; each module's
docstring gives its command lines. Research questions (what the narrator can learn, how high a
score can go) are in experiments/.
"""
