"""stages/ingest.py on the sample dumps of every source: the books balance, every example has
its text hash, the order is the source's, and a rerun writes the same bytes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from curation.schema import EXAMPLE_SCHEMA, QUARANTINE_SCHEMA, SOURCES, text_hash

REPO = Path(__file__).resolve().parents[1]
STAGE = REPO / "stages" / "ingest.py"
OUTPUTS = ("examples.parquet", "quarantine.parquet", "counts.json")


def run_stage(source: str, out: Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(STAGE), "--source", source, "--out", str(out)],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each source ingested once from the repository's params.yaml (the sample world)."""
    root = tmp_path_factory.mktemp("ingest")
    for source in SOURCES:
        done = run_stage(source, root / source)
        assert done.returncode == 0, done.stderr
    return {source: root / source for source in SOURCES}


def read_outputs(out: Path) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
    counts = json.loads((out / "counts.json").read_text(encoding="utf-8"))
    return pq.read_table(out / "examples.parquet"), pq.read_table(out / "quarantine.parquet"), counts


@pytest.mark.parametrize("source", SOURCES)
def test_counts_reconcile_with_the_written_rows(outputs: dict[str, Path], source: str) -> None:
    examples, quarantine, counts = read_outputs(outputs[source])
    assert examples.schema == EXAMPLE_SCHEMA and quarantine.schema == QUARANTINE_SCHEMA
    assert examples.num_rows > 0
    for file_counts in [*counts["files"].values(), counts["total"]]:
        assert file_counts["raw_records"] == file_counts["records_used"] + file_counts["quarantined"]
        assert file_counts["quarantined"] == sum(file_counts["quarantine_reasons"].values())
    total = counts["total"]
    assert (total["examples"], total["quarantined"]) == (examples.num_rows, quarantine.num_rows)
    # Per file too: the rows written name their raw file.
    examples_per_file = Counter(examples.column("raw_file").to_pylist())
    quarantined_per_file = Counter(quarantine.column("raw_file").to_pylist())
    for raw_file, file_counts in counts["files"].items():
        assert not Path(raw_file).is_absolute()  # as given in params, relative to the repository
        assert file_counts["examples"] == examples_per_file[raw_file]
        assert file_counts["quarantined"] == quarantined_per_file[raw_file]
        reasons = Counter(q["reason"] for q in quarantine.to_pylist() if q["raw_file"] == raw_file)
        assert file_counts["quarantine_reasons"] == dict(reasons)


@pytest.mark.parametrize("source", SOURCES)
def test_every_example_has_the_hash_of_its_text(outputs: dict[str, Path], source: str) -> None:
    examples, _, _ = read_outputs(outputs[source])
    texts, hashes = examples.column("text").to_pylist(), examples.column("text_hash").to_pylist()
    assert hashes == [text_hash(text) for text in texts]


@pytest.mark.parametrize("source", SOURCES)
def test_rows_are_in_the_order_of_the_source(outputs: dict[str, Path], source: str) -> None:
    examples, quarantine, _ = read_outputs(outputs[source])
    ids = examples.column("example_id").to_pylist()
    assert len(set(ids)) == len(ids)
    if source == "lvd2m":  # streamed: in file order, then record order
        lineage = list(zip(examples.column("raw_file").to_pylist(), examples.column("raw_row").to_pylist()))
        assert lineage == sorted(lineage)
    else:
        assert ids == sorted(ids)
        rows = quarantine.to_pylist()
        keys = [(q["raw_file"], q["raw_row"] is None, q["raw_row"] or 0, q["reason"], q["raw_row_hash"]) for q in rows]
        assert keys == sorted(keys)


@pytest.mark.parametrize("source", SOURCES)
def test_a_rerun_writes_the_same_bytes(outputs: dict[str, Path], source: str, tmp_path: Path) -> None:
    done = run_stage(source, tmp_path / source)
    assert done.returncode == 0, done.stderr
    for name in OUTPUTS:
        assert (tmp_path / source / name).read_bytes() == (outputs[source] / name).read_bytes(), name


def test_unusable_input_stops_with_one_line_naming_the_file(tmp_path: Path) -> None:
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["ingest"]["lvd2m"]["dir"] = "dumps/lvd2m"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    (tmp_path / "dumps" / "lvd2m").mkdir(parents=True)
    (tmp_path / "dumps" / "lvd2m" / "release.csv").write_text("key,video_id\nk.1,v\n", encoding="utf-8")
    done = run_stage("lvd2m", tmp_path / "out", cwd=tmp_path)
    assert done.returncode != 0
    error = next(line for line in done.stderr.splitlines() if line.startswith("curation.io.InputFileError"))
    assert "dumps/lvd2m/release.csv: missing required column(s)" in error


def test_unknown_source_is_refused() -> None:
    done = run_stage("vimeo", Path("unused"))
    assert done.returncode == 2 and "invalid choice: 'vimeo'" in done.stderr
