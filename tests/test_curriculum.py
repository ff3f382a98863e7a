"""The training order follows the mix stage's curriculum, paces it over epochs, or shuffles."""

from __future__ import annotations

import math

import pytest

from train.curriculum import competence, training_order

BUCKETS = ["easy", "medium", "hard"]
# Rows as stored (not in curriculum order): position and bucket of each.
POSITIONS = [4, 0, 5, 2, 1, 3]
ROW_BUCKETS = ["hard", "easy", "hard", "medium", "easy", "medium"]


def test_follow_repeats_the_curriculum_order_every_epoch() -> None:
    order = training_order(POSITIONS, ROW_BUCKETS, BUCKETS, epochs=2, pacing="follow", seed=0)
    one_epoch = [1, 4, 3, 5, 0, 2]  # rows sorted by curriculum_position
    assert order == one_epoch * 2
    assert [ROW_BUCKETS[i] for i in one_epoch] == ["easy", "easy", "medium", "medium", "hard", "hard"]


def test_baby_steps_admit_one_more_bucket_as_epochs_go() -> None:
    order = training_order(POSITIONS, ROW_BUCKETS, BUCKETS, epochs=3, pacing="baby_steps", seed=0)
    assert order == [1, 4] + [1, 4, 3, 5] + [1, 4, 3, 5, 0, 2]
    longer = training_order(POSITIONS, ROW_BUCKETS, BUCKETS, epochs=6, pacing="baby_steps", seed=0)
    assert longer[-6:] == [1, 4, 3, 5, 0, 2] and longer[:4] == [1, 4, 1, 4]  # two epochs per stage


def test_shuffle_is_a_seeded_permutation_per_epoch() -> None:
    first = training_order(POSITIONS, ROW_BUCKETS, BUCKETS, epochs=3, pacing="shuffle", seed=7)
    assert first == training_order(POSITIONS, ROW_BUCKETS, BUCKETS, epochs=3, pacing="shuffle", seed=7)
    assert first != training_order(POSITIONS, ROW_BUCKETS, BUCKETS, epochs=3, pacing="shuffle", seed=8)
    epochs = [first[k * 6 : (k + 1) * 6] for k in range(3)]
    assert all(sorted(e) == list(range(6)) for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1, "each epoch is shuffled anew"


def test_competence_grows_from_the_initial_share_to_everything() -> None:
    assert competence(0.0, initial=0.1, full_at=0.5) == pytest.approx(0.1)
    assert competence(0.5, initial=0.1, full_at=0.5) == pytest.approx(1.0)
    assert competence(0.9, initial=0.1, full_at=0.5) == 1.0
    shares = [competence(t / 10, initial=0.1, full_at=0.5) for t in range(11)]
    assert shares == sorted(shares)


def test_competence_batches_come_from_the_easiest_share_then_from_everything() -> None:
    rows = 100
    positions = list(range(rows))[::-1]  # stored hardest first: row i has position 99 - i
    buckets = ["easy"] * rows
    order = training_order(positions, buckets, ["easy"], epochs=4, pacing="competence", seed=3, batch_size=10,
                           initial_competence=0.1, full_competence_at=0.5)
    assert len(order) == 4 * rows, "as many examples as four epochs of follow or shuffle"
    batches = [order[k : k + 10] for k in range(0, len(order), 10)]
    assert all(len(set(batch)) == 10 for batch in batches), "no example twice in one batch"
    first_positions = {positions[i] for i in batches[0]}
    assert first_positions == set(range(10)), "step one: the easiest 10% only, as the mix stage ordered them"
    for step, batch in enumerate(batches):
        admitted = max(10, math.ceil(competence(step / 40, 0.1, 0.5) * rows))
        assert max(positions[i] for i in batch) < admitted
    late = {positions[i] for batch in batches[20:] for i in batch}
    assert max(late) >= 90, "after full competence the hardest examples are drawn too"
    assert order == training_order(positions, buckets, ["easy"], epochs=4, pacing="competence", seed=3,
                                   batch_size=10, initial_competence=0.1, full_competence_at=0.5)
    assert order != training_order(positions, buckets, ["easy"], epochs=4, pacing="competence", seed=4,
                                   batch_size=10, initial_competence=0.1, full_competence_at=0.5)


def test_bad_settings_name_the_param() -> None:
    with pytest.raises(ValueError, match="train.pacing"):
        training_order(POSITIONS, ROW_BUCKETS, BUCKETS, epochs=1, pacing="hardest_first", seed=0)
    with pytest.raises(ValueError, match="train.epochs"):
        training_order(POSITIONS, ROW_BUCKETS, BUCKETS, epochs=0, pacing="follow", seed=0)
    with pytest.raises(ValueError, match="score.difficulty_buckets"):
        training_order(POSITIONS, ["easy"] * 5 + ["extreme"], BUCKETS, epochs=1, pacing="follow", seed=0)
    with pytest.raises(ValueError, match="train.competence.initial"):
        training_order(POSITIONS, ROW_BUCKETS, BUCKETS, epochs=1, pacing="competence", seed=0, initial_competence=0.0)
    with pytest.raises(ValueError, match="train.competence.full_at"):
        training_order(POSITIONS, ROW_BUCKETS, BUCKETS, epochs=1, pacing="competence", seed=0, full_competence_at=1.5)
