"""A small, fully known pipeline output for the report tests, with hostile dump text.

Two sources; every number of the funnel is chosen so the tests can check it:

    source       raw  quarantined  examples  rejected  kept  dedup dropped  after dedup  mixture (asked)
    lvd2m         12            2        10         3     7              2            5        4 (4)
    youdescribe   10            2         8         2     6              1            5        5 (6: short by 1)

`write_pipeline_files(root)` writes the same data where the pipeline would (for the stage test).
Hostile payloads (PAYLOADS) sit in a quarantined record and its detail, a reject text, a narration
text, a raw file name, a video id and a URL: each would change `document.title` to PWNED, or add
an element, if it were ever interpreted as markup.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from curation.report import ReportInputs
from curation.schema import (
    CLUSTER_SCHEMA, MIXTURE_SCHEMA, QUARANTINE_SCHEMA, REJECT_SCHEMA, SCORED_SCHEMA, conform, text_hash,
)

PWNED = "PWNED"
PAYLOADS = (
    "<script>document.title='PWNED'</script>",
    "<img src=x onerror=\"document.title='PWNED'\">",
    "\"><svg onload=\"document.title='PWNED'\">",
    "'><iframe srcdoc=\"<script>parent.document.title='PWNED'</script>\"></iframe>",
    "</td></tr></table></style></title><b id=injected>PWNED</b>",
    "&amp; &lt;b&gt; | pipe *star* [link](javascript:alert(1))",
)
# Each payload is shown in full somewhere (texts stay under the report's truncation limits):
QUARANTINE_DETAIL = f"row 3: key seen before {PAYLOADS[0]}"
QUARANTINE_RECORD = f"{PAYLOADS[1]} {PAYLOADS[4]}"
REJECT_TEXT = f"Please like and subscribe {PAYLOADS[2]} {PAYLOADS[3]}"
NARRATION = f"A narrator says {PAYLOADS[5]} {PAYLOADS[0]}"
HOSTILE_VIDEO_ID = f"vid{PAYLOADS[2]}"
HOSTILE_URL = "javascript:document.title='PWNED'"
BUCKETS = ("easy", "medium", "hard")
REPO = Path(__file__).resolve().parents[1]

FUNNEL = {
    "total": {"raw_records": 22, "quarantined": 4, "examples": 18, "kept": 13, "rejected": 5},
    "sources": {
        "lvd2m": {
            "raw_records": 12, "quarantined": 2, "examples": 10, "kept": 7, "rejected": 3,
            "quarantined_by_reason": {"bad_span": 1, "ragged_row": 1},
            "rejected_by_reason": {"language_not_kept": 1, "too_few_words": 2, "time_inverted": 1},
        },
        "youdescribe": {
            "raw_records": 10, "quarantined": 2, "examples": 8, "kept": 6, "rejected": 2,
            "quarantined_by_reason": {"duplicate_key": 2},
            "rejected_by_reason": {"boilerplate": 2},
        },
    },
}
INGEST_COUNTS = {
    "lvd2m": {
        "files": {
            "data/raw/lvd2m/a.csv": {"raw_records": 12, "records_used": 10, "examples": 10, "quarantined": 2,
                                     "quarantine_reasons": {"bad_span": 1, "ragged_row": 1}},
        },
        "total": {"raw_records": 12, "records_used": 10, "examples": 10, "quarantined": 2,
                  "quarantine_reasons": {"bad_span": 1, "ragged_row": 1}},
    },
    "youdescribe": {
        "files": {
            "data/raw/yd/<b>clips</b>.csv": {"raw_records": 10, "records_used": 8, "examples": 8, "quarantined": 2,
                                             "quarantine_reasons": {"duplicate_key": 2}},
        },
        "total": {"raw_records": 10, "records_used": 8, "examples": 8, "quarantined": 2,
                  "quarantine_reasons": {"duplicate_key": 2}},
    },
}
LANGUAGES = {"lvd2m": {"en": 9, "fr": 1}, "youdescribe": {"en": 8}}
DEDUP_METRICS = {
    "examples_in": 13, "kept": 10, "dropped_exact": 2, "dropped_near": 1, "clusters": 2, "largest_cluster": 3,
    "threshold": 0.92, "precision": 0.9, "recall": 0.75, "f1": 0.818182, "labelled_pairs": 40,
}
MANIFEST = {
    "size_asked": 10,
    "size_obtained": 9,
    "seed": 0,
    "weights_asked": {"lvd2m": 0.4, "youdescribe": 0.6, "ad_webvtt": 0.0, "image_descriptions": 0.0},
    "sources": {
        "lvd2m": {"asked": 4, "available": 5, "obtained": 4, "shortfall": 0},
        "youdescribe": {"asked": 6, "available": 5, "obtained": 5, "shortfall": 1},
        "ad_webvtt": {"asked": 0, "available": 0, "obtained": 0, "shortfall": 0},
        "image_descriptions": {"asked": 0, "available": 0, "obtained": 0, "shortfall": 0},
    },
    "splits": {},  # filled in by _mixture()
    "curriculum": {"policy": "bucketed", "buckets": list(BUCKETS)},
}


def _row(schema_names: list[str], **values: Any) -> dict[str, Any]:
    row = {name: None for name in schema_names}
    row.update(values)
    return row


def quarantine() -> pl.DataFrame:
    names = QUARANTINE_SCHEMA.names
    rows = [
        _row(names, source="lvd2m", raw_file="data/raw/lvd2m/a.csv", raw_row=7, raw_row_hash="h1", reason="bad_span",
             detail="row 7: unparseable span", raw_record="k1,\"['00:00:0x', '00:00:09']\",caption"),
        _row(names, source="lvd2m", raw_file="data/raw/lvd2m/a.csv", raw_row=9, raw_row_hash="h2", reason="ragged_row",
             detail="row 9 has 12 fields, the header has 9", raw_record="k2,a,b,c,d,e,f,g,h,i,j,k"),
        _row(names, source="youdescribe", raw_file="data/raw/yd/<b>clips</b>.csv", raw_row=3, raw_row_hash="h3",
             reason="duplicate_key", detail=QUARANTINE_DETAIL, raw_record=QUARANTINE_RECORD),
        _row(names, source="youdescribe", raw_file="data/raw/yd/<b>clips</b>.csv", raw_row=5, raw_row_hash="h4",
             reason="duplicate_key", detail="row 5: key seen before", raw_record="plain record"),
    ]
    return pl.from_arrow(conform(pl.DataFrame(rows), QUARANTINE_SCHEMA))  # type: ignore[return-value]


def _example(source: str, i: int, text: str, **extra: Any) -> dict[str, Any]:
    video = f"{source[:2]}vid{i}"
    return dict(
        example_id=f"{source}:{i}", source=source, raw_file=f"data/raw/{source}.csv", raw_row=i + 2,
        raw_row_hash=f"{source}{i}", media_kind="video", video_id=video, url=f"https://www.youtube.com/watch?v={video}",
        clip_key=str(i), clip_start_s=float(i), clip_end_s=float(i) + 4.5, text=text, text_hash=text_hash(text),
        text_field="text", segments=[],
        license="test", word_count=len(text.split()), language="en", **extra,
    )


def rejects() -> pl.DataFrame:
    rows = [
        _example("lvd2m", 100, "Un homme marche dans la rue avec son chien.", reject_reasons=["language_not_kept"]),
        _example("lvd2m", 101, "Too short.", reject_reasons=["too_few_words"]),
        _example("lvd2m", 102, "Short again.", reject_reasons=["too_few_words", "time_inverted"]),
        _example("youdescribe", 100, REJECT_TEXT, reject_reasons=["boilerplate"]),
        _example("youdescribe", 101, "Click the link below for more.", reject_reasons=["boilerplate"]),
    ]
    return pl.from_arrow(conform(pl.DataFrame(rows), REJECT_SCHEMA))  # type: ignore[return-value]


def scored() -> pl.DataFrame:
    rows = []
    for source, n in (("lvd2m", 7), ("youdescribe", 6)):
        for i in range(n):
            text = f"A person walks across a sunny park while a dog follows ({source} {i})."
            if source == "youdescribe" and i == 0:
                text = NARRATION
            difficulty = round(0.1 + 0.12 * i + (0.05 if source == "lvd2m" else 0.0), 3)
            row = _example(source, i, text)
            row.update(
                sentence_count=1, event_count=1, clip_s=4.5 + i, descriptions_per_min=13.3, idf_mean=2.0,
                type_token_ratio=0.9, stt_artefact_ratio=0.0, quality=round(0.95 - 0.05 * i, 3), difficulty=difficulty,
                difficulty_bucket=BUCKETS[min(2, i // 2)],
            )
            if source == "youdescribe" and i == 0:
                row.update(url=HOSTILE_URL, video_id=HOSTILE_VIDEO_ID)
            rows.append(row)
    return pl.from_arrow(conform(pl.DataFrame(rows), SCORED_SCHEMA))  # type: ignore[return-value]


# Dedup: cluster A (lvd2m:0 kept; lvd2m:1 exact, lvd2m:2 near), cluster B (youdescribe:0 kept; youdescribe:1 near).
DROPPED = ("lvd2m:1", "lvd2m:2", "youdescribe:1")


def clusters(scored_frame: pl.DataFrame) -> pl.DataFrame:
    members = [
        ("lvd2m:0", "lvd2m:0", True, "exact", 1.0),
        ("lvd2m:0", "lvd2m:1", False, "exact", 1.0),
        ("lvd2m:0", "lvd2m:2", False, "near", 0.951),
        ("youdescribe:0", "youdescribe:0", True, "near", 1.0),
        ("youdescribe:0", "youdescribe:1", False, "near", 0.934),
    ]
    by_id = {r["example_id"]: r for r in scored_frame.iter_rows(named=True)}
    rows = [
        dict(cluster_id=c, example_id=e, representative_id=c, is_representative=rep, match=m, similarity=sim,
             source=by_id[e]["source"], text=by_id[e]["text"], quality=by_id[e]["quality"])
        for c, e, rep, m, sim in members
    ]
    return pl.from_arrow(conform(pl.DataFrame(rows), CLUSTER_SCHEMA))  # type: ignore[return-value]


def threshold_curve() -> pl.DataFrame:
    return pl.DataFrame(
        {"threshold": [0.80, 0.85, 0.90, 0.92, 0.95], "precision": [0.6, 0.7, 0.85, 0.9, 1.0], "recall": [1.0, 0.95, 0.8, 0.75, 0.5]}
    )


def mixture(deduped: pl.DataFrame) -> pl.DataFrame:
    """lvd2m: 4 of 5 (ids 0, 3, 4, 5), youdescribe: all 5; train 7, val 1, test 1."""
    chosen = deduped.filter(pl.col("example_id") != "lvd2m:6")
    split_of = {"lvd2m:5": "val", "youdescribe:5": "test"}
    frame = chosen.with_columns(
        pl.col("example_id").replace_strict(split_of, default="train", return_dtype=pl.String).alias("split")
    )
    frame = frame.with_columns(pl.int_range(pl.len()).over("split").cast(pl.Int64).alias("curriculum_position"))
    return pl.from_arrow(conform(frame, MIXTURE_SCHEMA))  # type: ignore[return-value]


def manifest(mix: pl.DataFrame) -> dict[str, Any]:
    splits = {}
    for split in ("train", "val", "test"):
        part = mix.filter(pl.col("split") == split)
        splits[split] = {
            "examples": part.height,
            "videos": part.get_column("video_id").n_unique(),
            "by_source": {s: part.filter(pl.col("source") == s).height for s in MANIFEST["sources"]},
            "by_bucket": {b: part.filter(pl.col("difficulty_bucket") == b).height for b in BUCKETS},
        }
    return {**MANIFEST, "splits": splits}


def full_inputs() -> ReportInputs:
    """Every input present."""
    scored_frame = scored()
    deduped = scored_frame.filter(~pl.col("example_id").is_in(list(DROPPED)))
    mix = mixture(deduped)
    return ReportInputs(
        funnel=FUNNEL,
        ingest_counts=INGEST_COUNTS,
        quarantine=quarantine(),
        rejects=rejects(),
        languages=LANGUAGES,
        scored=scored_frame,
        deduped=deduped,
        clusters=clusters(scored_frame),
        threshold_curve=threshold_curve(),
        dedup_metrics=DEDUP_METRICS,
        mixture=mix,
        manifest=manifest(mix),
        difficulty_buckets=BUCKETS,
    )


def write_pipeline_files(root: Path, *, upto: str = "mix") -> None:
    """Write the inputs where the pipeline puts them, and the project's params.yaml; `upto` = "filter" |
    "score" | "mix" (the stages run so far)."""

    def parquet(frame: pl.DataFrame, path: str) -> None:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(frame.to_arrow(), root / path)

    def write(obj: Any, path: str) -> None:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(json.dumps(obj), encoding="utf-8")

    inputs = full_inputs()
    shutil.copy2(REPO / "params.yaml", root / "params.yaml")  # its score.difficulty_buckets are BUCKETS
    q = inputs.quarantine
    assert q is not None and inputs.scored is not None
    for source in ("lvd2m", "youdescribe"):
        write(INGEST_COUNTS[source], f"data/interim/ingest/{source}/counts.json")
        parquet(q.filter(pl.col("source") == source), f"data/interim/ingest/{source}/quarantine.parquet")
    write(FUNNEL, "reports/metrics/funnel.json")
    parquet(inputs.rejects, "data/interim/filter/rejects.parquet")  # type: ignore[arg-type]
    parquet(inputs.scored.select(REJECT_SCHEMA.names[:-1]), "data/interim/filter/kept.parquet")
    write(LANGUAGES, "data/interim/filter/languages.json")
    if upto == "filter":
        return
    parquet(inputs.scored, "data/interim/score/scored.parquet")
    if upto == "score":
        return
    parquet(inputs.deduped, "data/interim/dedup/deduped.parquet")  # type: ignore[arg-type]
    parquet(inputs.clusters, "data/interim/dedup/clusters.parquet")  # type: ignore[arg-type]
    (root / "data/interim/dedup/threshold_curve.csv").write_text(threshold_curve().write_csv(), encoding="utf-8")
    write(DEDUP_METRICS, "reports/metrics/dedup.json")
    assert inputs.mixture is not None
    for split in ("train", "val", "test"):
        parquet(inputs.mixture.filter(pl.col("split") == split), f"data/mixtures/{split}.parquet")
    write(inputs.manifest, "data/mixtures/manifest.json")
