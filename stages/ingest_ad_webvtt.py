"""Ingest WebVTT audio-description tracks into the normalized schema.

Reads params `ingest.ad_webvtt`; writes data/interim/ingest/ad_webvtt/{examples,quarantine}.parquet
and the counts data/interim/ingest/ad_webvtt/counts.json (per file and total:
raw_records == records_used + quarantined, examples, quarantine_reasons).
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from curation.bookkeeping import IngestResult
from curation.io import find_inputs, load_params, write_json, write_parquet
from curation.webvtt import track_examples
from curation.windows import WindowPolicy

OUT_DIR = Path("data/interim/ingest/ad_webvtt")
COUNTS = OUT_DIR / "counts.json"  # per file and total; the filter stage folds the totals into the funnel


def main() -> None:
    params = load_params()["ingest"]["ad_webvtt"]
    policy = WindowPolicy.from_params(params["window"], "ingest.ad_webvtt.window")
    result = IngestResult()
    paths = find_inputs(params["dir"], params["pattern"], "ingest.ad_webvtt")
    for path in tqdm(paths, desc="ad_webvtt", unit=" file"):
        track = track_examples(path, policy, params["license"])
        result.add_file(
            track.raw_file,
            raw_records=track.raw_records,
            records_used=track.records_used,
            examples=track.examples,
            quarantined=track.quarantined,
        )
    write_parquet(result.examples_table(), OUT_DIR / "examples.parquet")
    write_parquet(result.quarantine_table(), OUT_DIR / "quarantine.parquet")
    write_json(result.metrics(), COUNTS)


if __name__ == "__main__":
    main()
