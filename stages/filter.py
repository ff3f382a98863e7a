"""Filter the ingested examples of every source.

Reads params `filter` and every source's ingested examples (<ingest>/<source>/examples.parquet
and counts.json); writes kept.parquet, rejects.parquet (with reason codes) and languages.json
(language label counts per source) into --out, and the funnel (per source, raw records ->
quarantined -> examples -> rejected -> kept, with reason counts; examples = kept + rejected is
checked here) to --funnel. Paths are the arguments dvc.yaml gives.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from config.params import load_params
from curation.filters import reject_reasons
from curation.io import write_json
from curation.language import LanguageCache, identify_languages, langdetect_id
from curation.schema import FILTERED_SCHEMA, REJECT_SCHEMA, SOURCES, conform

BATCH_ROWS = 200_000  # bounds memory on a 2M-row release (~1 GB a batch with raw captions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ingest", type=Path, required=True, help="folder of the ingest stages' outputs, one per source")
    parser.add_argument("--out", type=Path, required=True, help="folder for kept, rejects and languages")
    parser.add_argument("--funnel", type=Path, required=True, help="funnel metrics JSON")
    args = parser.parse_args()
    config = load_params().filter
    language = config.language
    cache = LanguageCache(language.cache, langdetect_id(language.seed))
    args.out.mkdir(parents=True, exist_ok=True)

    funnel: dict[str, dict[str, object]] = {}
    details: dict[str, dict[str, object]] = {}  # not metrics: useful to read, too many to compare
    with (
        pq.ParquetWriter(args.out / "kept.parquet", FILTERED_SCHEMA, compression="zstd") as kept_writer,
        pq.ParquetWriter(args.out / "rejects.parquet", REJECT_SCHEMA, compression="zstd") as reject_writer,
    ):
        for source in SOURCES:
            examples_path = args.ingest / source / "examples.parquet"
            if not examples_path.is_file():
                continue
            ingest = json.loads((args.ingest / source / "counts.json").read_text())["total"]
            counts = {"examples": 0, "kept": 0, "rejected": 0}
            reasons: Counter[str] = Counter()
            languages: Counter[str] = Counter()
            how_identified: Counter[str] = Counter()
            parquet = pq.ParquetFile(examples_path)
            with tqdm(total=parquet.metadata.num_rows, desc=f"filter {source}", unit=" rows") as progress:
                for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
                    frame = pl.from_arrow(pa.Table.from_batches([batch]))
                    assert isinstance(frame, pl.DataFrame)
                    labels, how = identify_languages(
                        frame.get_column("text"),
                        frame.get_column("text_hash"),
                        seed=language.seed,
                        min_words=language.min_words,
                        short_text_language=language.keep[0],
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
    write_json({"total": totals, "sources": funnel}, args.funnel)
    write_json(details, args.out / "languages.json")


if __name__ == "__main__":
    main()
