"""Write data/labels/dedup_pairs.csv: labelled duplicate / non-duplicate text pairs.

    python data/labels/make_dedup_pairs.py            # from the repository root

Deterministic (no randomness, no model): the same sample world gives the same file. See
data/labels/README.md for what each `origin` means and how the labels were decided.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = Path("data/sample")
LVD_FILES = [SAMPLE / "lvd2m/lvd2m_sample.csv", SAMPLE / "lvd2m/hdvg_sample.csv"]
YUWA_FILE = SAMPLE / "youdescribe/yuwa_sample_world.csv"
DEFECTS = SAMPLE / "defects.csv"
OUT = Path("data/labels/dedup_pairs.csv")

SAMPLE_NEGATIVES_LVD2M = 24  # pairs of different LVD-2M clips with the most similar wording
SAMPLE_NEGATIVES_YOUDESCRIBE = 12
FLAGS = {"long_clip", "low_motion", "blank_status", "stt_noise", "unsorted_clips"}  # not defects of the text

# Words that carry a fact of the sample world's scenes: two captions whose sets of these differ
# describe different things (colour, shape, size, place, motion, sign word, count, time).
FACT_WORDS = set(
    """red green blue yellow white orange purple black gray grey navy brown dark
    circle circles square squares triangle triangles small medium-sized medium large
    left right up down upward downward top bottom middle centre center upper lower
    bounce bounces bouncing still stays moving moves climbs sinks
    stop open exit sale hello park cafe taxi hotel wait bus go
    one two three four five no only single""".split()
)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9-]+", text.lower())


def facts(text: str) -> frozenset[str]:
    return frozenset(w for w in words(text) if w in FACT_WORDS or w.isdigit())


def jaccard(a: str, b: str) -> float:
    x, y = set(words(a)), set(words(b))
    return len(x & y) / len(x | y) if x | y else 0.0


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows with their record number `_row` (header = row 1); ragged rows are left out."""
    with (REPO / path).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = []
        for number, row in enumerate(reader, start=2):
            if None in row or None in row.values():
                continue
            rows.append({**row, "_row": str(number)})
    return rows


def read_defects() -> dict[tuple[str, int], set[str]]:
    defects: dict[tuple[str, int], set[str]] = {}
    for row in read_csv(DEFECTS):
        defects.setdefault((row["raw_file"], int(row["raw_row"])), set()).add(row["defect"])
    return defects


def is_clean(defects: dict[tuple[str, int], set[str]], path: Path, row: dict[str, str]) -> bool:
    return not (defects.get((str(path), int(row["_row"])), set()) - FLAGS)


def seeded_pairs(defects: dict[tuple[str, int], set[str]]) -> list[tuple[str, str, int, str]]:
    """Duplicates seeded in the LVD-2M files, paired with the row they were copied from."""
    pairs = []
    hallucinated: list[str] = []
    for path in LVD_FILES:
        rows = read_csv(path)
        for k, row in enumerate(rows):
            kinds = defects.get((str(path), int(row["_row"])), set())
            text = row["refined_caption"]
            earlier = [r for r in rows[:k] if is_clean(defects, path, r) and r["video_id"] != row["video_id"]]
            if "exact_duplicate" in kinds:
                source = next(r for r in earlier if r["refined_caption"] == text)
                pairs.append((source["refined_caption"], text, 1, "sample:exact_duplicate"))
            elif "near_duplicate" in kinds:
                ratio, source = max(
                    ((difflib.SequenceMatcher(None, r["refined_caption"].split(), text.split(), autojunk=False).ratio(), r) for r in earlier),
                    key=lambda item: item[0],
                )
                assert ratio > 0.9, f"{path}:{row['_row']}: no source found for the near duplicate"
                pairs.append((source["refined_caption"], text, 1, "sample:near_duplicate"))
            elif "hallucinated_repeat" in kinds:
                hallucinated.append(text)
    # The hallucinated caption is the same string on all its rows (in both files): one pair says it.
    assert len(set(hallucinated)) == 1
    pairs.append((hallucinated[0], hallucinated[-1], 1, "sample:hallucinated_repeat"))
    clean = [r["refined_caption"] for r in read_csv(LVD_FILES[0]) if is_clean(defects, LVD_FILES[0], r)]
    pairs.append((hallucinated[0], clean[0], 0, "sample:hallucination_vs_clean"))
    pairs.append((hallucinated[0], clean[1], 0, "sample:hallucination_vs_clean"))
    return pairs


