"""The tiny narrator's vision tower pretraining (train/tiny_tower.py): labels, learning, determinism."""

from __future__ import annotations

import copy
from types import ModuleType

import numpy as np
import pytest
import torch
from transformers import SiglipVisionConfig, SiglipVisionModel
from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil

import sampleworld
from config.params import TowerPretrainingParams
from narrate.frames import FramePolicy, tile_frames
from train.tiny_tower import LABEL_COLUMNS, Vocabulary, patch_labels, pretrain_tower, render_set


@pytest.fixture(scope="module")
def world() -> ModuleType:
    return sampleworld


def one_shape_scene(world, *, kind: str, colour: str, at: tuple[float, float], sign: bool = False) -> dict:  # type: ignore[no-untyped-def]
    scene = {"video_id": "t", "duration_s": 2.0, "fps": 10, "n_frames": 20, "width": 96, "height": 96,
             "background": "navy blue", "background_rgb": list(world.BACKGROUNDS["navy blue"]),
             "shapes": [{"id": 0, "kind": kind, "colour": colour, "radius_px": 10, "appear_s": 0.0, "motion": "still",
                         "path": {"type": "still", "at": list(at)}, "colour_change": {"at_s": 1.0, "to": "white"}}],
             "sign": None}
    if sign:
        scene["sign"] = {"word": "STOP", "box": [0, 72, 48, 96], "appear_s": 0.0}
    return scene


def test_patch_labels_name_what_each_patch_shows(world) -> None:  # type: ignore[no-untyped-def]
    vocabulary = Vocabulary.of(world)
    # A red circle centred in patch (row 1, col 2) of a 4x4 grid of 24-pixel patches.
    scene = one_shape_scene(world, kind="circle", colour="red", at=(60.0, 36.0), sign=True)
    labels = patch_labels(world, scene, 0.0, 4, vocabulary)
    assert labels.shape == (16, len(LABEL_COLUMNS)) == (16, 10)
    assert set(labels[:, 0]) == {vocabulary.backgrounds.index("navy blue")}
    shape_patch = labels[1 * 4 + 2]
    assert vocabulary.colours[shape_patch[1]] == "red" and vocabulary.kinds[shape_patch[2]] == "circle"
    assert (shape_patch[4], shape_patch[5]) == (625, 375)  # centre in thousandths of the frame
    assert vocabulary.colours[labels[0, 1]] == "none" and labels[0, 4] == 0  # an empty corner
    # The sign box covers the bottom-left two patches of the last row, and nothing else.
    assert [int(p[3]) for p in labels] == [0] * 12 + [1, 1, 0, 0]
    assert [vocabulary.sign_words[p[9]] for p in labels[12:]] == ["STOP", "STOP", "none", "none"]
    assert vocabulary.motions[shape_patch[6]] == "still" and vocabulary.motions[labels[0, 6]] == "none"
    # One frame shows no change; sampled at 0.5 s and 1.5 s, the shape changes colour, and is there from the start.
    assert shape_patch[7] == 0 and shape_patch[8] == 0
    across = patch_labels(world, scene, 0.5, 4, vocabulary, frame_times=[0.5, 1.5])[1 * 4 + 2]
    assert across[7] == 1 and across[8] == 0
    # After the colour change the same patch is white.
    later = patch_labels(world, scene, 1.5, 4, vocabulary)
    assert vocabulary.colours[later[1 * 4 + 2][1]] == "white"


