"""Ingest dense image descriptions (JSON Lines, ImageInWords format) into the normalized schema.

Reads params `ingest.image_descriptions`; writes
data/interim/ingest/image_descriptions/{examples,quarantine}.parquet and the counts
reports/metrics/ingest_image_descriptions.json (per file and total:
raw_records == records_used + quarantined, examples, quarantine_reasons).
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from curation.bookkeeping import IngestResult
from curation.image_descriptions import read_image_descriptions
from curation.io import load_params, write_json, write_parquet

OUT_DIR = Path("data/interim/ingest/image_descriptions")
METRICS = Path("reports/metrics/ingest_image_descriptions.json")


def main() -> None:
    params = load_params()["ingest"]["image_descriptions"]
    result = IngestResult()
    seen_keys: set[str] = set()  # an image described in two files is kept once, where first read
    for path in tqdm(params["files"], desc="image_descriptions", unit=" file"):
        described = read_image_descriptions(
            path,
            text_field=params["text_field"],
            key_field=params["key_field"],
            license=params["license"],
            seen_keys=seen_keys,
        )
        result.add_file(
            described.raw_file,
            raw_records=described.raw_records,
            records_used=len(described.examples),
            examples=described.examples,
            quarantined=described.quarantined,
        )
    write_parquet(result.examples_table(), OUT_DIR / "examples.parquet")
    write_parquet(result.quarantine_table(), OUT_DIR / "quarantine.parquet")
    write_json(result.metrics(), METRICS)


if __name__ == "__main__":
    main()