def cross_format_pairs(defects: dict[tuple[str, int], set[str]]) -> list[tuple[str, str, int, str]]:
    """YouDescribe clips present both in the YuWA CSV and as API JSON: the same transcript."""
    by_clip = {r["audio_clips_id"]: r["transcript_sentence"] for r in read_csv(YUWA_FILE)}
    pairs = []
    for path in sorted({p for (p, _), kinds in defects.items() if "cross_format_duplicate" in kinds}):
        result = json.loads((REPO / path).read_text(encoding="utf-8"))["result"]
        for description in result["audio_descriptions"]:
            for clip in description["audio_clips"]:
                if clip["_id"] in by_clip and clip["transcript"]:
                    api_text = " ".join(s["sentence"] for s in clip["transcript"])
                    pairs.append((by_clip[clip["_id"]], api_text, 1, "sample:cross_format_duplicate"))
    return pairs


def different_clip_pairs(
    texts: list[tuple[str, str]], count: int, origin: str
) -> list[tuple[str, str, int, str]]:
    """The `count` most lexically similar pairs of texts of different videos stating different facts.

    texts: (video_id, text). Greedy by Jaccard similarity of word sets, each text used once.
    """
    distinct: dict[str, str] = {}
    for video, text in texts:
        distinct.setdefault(text, video)
    items = sorted(distinct.items())
    candidates = []
    for a in range(len(items)):
        for b in range(a + 1, len(items)):
            (ta, va), (tb, vb) = items[a], items[b]
            if va != vb and facts(ta) != facts(tb):
                candidates.append((-jaccard(ta, tb), a, b))
    candidates.sort()
    used: set[int] = set()
    pairs = []
    for _, a, b in candidates:
        if a in used or b in used:
            continue
        used.update((a, b))
        pairs.append((items[a][0], items[b][0], 0, origin))
        if len(pairs) == count:
            break
    return pairs


def sample_negatives(defects: dict[tuple[str, int], set[str]]) -> list[tuple[str, str, int, str]]:
    copied = {text for text, _, label, _ in seeded_pairs(defects) if label}
    lvd = [
        (r["video_id"], r["refined_caption"])
        for path in LVD_FILES
        for r in read_csv(path)
        if is_clean(defects, path, r) and r["refined_caption"] not in copied
    ]
    yuwa = [(r["videos_youtube_id"], r["transcript_sentence"]) for r in read_csv(YUWA_FILE) if is_clean(defects, YUWA_FILE, r)]
    return different_clip_pairs(lvd, SAMPLE_NEGATIVES_LVD2M, "sample:different_clips") + different_clip_pairs(
        yuwa, SAMPLE_NEGATIVES_YOUDESCRIBE, "sample:different_clips"
    )


