"""Ingest and filter an LVD-2M-sized dump; report wall time, rows/s and peak memory.

    python -m benchmarks.bench_ingest_filter --rows 2000000 --workdir /tmp/vn-bench

Synthesizes a release CSV in the LVD-2M column layout (refined_caption mean ~89 words as in
the paper; raw_caption a long LLaVA-style paragraph with `Caption x:` parts for clips over
30 s; 1% non-English rows; a hallucinated caption repeated on 0.2% of rows), then runs the
real stages (dvc.yaml's ingest@lvd2m and filter commands) as
subprocesses in a scratch project, three times for filter: cold (empty language cache), warm
(cache from the cold run, unchanged text), and the English-screen agreement check on a sample.
Peak memory is the maximum resident set size of each stage process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from tests.stage_commands import stage_argv

REPO = Path(__file__).resolve().parents[1]

# Caption grammar: template sentences with the function-word density of real captions.
OPENINGS = ["The video shows", "The video captures", "In this scene we see", "The clip begins with", "Next,",
            "Meanwhile,", "The footage then shows", "Later in the clip,", "At the end of the video,"]
SUBJECTS = ["a man", "a woman", "a young girl", "a group of people", "a small dog", "a cyclist", "two children",
            "an elderly man", "a red car", "a street performer", "a tall person in a blue jacket", "a black cat"]
VERBS = ["walking along", "standing near", "moving slowly toward", "sitting beside", "running across", "looking at",
         "holding a cup near", "passing in front of", "driving down", "waiting at", "dancing next to", "pointing at"]
OBJECTS = ["a busy street", "the edge of a lake", "a wooden table", "the entrance of a building", "a green field",
           "the kitchen counter", "a crowded market", "the beach at sunset", "a snowy hill", "a parked bicycle",
           "an old stone bridge", "the window of a small shop"]
MODIFIERS = ["while the camera pans to the left", "as the light slowly changes", "with trees in the background",
             "under a cloudy grey sky", "as people pass by in the distance", "in a slow motion shot",
             "before the scene shifts to a close-up", "and the camera stays still", "with music playing",
             "while cars move along the road behind them"]


def _paragraph(rng: np.random.Generator) -> str:
    sentences, words = [], 0
    target = int(np.clip(rng.normal(89, 25), 25, 250))
    while words < target:
        parts = [rng.choice(OPENINGS), rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS)]
        if rng.random() < 0.7:
            parts.append(rng.choice(MODIFIERS))
        sentence = " ".join(parts) + "."
        sentences.append(sentence)
        words += len(sentence.split())
    return " ".join(sentences)


FOREIGN = [
    "El video muestra a una persona caminando por la calle mientras la cámara se mueve lentamente hacia la "
    "izquierda y el cielo está nublado sobre los edificios de la ciudad.",
    "La vidéo montre une femme assise à une table dans une cuisine lumineuse pendant que la caméra zoome "
    "lentement vers son visage et que des gens passent derrière elle.",
    "Das Video zeigt einen Mann, der mit seinem Hund durch einen Park läuft, während die Kamera ihnen langsam "
    "von hinten folgt und die Sonne durch die Bäume scheint.",
]
HALLUCINATION = (
    "The video captures a chef preparing a meal in a modern kitchen, chopping vegetables on a wooden board "
    "and stirring a pot on the stove while steam rises into the warm light of the room."
)


def synthesize(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    # A pool of distinct paragraphs, each row adds its own clip number: every text is unique,
    # as in the release, so neither the language cache nor dedup gets a free ride.
    pool_size = 20_000
    pool = [_paragraph(rng) for _ in range(pool_size)]
    raw_pool = [_paragraph(rng) for _ in range(pool_size)]
    index = np.arange(rows)
    video_time = np.round(rng.gamma(4.0, 5.0, rows) + 10.0, 3)  # min 10 s, mean ~30 s
    start = np.round(rng.uniform(0, 600, rows), 3)
    pick = rng.integers(0, pool_size, rows)
    frame = pl.DataFrame({"i": index, "pick": pick, "video_time": video_time, "start": start}).with_columns(
        pl.format("vid{}", (pl.col("i") // 3)).alias("video_id"),
    )
    refined = pl.Series(pool).gather(frame["pick"])
    raw = pl.Series(raw_pool).gather(frame["pick"])
    foreign = rng.random(rows) < 0.01
    hallucinated = rng.random(rows) < 0.002
    frame = frame.with_columns(
        (pl.col("video_id") + "." + pl.col("i").cast(pl.String) + "_0").alias("key"),
        ("https://www.youtube.com/watch?v=" + pl.col("video_id")).alias("url"),
        pl.lit("panda70m").alias("dataset_src"),
        pl.format("clip {} of a scene", pl.col("i")).alias("orig_caption"),
        pl.when(pl.col("video_time") > 30)
        .then(pl.format("Caption 1: {} Caption 2: {}", raw, raw))
        .otherwise(raw)
        .alias("raw_caption"),
        pl.when(pl.Series(hallucinated))
        .then(pl.lit("CAPTION: " + HALLUCINATION))
        .when(pl.Series(foreign))
        .then(pl.format("{} Clip {}.", pl.Series(FOREIGN).gather(pl.Series(pick % 3)), pl.col("i")))
        .otherwise(pl.format("{} Clip {}.", refined, pl.col("i")))
        .alias("refined_caption"),
        pl.format("A short prompt for clip {}", pl.col("i")).alias("rewritten_caption"),
        pl.Series("total score", np.round(20 + rng.gamma(2.0, 10.0, rows), 3)),
        pl.format(
            "['{}', '{}']",
            _timestamp(pl.col("start")),
            _timestamp(pl.col("start") + pl.col("video_time")),
        ).alias("span"),
    )
    columns = ["key", "video_id", "url", "dataset_src", "orig_caption", "raw_caption", "refined_caption",
               "rewritten_caption", "total score", "video_time", "span"]
    frame.select(columns).write_csv(path)


def _timestamp(seconds: pl.Expr) -> pl.Expr:
    hours = (seconds // 3600).cast(pl.Int64)
    minutes = ((seconds % 3600) // 60).cast(pl.Int64)
    secs = seconds % 60
    return pl.format(
        "{}:{}:{}",
        hours.cast(pl.String).str.zfill(2),
        minutes.cast(pl.String).str.zfill(2),
        secs.round(3).cast(pl.String).str.split(".").list.first().str.zfill(2)
        + "."
        + ((secs * 1000).round(0).cast(pl.Int64) % 1000).cast(pl.String).str.zfill(3),
    )


def run_stage(workdir: Path, name: str, **item: str) -> dict[str, float]:
    """Run dvc.yaml's stage `name` (its command, e.g. item key="lvd2m" for ingest@lvd2m) in `workdir`;
    return wall seconds and the process's peak RSS in GiB."""
    started = time.perf_counter()
    # /usr/bin/time would be simpler, but is not on every machine: measure via a wrapper process.
    wrapper = (
        "import resource, runpy, sys; sys.argv=sys.argv[1:]; "
        "runpy.run_path(sys.argv[0], run_name='__main__'); "
        "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)"
    )
    argv = stage_argv(name, workdir / "params.yaml", **item)
    result = subprocess.run(
        [sys.executable, "-c", wrapper, *argv[1:]],
        cwd=workdir,
        env={**os.environ, "TQDM_DISABLE": "1"},
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{name} failed:\n{result.stderr[-4000:]}")
    line = [ln for ln in result.stderr.splitlines() if ln.startswith("PEAK_RSS_KB")][-1]
    own_kb, children_kb = (int(x) for x in line.split()[1:])
    log = [json.loads(ln.split(": ", 1)[1]) for ln in result.stderr.splitlines() if ln.startswith("language labels")]
    return {"wall_s": wall, "peak_rss_gib": max(own_kb, children_kb) / 2**20, "log": log}


def english_screen_agreement(csv_path: Path, sample: int = 3000) -> dict[str, float]:
    """On texts the English screen labels "en", how often does langdetect agree?"""
    from curation.language import detect_languages_with_langdetect, english_screen

    texts = pl.read_csv(csv_path, n_rows=200_000, columns=["refined_caption"]).get_column("refined_caption")
    texts = texts.sample(min(sample, texts.len()), seed=0)
    screened = texts.filter(english_screen(texts, 4))
    labels = detect_languages_with_langdetect(screened.to_list(), seed=0, workers=2)
    return {"screened": screened.len(), "langdetect_agrees": sum(1 for x in labels if x == "en") / max(1, len(labels))}


def english_screen_on_real_text() -> dict[str, float]:
    """The same check on real human text: IIW-400 descriptions and YuWA transcripts (tests/fixtures)."""
    from curation.language import detect_languages_with_langdetect, english_screen

    fixtures = REPO / "tests" / "fixtures"
    iiw = pl.read_ndjson(fixtures / "imageinwords" / "IIW-400_data.jsonl").get_column("IIW")
    yuwa = pl.read_csv(fixtures / "youdescribe" / "yuwa_sample.csv").get_column("transcript_sentence").str.strip_chars()
    texts = pl.concat([iiw, yuwa.drop_nulls()])
    screened = texts.filter(english_screen(texts, 4))
    labels = detect_languages_with_langdetect(texts.to_list(), seed=0, workers=1)
    english = sum(1 for x in labels if x == "en")
    return {
        "texts": texts.len(),
        "langdetect_english": english,
        "screened": screened.len(),
        "langdetect_agrees_on_screened": sum(
            1 for x, s in zip(labels, english_screen(texts, 4).to_list()) if s and x == "en"
        ) / max(1, screened.len()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/vn-bench"))
    parser.add_argument("--keep", action="store_true", help="keep the synthesized dump for the next run")
    args = parser.parse_args()

    workdir = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    dump = workdir / "raw" / f"lvd2m_synth_{args.rows}.csv"
    dump.parent.mkdir(exist_ok=True)
    if not dump.exists():
        t = time.perf_counter()
        synthesize(dump, args.rows)
        print(f"synthesized {dump} ({dump.stat().st_size / 2**30:.2f} GiB) in {time.perf_counter() - t:.0f} s")
    for leftover in ("data", "reports"):
        shutil.rmtree(workdir / leftover, ignore_errors=True)

    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["ingest"]["lvd2m"].update(dir=str(dump.parent), pattern=dump.name)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))

    results = {"rows": args.rows, "csv_gib": round(dump.stat().st_size / 2**30, 2)}
    results["ingest"] = run_stage(workdir, "ingest", key="lvd2m")
    results["filter_cold"] = run_stage(workdir, "filter")
    results["filter_warm"] = run_stage(workdir, "filter")
    results["language_identified_by_cold_run"] = results["filter_cold"].pop("log")
    results["english_screen"] = english_screen_agreement(dump)
    results["english_screen_real_text"] = english_screen_on_real_text()
    results["ingest"].pop("log")
    results["language_identified_by_warm_run"] = results["filter_warm"].pop("log")
    for name in ("ingest", "filter_cold", "filter_warm"):
        results[name]["rows_per_s"] = round(args.rows / results[name]["wall_s"])
        results[name]["wall_s"] = round(results[name]["wall_s"], 1)
        results[name]["peak_rss_gib"] = round(results[name]["peak_rss_gib"], 2)
    results["machine"] = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(json.dumps(results, indent=2))
    if not args.keep:
        dump.unlink()


if __name__ == "__main__":
    main()
