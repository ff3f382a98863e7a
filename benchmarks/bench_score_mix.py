"""Score and mix at LVD-2M scale: wall time and peak memory of the real stages.

    python -m benchmarks.bench_ingest_filter --rows 2000000 --workdir /tmp/vn-bench --keep
    python -m benchmarks.bench_score_mix --workdir /tmp/vn-bench

Run from the repository root. Runs the score stage on the filter output that bench_ingest_filter
left in the workdir (~2M kept examples), then the mix stage for a real-profile mixture (50,000
examples). The dedup stage sits between them in the pipeline; its own benchmark (bench_dedup) times
near-duplicate search at 2M, so here every scored example stands in for a deduplicated one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

import polars as pl
import yaml

from benchmarks.bench_ingest_filter import run_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/vn-bench"))
    parser.add_argument("--size", type=int, default=50_000, help="mixture size (real profile: 10K to 50K)")
    args = parser.parse_args()
    workdir = args.workdir
    kept = workdir / "data/interim/filter/kept.parquet"
    if not kept.exists():
        raise SystemExit(f"{kept} not found: run `python -m benchmarks.bench_ingest_filter --keep --workdir {workdir}` "
                         "first")

    params = yaml.safe_load((workdir / "params.yaml").read_text())
    repo_params = yaml.safe_load((Path(__file__).resolve().parents[1] / "params.yaml").read_text())
    for section in ("score", "data"):
        params[section] = repo_params[section]
    params["data"]["mix"] = {"lvd2m": 1.0, "size": args.size, "seed": 0}  # the synthetic release is LVD-2M only
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))

    results: dict[str, object] = {"rows": pl.scan_parquet(kept).select(pl.len()).collect().item()}
    results["score"] = run_stage(workdir, "score")
    deduped = workdir / "data/interim/dedup/deduped.parquet"
    deduped.parent.mkdir(parents=True, exist_ok=True)
    deduped.unlink(missing_ok=True)
    deduped.symlink_to(workdir / "data/interim/score/scored.parquet")
    results["mix"] = run_stage(workdir, "mix")
    for name in ("score", "mix"):
        stage = results[name]
        assert isinstance(stage, dict)
        stage.pop("log")
        stage["wall_s"] = round(stage["wall_s"], 1)
        stage["peak_rss_gib"] = round(stage["peak_rss_gib"], 2)
    results["score_plus_mix_s"] = round(results["score"]["wall_s"] + results["mix"]["wall_s"], 1)  # type: ignore[index]
    results["mixture"] = json.loads((workdir / "reports/metrics/mixture.json").read_text())
    results["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
