"""Ingest YouDescribe audio descriptions (YuWA CSV exports and API v1 JSON) into the normalized schema.

Reads params `ingest.youdescribe`; writes data/interim/ingest/youdescribe/{examples,quarantine}.parquet
and the counts data/interim/ingest/youdescribe/counts.json (per file and total:
raw_records == records_used + quarantined, examples, quarantine_reasons).
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from curation.io import find_inputs, load_params, write_json, write_parquet
from curation.windows import WindowPolicy
from curation.youdescribe import ingest_youdescribe, read_api_json, read_yuwa_csv

OUT_DIR = Path("data/interim/ingest/youdescribe")
COUNTS = OUT_DIR / "counts.json"  # per file and total; the filter stage folds the totals into the funnel


def main() -> None:
    params = load_params()["ingest"]["youdescribe"]
    policy = WindowPolicy.from_params(params["window"], "ingest.youdescribe.window")
    # CSV exports first, then API responses (each sorted): a clip seen twice is kept where
    # it was first read, so this order decides which copy wins.
    where = "ingest.youdescribe"
    csv_files = find_inputs(params["dir"], params["csv_pattern"], where) if params.get("csv_pattern") else []
    json_files = find_inputs(params["dir"], params["api_json_pattern"], where) if params.get("api_json_pattern") else []
    clip_files = [read_yuwa_csv(path) for path in tqdm(csv_files, desc="youdescribe csv", unit=" file")]
    clip_files += [read_api_json(path) for path in tqdm(json_files, desc="youdescribe api json", unit=" file")]

    result = ingest_youdescribe(clip_files, policy, params["license"])
    write_parquet(result.examples_table(), OUT_DIR / "examples.parquet")
    write_parquet(result.quarantine_table(), OUT_DIR / "quarantine.parquet")
    write_json(result.metrics(), COUNTS)


if __name__ == "__main__":
    main()
