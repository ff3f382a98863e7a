"""Ingest YouDescribe audio descriptions (YuWA CSV exports and API v1 JSON) into the normalized schema.

Reads params `ingest.youdescribe`; writes data/interim/ingest/youdescribe/{examples,quarantine}.parquet
and the counts reports/metrics/ingest_youdescribe.json (per file and total:
raw_records == records_used + quarantined, examples, quarantine_reasons).
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from curation.io import InputFileError, load_params, write_json, write_parquet
from curation.windows import WindowPolicy
from curation.youdescribe import ingest_youdescribe, read_api_json, read_yuwa_csv

OUT_DIR = Path("data/interim/ingest/youdescribe")
METRICS = Path("reports/metrics/ingest_youdescribe.json")


def main() -> None:
    params = load_params()["ingest"]["youdescribe"]
    policy = WindowPolicy.from_params(params["window"], "ingest.youdescribe.window")
    # CSV exports first (in params order), then API responses (sorted): a clip seen twice is
    # kept where it was first read, so this order decides which copy wins.
    json_files: list[Path] = []
    if params.get("api_json_dir"):  # null / "" when a run has only CSV exports
        json_dir = Path(params["api_json_dir"])
        if not json_dir.is_dir():
            raise InputFileError(json_dir, "folder not found", "check ingest.youdescribe.api_json_dir in params.yaml")
        json_files = sorted(json_dir.glob("*.json"))
    clip_files = [read_yuwa_csv(path) for path in tqdm(params["csv_files"], desc="youdescribe csv", unit=" file")]
    clip_files += [read_api_json(path) for path in tqdm(json_files, desc="youdescribe api json", unit=" file")]

    result = ingest_youdescribe(clip_files, policy, params["license"])
    write_parquet(result.examples_table(), OUT_DIR / "examples.parquet")
    write_parquet(result.quarantine_table(), OUT_DIR / "quarantine.parquet")
    write_json(result.metrics(), METRICS)


if __name__ == "__main__":
    main()
