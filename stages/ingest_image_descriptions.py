"""Ingest dense image descriptions (JSON Lines, ImageInWords format) into the normalized schema.

Reads params `ingest.image_descriptions`; writes
data/interim/ingest/image_descriptions/{examples,quarantine}.parquet and the counts
data/interim/ingest/image_descriptions/counts.json (per file and total:
raw_records == records_used + quarantined, examples, quarantine_reasons).
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from curation.bookkeeping import IngestResult
from curation.image_descriptions import read_image_descriptions
from curation.io import find_inputs, load_params, write_json, write_parquet

OUT_DIR = Path("data/interim/ingest/image_descriptions")
COUNTS = OUT_DIR / "counts.json"  # per file and total; the filter stage folds the totals into the funnel


def main() -> None:
    params = load_params()["ingest"]["image_descriptions"]
    result = IngestResult()
    seen_keys: set[str] = set()  # an image described in two files is kept once, where first read
    paths = find_inputs(params["dir"], params["pattern"], "ingest.image_descriptions")
    for path in tqdm(paths, desc="image_descriptions", unit=" file"):
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
    write_json(result.metrics(), COUNTS)


if __name__ == "__main__":
    main()