# Hand-written: the same scene reworded (duplicates of each other for a narrator's training set).
PARAPHRASES = [
    ("A man in a red jacket walks his dog along a snowy path.",
     "Along a snow-covered path, a man wearing a red jacket is walking his dog."),
    ("A woman slices tomatoes on a wooden cutting board in a bright kitchen.",
     "In a bright kitchen, a woman cuts tomatoes into slices on a wooden chopping board."),
    ("Two children run across a green field toward a large oak tree.",
     "A pair of kids are running over a grassy field towards a big oak tree."),
    ("A yellow taxi stops at the curb and a passenger gets out.",
     "A yellow cab pulls up to the curb, and a passenger steps out of it."),
    ("The camera slowly pans across a crowded market full of fruit stalls.",
     "A slow camera pan moves over a busy market lined with fruit stands."),
    ("A red circle moves from the left edge of the frame to the right.",
     "From the left side of the frame to the right, a red circle travels across."),
    ("A sign at the top of the frame reads STOP.",
     "At the top of the frame there is a sign that says STOP."),
    ("A blue square appears in the lower right and stays still.",
     "In the lower right, a blue square shows up and does not move."),
    ("She opens the door and steps into a dark hallway.",
     "She pushes the door open and walks into a dim hallway."),
    ("A cyclist rides down a steep hill while cars pass on the left.",
     "While cars go by on the left, a cyclist is riding down a steep hill."),
    ("An elderly man sits on a park bench feeding pigeons.",
     "On a bench in the park, an old man is feeding pigeons."),
    ("Waves crash against the rocks as the sun sets over the ocean.",
     "As the sun goes down over the sea, waves break against the rocks."),
    ("A black cat jumps onto the kitchen counter and sniffs a bowl.",
     "A black cat leaps up onto the kitchen counter and smells a bowl."),
    ("The video shows a chef in a white uniform preparing pasta in a busy restaurant kitchen. He drops fresh "
     "noodles into a pot of boiling water, stirs them with a wooden spoon, and then drains them in a metal "
     "colander. Steam rises around him as other cooks move in the background.",
     "In a busy restaurant kitchen, a chef dressed in a white uniform prepares pasta. He puts fresh noodles into "
     "a pot of boiling water, stirs them with a wooden spoon and then drains them in a metal colander, while "
     "steam rises around him and other cooks move behind him."),
    ("A drone shot flies over a winding river surrounded by dense pine forest. The water reflects the cloudy "
     "sky, and a small wooden cabin sits on the left bank. The camera moves forward steadily and slowly tilts "
     "down toward the water.",
     "An aerial drone shot glides above a winding river bordered by thick pine forest. The cloudy sky is "
     "reflected in the water, and a small wooden cabin stands on the river's left bank. The camera advances "
     "steadily, slowly tilting down toward the water."),
    ("A woman in a blue dress dances alone in an empty ballroom.",
     "Alone in an empty ballroom, a woman wearing a blue dress is dancing."),
    ("The man picks up a guitar, tunes it, and starts to play.",
     "The man lifts a guitar, tunes it and begins playing."),
    ("Three ducks swim slowly across a calm pond.",
     "Across a still pond, three ducks are slowly swimming."),
    ("A white truck drives past a gas station at night.",
     "At night, a white truck goes past a gas station."),
    ("The girl blows out the candles on her birthday cake while her family claps.",
     "While her family applauds, the girl blows out the candles on her birthday cake."),
    ("On a plain black background, a green triangle bounces up and down in the centre. A sign at the bottom "
     "reads EXIT.",
     "A green triangle keeps bouncing up and down in the middle of a plain black background. The sign at the "
     "bottom says EXIT."),
    ("A yellow circle changes colour to purple after about 3 seconds.",
     "After about three seconds, the yellow circle turns purple."),
    ("Two shapes are on screen: a red square and a white circle.",
     "There are two shapes on screen, a red square and a white circle."),
    ("A small dog chases a ball across the living room floor.",
     "Across the floor of the living room, a little dog runs after a ball."),
    ("A man in a suit checks his watch and hurries across the street.",
     "A man wearing a suit looks at his watch and rushes across the street."),
    ("Rain falls on a quiet city street lit by yellow street lamps.",
     "Rain is falling on a quiet city street lit up by yellow streetlights."),
    ("A woman waters potted plants on a sunny balcony.",
     "On a sunny balcony, a woman is watering plants in pots."),
    ("The teacher writes an equation on the blackboard and turns to the class.",
     "The teacher writes an equation on the chalkboard, then turns toward the class."),
    ("A boy kicks a soccer ball into the goal and raises his arms.",
     "A boy kicks the football into the net and lifts his arms in the air."),
    ("Smoke rises from the chimney of a red brick house in winter.",
     "In winter, smoke rises from the chimney of a red-brick house."),
    ("He puts on his glasses and reads the letter.",
     "He puts his glasses on and reads the letter."),
    ("She smiles and waves goodbye from the train window.",
     "From the train window, she smiles and waves goodbye."),
    ("The car speeds away down the empty highway.",
     "The car races off down the empty highway."),
    ("A purple square moves steadily downward on a brown background.",
     "On a brown background, a purple square moves down at a steady pace."),
    ("A large orange circle appears near the top and starts moving to the left.",
     "Near the top, a large orange circle shows up and begins to move left."),
    ("A group of friends sit around a campfire at night, roasting marshmallows on long sticks. One of them "
     "plays an acoustic guitar while the others laugh and talk. Sparks drift upward into the dark sky.",
     "At night, a group of friends sits around a campfire roasting marshmallows on long sticks. One friend plays "
     "an acoustic guitar as the others talk and laugh, and sparks float up into the dark sky."),
    ("A baker pulls a tray of fresh bread out of the oven.",
     "A baker takes a tray of freshly baked bread out of the oven."),
    ("The man wipes sweat from his forehead and keeps digging.",
     "Wiping the sweat off his forehead, the man continues to dig."),
    ("An airplane takes off from the runway at sunrise.",
     "At sunrise, a plane lifts off the runway."),
    ("A woman jogs along the beach with headphones on.",
     "Wearing headphones, a woman is jogging along the beach."),
]

