"""Ingest LVD-2M release CSVs into the normalized schema.

Reads params `ingest.lvd2m`; writes data/interim/ingest/lvd2m/{examples,quarantine}.parquet
and the counts data/interim/ingest/lvd2m/counts.json (per file and total:
raw_records == records_used + quarantined, examples, quarantine_reasons).
Streams block by block, so memory stays flat on a 2-million-row release.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from curation.bookkeeping import FileCounts
from curation.io import find_inputs, load_params, write_json, write_parquet
from curation.lvd2m import SeenKeys, read_lvd2m_csv
from curation.schema import EXAMPLE_SCHEMA, QUARANTINE_SCHEMA

OUT_DIR = Path("data/interim/ingest/lvd2m")
COUNTS = OUT_DIR / "counts.json"  # per file and total; the filter stage folds the totals into the funnel


def main() -> None:
    params = load_params()["ingest"]["lvd2m"]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    seen_keys = SeenKeys()  # a clip key repeated in a later file is a duplicate too
    per_file: dict[str, FileCounts] = {}
    quarantined: list[pa.Table] = []
    with pq.ParquetWriter(OUT_DIR / "examples.parquet", EXAMPLE_SCHEMA, compression="zstd") as writer:
        for path in find_inputs(params["dir"], params["pattern"], "ingest.lvd2m"):
            examples = bad = 0
            reasons: Counter[str] = Counter()
            blocks = read_lvd2m_csv(
                path,
                caption_field=params["caption_field"],
                raw_caption_window_s=float(params["raw_caption_window_s"]),
                license=params["license"],
                seen_keys=seen_keys,
            )
            with tqdm(desc=f"ingest {Path(path).name}", unit=" rows") as progress:
                for block_examples, block_quarantine in blocks:
                    writer.write_table(block_examples)
                    quarantined.append(block_quarantine)
                    examples += block_examples.num_rows
                    bad += block_quarantine.num_rows
                    reasons.update(block_quarantine.column("reason").to_pylist())
                    progress.update(block_examples.num_rows + block_quarantine.num_rows)
            # One example per clip record: every record read is either an example or quarantined.
            per_file[str(path)] = FileCounts(examples + bad, examples, bad, examples, dict(reasons))

    write_parquet(pa.concat_tables([QUARANTINE_SCHEMA.empty_table(), *quarantined]), OUT_DIR / "quarantine.parquet")
    total = FileCounts()
    for counts in per_file.values():
        total.add(counts)
    write_json({"files": {k: c.as_dict() for k, c in per_file.items()}, "total": total.as_dict()}, COUNTS)


if __name__ == "__main__":
    main()
