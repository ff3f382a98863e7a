"""The training order follows the mix stage's curriculum, paces it over epochs, or shuffles."""

from __future__ import annotations

import pytest

from train.curriculum import training_order

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


def test_bad_settings_name_the_param() -> None:
    with pytest.raises(ValueError, match="train.curriculum.pacing"):
        training_order(POSITIONS, ROW_BUCKETS, BUCKETS, epochs=1, pacing="hardest_first", seed=0)
    with pytest.raises(ValueError, match="train.epochs"):
        training_order(POSITIONS, ROW_BUCKETS, BUCKETS, epochs=0, pacing="follow", seed=0)
    with pytest.raises(ValueError, match="score.difficulty_buckets"):
        training_order(POSITIONS, ["easy"] * 5 + ["extreme"], BUCKETS, epochs=1, pacing="follow", seed=0)