def test_grid_images_and_their_labels_line_up(world) -> None:  # type: ignore[no-untyped-def]
    """Patch labels of a 2x2 grid image follow the frames stage's layout: frame k in cell k, row by row."""
    policy = FramePolicy(frames=4, max_pixels=32 * 32, layout="grid")
    processor = SiglipImageProcessorPil(size={"height": 64, "width": 64})
    pixels, labels = render_set(world, processor, policy, scenes=6, patches_per_side=4, seed=3)
    assert pixels.shape == (6, 3, 64, 64) and labels.shape == (6, 16, 10)
    vocabulary = Vocabulary.of(world)
    rng = np.random.default_rng(3)
    for k in range(6):  # the same scenes again, from the same stream
        profile = "events" if rng.random() < 0.25 else "lvd"
        scene = world.make_scene(rng, f"pretrain3-{k}", profile=profile)
        n, fps = scene["n_frames"], scene["fps"]
        times = [min(round((c + 0.5) * scene["duration_s"] / 4 * fps), n - 1) / fps for c in range(4)]
        grid = labels[k].reshape(4, 4, 10)
        for c, t in enumerate(times):  # cell c: rows 2*(c//2).., cols 2*(c%2)..
            cell = grid[2 * (c // 2):2 * (c // 2) + 2, 2 * (c % 2):2 * (c % 2) + 2].reshape(4, 10)
            assert np.array_equal(cell.numpy(), patch_labels(world, scene, t, 2, vocabulary, times))
    with pytest.raises(ValueError, match="does not split into 2x2 frames"):
        render_set(world, processor, policy, scenes=1, patches_per_side=5, seed=3)


def test_tile_frames_puts_frames_in_time_order_and_fills_cells() -> None:
    from PIL import Image

    frames = [Image.new("RGB", (4, 4), (10 * k, 0, 0)) for k in range(4)]
    grid = tile_frames(frames, 4)
    assert grid.size == (8, 8)
    assert [grid.getpixel(xy)[0] for xy in ((0, 0), (4, 0), (0, 4), (4, 4))] == [0, 10, 20, 30]
    still = tile_frames(frames[:1], 4)  # a still image fills every cell
    assert {still.getpixel(xy) for xy in ((0, 0), (4, 0), (0, 4), (4, 4))} == {(0, 0, 0)}


def test_patch_labels_reject_a_grid_that_does_not_divide_the_frame(world) -> None:  # type: ignore[no-untyped-def]
    scene = one_shape_scene(world, kind="square", colour="green", at=(40.0, 40.0))
    with pytest.raises(ValueError, match="5x5 patch grid"):
        patch_labels(world, scene, 0.0, 5, Vocabulary.of(world))


def test_label_map_matches_the_rendered_pixels(world) -> None:  # type: ignore[no-untyped-def]
    """The labels come from the same geometry as the video frames: shape pixels are the shape's colour."""
    scene = world.make_scene(np.random.default_rng(7), "t", profile="lvd")
    frame = next(world.render_frames(scene))
    pixels = world.label_map(scene, 0.0)
    background = np.all(frame == np.array(scene["background_rgb"], np.uint8), axis=-1)
    assert np.array_equal(pixels == 0, background)
    for k, shape in enumerate(scene["shapes"]):
        if shape["appear_s"] == 0.0:
            assert (frame[pixels == 2 + k] == world.PALETTE[shape["colour"]]).all()


def tiny_tower() -> SiglipVisionModel:
    torch.manual_seed(0)
    return SiglipVisionModel(SiglipVisionConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                                num_attention_heads=4, image_size=64, patch_size=8,
                                                vision_use_head=False))


@pytest.mark.slow
def test_pretraining_makes_the_features_name_shape_colours_and_is_deterministic(world) -> None:  # type: ignore[no-untyped-def]
    config = TowerPretrainingParams(scenes=300, eval_scenes=40, steps=400,
                              batch_size=32, learning_rate=3e-3, seed=5)
    policy = FramePolicy(frames=4, max_pixels=32 * 32, layout="grid")  # 2x2 grids of 32x32 frames
    processor = SiglipImageProcessorPil(size={"height": 64, "width": 64})
    first, second = tiny_tower(), tiny_tower()
    untouched = copy.deepcopy(first.state_dict())
    state = torch.random.get_rng_state()
    report = pretrain_tower(first, processor, world, config, policy)
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's RNG is left alone
    before, after = report["held_out_before"], report["held_out_after"]
    # Chance is 1/7 for the colour of a shape patch and 1/5 for the background.
    assert after["colour_on_shapes"] >= 0.6 > before["colour_on_shapes"]
    assert after["background"] >= 0.9
    assert after["shape_or_not"] >= 0.9
    assert any(not torch.equal(untouched[k], v) for k, v in first.state_dict().items())
    pretrain_tower(second, processor, world, config, policy)
    assert all(torch.equal(v, second.state_dict()[k]) for k, v in first.state_dict().items())
