"""Ingest WebVTT audio-description tracks into the normalized schema.

Reads params `ingest.ad_webvtt`; writes data/interim/ingest/ad_webvtt/{examples,quarantine}.parquet
and the counts reports/metrics/ingest_ad_webvtt.json (per file and total:
raw_records == records_used + quarantined, examples, quarantine_reasons).
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from curation.bookkeeping import IngestResult
from curation.io import InputFileError, load_params, write_json, write_parquet
from curation.webvtt import track_examples
from curation.windows import WindowPolicy

OUT_DIR = Path("data/interim/ingest/ad_webvtt")
METRICS = Path("reports/metrics/ingest_ad_webvtt.json")


def main() -> None:
    params = load_params()["ingest"]["ad_webvtt"]
    policy = WindowPolicy.from_params(params["window"], "ingest.ad_webvtt.window")
    result = IngestResult()
    track_dir = Path(params["dir"])
    if not track_dir.is_dir():
        raise InputFileError(track_dir, "folder not found", "check ingest.ad_webvtt.dir in params.yaml")
    paths = sorted(track_dir.glob(params["pattern"]))
    if not paths:
        raise InputFileError(
            track_dir, f"no file matches {params['pattern']!r}", "check ingest.ad_webvtt.pattern in params.yaml"
        )
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
    write_json(result.metrics(), METRICS)


if __name__ == "__main__":
    main()
