"""Filter the ingested examples of every source.

Reads params `filter` and data/interim/ingest/<source>/examples.parquet; writes
data/interim/filter/kept.parquet, data/interim/filter/rejects.parquet (with reason codes)
the funnel reports/metrics/funnel.json (per source, raw records -> quarantined ->
examples -> rejected -> kept, with reason counts; examples = kept + rejected is checked
here) and data/interim/filter/languages.json (language label counts per source).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from curation.filters import FilterConfig, reject_reasons
from curation.io import load_params, write_json
from curation.language import LanguageCache, identify_languages, langdetect_id
from curation.schema import FILTERED_SCHEMA, REJECT_SCHEMA, SOURCES, conform, text_hash

INGEST_DIR = Path("data/interim/ingest")
OUT_DIR = Path("data/interim/filter")
FUNNEL = Path("reports/metrics/funnel.json")
BATCH_ROWS = 200_000  # bounds memory on a 2M-row release (~1 GB a batch with raw captions)


def main() -> None:
    params = load_params()["filter"]
    config = FilterConfig.from_params(params)
    language = params["language"]
    cache = LanguageCache(language.get("cache"), langdetect_id(int(language["seed"])))
    OUT_DIR.mkdir(parents=True, exist_ok=True)

    funnel: dict[str, dict[str, object]] = {}
    details: dict[str, dict[str, object]] = {}  # not metrics: useful to read, too many to compare
    with (
        pq.ParquetWriter(OUT_DIR / "kept.parquet", FILTERED_SCHEMA, compression="zstd") as kept_writer,
        pq.ParquetWriter(OUT_DIR / "rejects.parquet", REJECT_SCHEMA, compression="zstd") as reject_writer,
    ):
        for source in SOURCES:
            examples_path = INGEST_DIR / source / "examples.parquet"
            if not examples_path.is_file():
                continue
            ingest = json.loads((INGEST_DIR / source / "counts.json").read_text())["total"]
            counts = {"examples": 0, "kept": 0, "rejected": 0}
            reasons: Counter[str] = Counter()
            languages: Counter[str] = Counter()
            how_identified: Counter[str] = Counter()
            parquet = pq.ParquetFile(examples_path)
            with tqdm(total=parquet.metadata.num_rows, desc=f"filter {source}", unit=" rows") as progress:
                for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
                    frame = pl.from_arrow(pa.Table.from_batches([batch]))
                    assert isinstance(frame, pl.DataFrame)
                    hashes = frame.get_column("text").map_elements(text_hash, return_dtype=pl.String)
                    labels, how = identify_languages(
                        frame.get_column("text"),
                        hashes,
                        seed=int(language["seed"]),
                        min_words=int(language["min_words"]),
                        short_text_language=config.keep_languages[0],
                        cache=cache,
                    )
                    how_identified.update(how)
                    judged = reject_reasons(frame.with_columns(labels.alias("language")), config)
                    is_kept = judged.get_column("reject_reasons").list.len() == 0
                    kept, rejected = judged.filter(is_kept), judged.filter(~is_kept)
                    kept_writer.write_table(conform(kept, FILTERED_SCHEMA))
                    reject_writer.write_table(conform(rejected, REJECT_SCHEMA))
                    counts["examples"] += judged.height
                    counts["kept"] += kept.height
                    counts["rejected"] += rejected.height
                    reasons.update(rejected.get_column("reject_reasons").explode().to_list())
                    languages.update(judged.get_column("language").to_list())
                    progress.update(judged.height)
            if counts["examples"] != counts["kept"] + counts["rejected"]:
                raise AssertionError(f"internal error: {source} funnel does not reconcile: {counts}")
            funnel[source] = {
                "raw_records": ingest["raw_records"],
                "quarantined": ingest["quarantined"],
                **counts,
                "quarantined_by_reason": ingest["quarantine_reasons"],
                "rejected_by_reason": dict(sorted(reasons.items())),
            }
            details[source] = dict(sorted(languages.items()))
            # How labels were obtained depends on the cache's state, so it is logged, not written
            # to an output: outputs must not differ between a cold and a warm run.
            print(f"language labels for {source}: {json.dumps(dict(sorted(how_identified.items())))}", file=sys.stderr)
    cache.save()
    totals = {key: sum(int(f[key]) for f in funnel.values()) for key in ("raw_records", "quarantined", "examples", "kept", "rejected")}  # type: ignore[arg-type]
    write_json({"total": totals, "sources": funnel}, FUNNEL)
    write_json(details, OUT_DIR / "languages.json")


if __name__ == "__main__":
    main()
