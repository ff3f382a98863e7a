"""The order training sees examples in: the mix stage's curriculum, paced over epochs, or shuffled.

The mix stage writes the train split in curriculum order (`curriculum_position`, easy to hard by
`data.curriculum.policy`). Training follows it through one explicit, multi-epoch index list:
the trainer gets `dataset.select(order)` for a single pass with a sequential sampler
(`train_sampling_strategy="sequential"`), so what the model sees, and when, is this list and
nothing else. Under several processes, accelerate splits each global batch of that sequence
between them, so the order holds per global batch.

Pacing policies (params `train.curriculum.pacing`):
- `follow`: every epoch walks the whole train split in curriculum order (easy to hard, again).
- `baby_steps`: epoch e of E trains on the easiest buckets only, one more bucket admitted as the
  epochs go (bucket count B: epoch e sees the first min(B, 1 + floor(e * B / E)) buckets), in
  curriculum order; the last epochs see everything. Spitkovsky et al. 2010, "From Baby Steps to
  Leapfrog"; the total number of steps is smaller than `follow`'s.
- `shuffle`: the baseline; a fresh seeded permutation of the whole split every epoch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PACINGS = ("follow", "baby_steps", "shuffle")


def training_order(
    positions: Sequence[int],
    buckets: Sequence[str],
    bucket_order: Sequence[str],
    *,
    epochs: int,
    pacing: str,
    seed: int,
) -> list[int]:
    """Row indices (into the train split as given) for all epochs, concatenated.

    positions: each row's `curriculum_position`; buckets: each row's `difficulty_bucket`;
    bucket_order: the bucket names easiest first (params `score.difficulty_buckets`).
    """
    if pacing not in PACINGS:
        raise ValueError(f"params train.curriculum.pacing = {pacing!r}: use one of {', '.join(PACINGS)}")
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
    else:
        rng = np.random.default_rng(seed)
        for _ in range(epochs):
            order.extend(int(i) for i in rng.permutation(len(positions)))
    return order