# Hand-written hard negatives: the same template with one fact changed (colour, count, direction,
# position, size, shape, sign word, time, action, person). A narrator must not treat them as one.
HARD_NEGATIVES = [
    ("A red circle moves from the left edge of the frame to the right.",
     "A blue circle moves from the left edge of the frame to the right."),
    ("A red circle moves from the left edge of the frame to the right.",
     "A red circle moves from the right edge of the frame to the left."),
    ("A sign at the top of the frame reads STOP.",
     "A sign at the top of the frame reads OPEN."),
    ("A sign at the top of the frame reads STOP.",
     "A sign at the bottom of the frame reads STOP."),
    ("Two children run across a green field toward a large oak tree.",
     "Three children run across a green field toward a large oak tree."),
    ("A man in a red jacket walks his dog along a snowy path.",
     "A man in a blue jacket walks his dog along a snowy path."),
    ("A man in a red jacket walks his dog along a snowy path.",
     "A woman in a red jacket walks her dog along a snowy path."),
    ("A yellow taxi stops at the curb and a passenger gets out.",
     "A yellow taxi stops at the curb and a passenger gets in."),
    ("Three ducks swim slowly across a calm pond.",
     "Five ducks swim slowly across a calm pond."),
    ("A white truck drives past a gas station at night.",
     "A white truck drives past a gas station during the day."),
    ("A blue square appears in the lower right and stays still.",
     "A blue square appears in the upper left and stays still."),
    ("A blue square appears in the lower right and stays still.",
     "A blue triangle appears in the lower right and stays still."),
    ("A yellow circle changes colour to purple after about 3 seconds.",
     "A yellow circle changes colour to green after about 3 seconds."),
    ("A yellow circle changes colour to purple after about 3 seconds.",
     "A yellow circle changes colour to purple after about 8 seconds."),
    ("Two shapes are on screen: a red square and a white circle.",
     "Three shapes are on screen: a red square, a white circle and a green triangle."),
    ("On a plain black background, a green triangle bounces up and down in the centre. A sign at the bottom "
     "reads EXIT.",
     "On a plain black background, a green triangle bounces up and down in the centre. A sign at the bottom "
     "reads HOTEL."),
    ("On a plain black background, a green triangle bounces up and down in the centre.",
     "On a plain navy blue background, a green triangle bounces up and down in the centre."),
    ("The video shows a chef in a white uniform preparing pasta in a busy restaurant kitchen. He drops fresh "
     "noodles into a pot of boiling water, stirs them with a wooden spoon, and then drains them in a metal "
     "colander. Steam rises around him as other cooks move in the background.",
     "The video shows a chef in a black uniform preparing pasta in a busy restaurant kitchen. He drops fresh "
     "noodles into a pot of boiling water, stirs them with a wooden spoon, and then drains them in a metal "
     "colander. Steam rises around him as other cooks move in the background."),
    ("A drone shot flies over a winding river surrounded by dense pine forest. The water reflects the cloudy "
     "sky, and a small wooden cabin sits on the left bank. The camera moves forward steadily and slowly tilts "
     "down toward the water.",
     "A drone shot flies over a winding river surrounded by dense pine forest. The water reflects the cloudy "
     "sky, and a small wooden cabin sits on the right bank. The camera moves forward steadily and slowly tilts "
     "down toward the water."),
    ("A group of friends sit around a campfire at night, roasting marshmallows on long sticks. One of them "
     "plays an acoustic guitar while the others laugh and talk. Sparks drift upward into the dark sky.",
     "A group of friends sit around a campfire at night, roasting marshmallows on long sticks. One of them "
     "plays a harmonica while the others laugh and talk. Sparks drift upward into the dark sky."),
    ("The girl blows out the candles on her birthday cake while her family claps.",
     "The boy blows out the candles on his birthday cake while his family claps."),
    ("A cyclist rides down a steep hill while cars pass on the left.",
     "A cyclist rides up a steep hill while cars pass on the left."),
    ("A black cat jumps onto the kitchen counter and sniffs a bowl.",
     "A white cat jumps onto the kitchen counter and sniffs a bowl."),
    ("A black cat jumps onto the kitchen counter and sniffs a bowl.",
     "A black cat jumps off the kitchen counter and sniffs a bowl."),
    ("The man picks up a guitar, tunes it, and starts to play.",
     "The man picks up a violin, tunes it, and starts to play."),
    ("She opens the door and steps into a dark hallway.",
     "She closes the door and steps into a dark hallway."),
    ("An elderly man sits on a park bench feeding pigeons.",
     "An elderly woman sits on a park bench feeding pigeons."),
    ("A woman waters potted plants on a sunny balcony.",
     "A woman waters potted plants on a rainy balcony."),
    ("The car speeds away down the empty highway.",
     "The car speeds away down the crowded highway."),
    ("A purple square moves steadily downward on a brown background.",
     "A purple square moves steadily upward on a brown background."),
    ("A large orange circle appears near the top and starts moving to the left.",
     "A small orange circle appears near the top and starts moving to the left."),
    ("A large orange circle appears near the top and starts moving to the left.",
     "A large orange circle appears near the bottom and starts moving to the left."),
    ("A boy kicks a soccer ball into the goal and raises his arms.",
     "A boy kicks a soccer ball past the goal and raises his arms."),
    ("An airplane takes off from the runway at sunrise.",
     "An airplane lands on the runway at sunrise."),
    ("A baker pulls a tray of fresh bread out of the oven.",
     "A baker puts a tray of fresh bread into the oven."),
    ("He puts on his glasses and reads the letter.",
     "He takes off his glasses and reads the letter."),
    ("She smiles and waves goodbye from the train window.",
     "She frowns and waves goodbye from the train window."),
    ("Rain falls on a quiet city street lit by yellow street lamps.",
     "Snow falls on a quiet city street lit by yellow street lamps."),
    ("A woman jogs along the beach with headphones on.",
     "A man jogs along the beach with headphones on."),
    ("A blue circle appears in the lower left. It starts moving up. There are now two shapes.",
     "A blue circle appears in the lower left. It starts moving up. There are now three shapes."),
    ("The yellow triangle changes to red. It is still moving to the right.",
     "The yellow triangle changes to blue. It is still moving to the right."),
    ("Text appears on a white sign at the top: TAXI.",
     "Text appears on a white sign at the top: CAFE."),
    ("A red triangle on the right, against a plain dark gray background. It is bouncing up and down.",
     "A red triangle on the left, against a plain dark gray background. It is bouncing up and down."),
    ("Two cars are parked outside the bakery.",
     "Four cars are parked outside the bakery."),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / OUT)
    args = parser.parse_args()
    defects = read_defects()
    pairs = seeded_pairs(defects) + cross_format_pairs(defects) + sample_negatives(defects)
    pairs += [(a, b, 1, "hand:paraphrase") for a, b in PARAPHRASES]
    pairs += [(a, b, 0, "hand:hard_negative") for a, b in HARD_NEGATIVES]
    assert len({(a, b) for a, b, _, _ in pairs}) == len(pairs), "a pair is listed twice"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["text_a", "text_b", "is_duplicate", "origin"])
        writer.writerows(pairs)
    counts: dict[str, list[int]] = {}
    for _, _, label, origin in pairs:
        counts.setdefault(origin, [0, 0])[label] += 1
    print(f"wrote {len(pairs)} pairs to {args.out}")
    for origin, (negative, positive) in sorted(counts.items()):
        print(f"  {origin}: {positive} duplicates, {negative} non-duplicates")


if __name__ == "__main__":
    main()
