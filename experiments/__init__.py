"""Research probes: scripts that ask the pipeline a question and print the answer (see README.md here).

Run from the repository root as modules, e.g. `python -m experiments.probe_tiny_narrator --help`.
"""
