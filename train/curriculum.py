"""The order training sees examples in: the mix stage's curriculum, paced over epochs, or shuffled.

The mix stage writes the train split in curriculum order (`curriculum_position`, easy to hard by
`data.curriculum.policy`). Training follows it through one explicit, multi-epoch index list:
the trainer gets `dataset.select(order)` for a single pass with a sequential sampler
(`train_sampling_strategy="sequential"`), so what the model sees, and when, is this list and
nothing else. Under several processes, accelerate splits each global batch of that sequence
between them, so the order holds per global batch.

Pacing policies (params `train.pacing`):
- `follow`: every epoch walks the whole train split in curriculum order (easy to hard, again).
- `baby_steps`: epoch e of E trains on the easiest buckets only, one more bucket admitted as the
  epochs go (bucket count B: epoch e sees the first min(B, 1 + floor(e * B / E)) buckets), in
  curriculum order; the last epochs see everything. Spitkovsky et al. 2010, "From Baby Steps to
  Leapfrog"; the total number of steps is smaller than `follow`'s.
- `competence`: Platanios et al. 2019, "Competence-based Curriculum Learning for Neural Machine
  Translation". Each optimizer step draws its batch uniformly (seeded, no repeats within a batch)
  from the easiest share c(t) of the split in curriculum order, where t is the share of training
  done and c(t) = min(1, sqrt(t * (1 - c0^2) / T + c0^2)) grows from c0 (`initial`) to the whole
  split at t = T (`full_at`); from there every batch is drawn from everything. Batches are mixed,
  as shuffle's are, and the number of examples is the same as `follow`'s and `shuffle`'s
  (epochs x split size).
- `shuffle`: the baseline; a fresh seeded permutation of the whole split every epoch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

PACINGS = ("follow", "baby_steps", "competence", "shuffle")


def competence(progress: float, initial: float, full_at: float) -> float:
    """Platanios et al.'s square-root competence: the easiest share of the data admitted at `progress` (0..1)."""
    return min(1.0, math.sqrt(progress * (1.0 - initial**2) / full_at + initial**2))


def training_order(
    positions: Sequence[int],
    buckets: Sequence[str],
    bucket_order: Sequence[str],
    *,
    epochs: int,
    pacing: str,
    seed: int,
    batch_size: int = 1,
    initial_competence: float = 0.1,
    full_competence_at: float = 0.5,
) -> list[int]:
    """Row indices (into the train split as given) for all epochs, concatenated.

    positions: each row's `curriculum_position`; buckets: each row's `difficulty_bucket`;
    bucket_order: the bucket names easiest first (params `score.difficulty_buckets`).
    batch_size, initial_competence, full_competence_at: `competence` pacing only: examples per
    optimizer step (all processes), c0 and T of its schedule (params `train.competence`).
    """
    if pacing not in PACINGS:
        raise ValueError(f"params train.pacing = {pacing!r}: use one of {', '.join(PACINGS)}")
    if epochs < 1:
        raise ValueError(f"params train.epochs = {epochs}: use at least 1")
    if len(positions) != len(buckets):
        raise ValueError("positions and buckets differ in length")
    unknown = sorted(set(buckets) - set(bucket_order))
    if unknown:
        raise ValueError(f"difficulty buckets {unknown} are not in score.difficulty_buckets {list(bucket_order)}")
    by_position = sorted(range(len(positions)), key=lambda i: (positions[i], i))
    order: list[int] = []
    if pacing == "follow":
        for _ in range(epochs):
            order.extend(by_position)
    elif pacing == "baby_steps":
        rank = {name: k for k, name in enumerate(bucket_order)}
        count = len(bucket_order)
        for epoch in range(epochs):
            admitted = min(count, 1 + (epoch * count) // epochs)
            order.extend(i for i in by_position if rank[buckets[i]] < admitted)
    elif pacing == "competence":
        if batch_size < 1:
            raise ValueError(f"batch size {batch_size}: use at least 1 example per optimizer step")
        if not 0.0 < initial_competence <= 1.0:
            raise ValueError(f"params train.competence.initial = {initial_competence}: use a share in (0, 1]")
        if not 0.0 < full_competence_at <= 1.0:
            raise ValueError(f"params train.competence.full_at = {full_competence_at}: use a share of training in (0, 1]")
        rng = np.random.default_rng(seed)
        total = epochs * len(by_position)
        steps = math.ceil(total / batch_size)
        for step in range(steps):
            size = min(batch_size, total - step * batch_size)
            share = competence(step / steps, initial_competence, full_competence_at)
            pool = min(len(by_position), max(size, math.ceil(share * len(by_position))))
            order.extend(by_position[int(k)] for k in rng.choice(pool, size=size, replace=size > pool))
    else:
        rng = np.random.default_rng(seed)
        for _ in range(epochs):
            order.extend(int(i) for i in rng.permutation(len(positions)))
    return order
