"""The seeded defects: how many of each per file, what each means, what the pipeline must do with it.

The README's defect table and defects.csv are written from the rows actually produced
(`World.defect_table`); the counts here are the targets the dump writers assert they met. Kinds in
`NOT_DEFECTS` are flags: properties a test may check on records the pipeline must keep.
"""

from __future__ import annotations

from sampleworld.scenes import chance

# Defect counts per file: (file, defect) -> count. The README table is written from the
# rows actually produced, and the dump writers assert they equal these targets.
LVD_MAIN_DEFECTS = {
    "hallucinated_repeat": 20, "exact_duplicate": 6, "near_duplicate": 6, "non_english": 8,
    "too_short": 6, "too_long": 4, "broken_span": 4, "inverted_span": 4, "ragged_row": 2, "bad_number": 1,
}
HDVG_DEFECTS = {
    "hallucinated_repeat": 5, "exact_duplicate": 2, "near_duplicate": 2, "non_english": 2,
    "too_short": 1, "too_long": 1, "broken_span": 1, "inverted_span": 1,
}

HALLUCINATION = (
    "The video captures a person preparing a meal in a bright home kitchen. Wearing a striped apron, "
    "the cook chops fresh vegetables on a wooden cutting board and slides them into a sizzling pan on "
    "the stove. Steam rises as the ingredients are stirred with a wooden spoon, and the camera cuts to "
    "close-ups of a simmering tomato sauce. The scene ends with the finished dish being plated, "
    "garnished with herbs and carried to a table by the window."
)

DEFECT_MEANING = {
    "hallucinated_repeat": "one fluent refined_caption about a cook in a kitchen (nothing like the videos), repeated verbatim",
    "exact_duplicate": "refined_caption copied verbatim from an earlier row of another video",
    "near_duplicate": "refined_caption copied from an earlier row of another video with a small edit (word swap / punctuation)",
    "non_english": "text in Spanish, French or German (a faithful translation of what the clip shows)",
    "too_short": "text under 8 words (LVD-2M) / 1-2 words (YouDescribe)",
    "too_long": "refined_caption over 300 words",
    "broken_span": "span does not parse as a list of two HH:MM:SS.mmm timestamps",
    "inverted_span": "span end is before span start",
    "ragged_row": "CSV record with more or fewer fields than the header",
    "bad_number": "video_time is not a number (`unknown`)",
    "long_clip": "NOT a defect: clip of 20 s or more (keep it; the official downloader wrongly drops these)",
    "low_motion": "NOT a defect: only still shapes, `total score` below 20",
    "blank_status": "NOT a defect of the text: videos_youtube_status is blank (as in about 30% of YuWA rows)",
    "unsorted_clips": "the rows of this audio description are not in start_time order (every row of the description is listed)",
    "stt_noise": "light speech-to-text noise: one filler (um/uh) or a repeated word; the text is still true",
    "bad_playback_type": "playback_type is `sideways` (neither inline nor extended)",
    "empty_transcript": "audio clip whose transcript list is empty (no text)",
    "cross_format_duplicate": "the same audio description (same ids, times and text) also appears in the YuWA CSV; every clip of the API copy is listed",
}
NOT_DEFECTS = {"long_clip", "low_motion", "blank_status", "stt_noise"}
# What the pipeline is expected to do with such a record.
EXPECTED = {
    "hallucinated_repeat": "reject (repeated caption)",
    "exact_duplicate": "reject the copy, keep its source",
    "near_duplicate": "reject the copy, keep its source",
    "non_english": "reject (language)",
    "too_short": "reject (word count)",
    "too_long": "reject (word count)",
    "broken_span": "quarantine (`bad_span`)",
    "inverted_span": "reject (clip times)",
    "ragged_row": "quarantine (`ragged_row`)",
    "bad_number": "quarantine (`bad_number`)",
    "bad_playback_type": "quarantine (`bad_playback_type`)",
    "empty_transcript": "no example from this clip (no text)",
    "cross_format_duplicate": "drop the API copy, keep the CSV one",
    "unsorted_clips": "keep; order clips by start_time",
    "blank_status": "keep (status is \"\")",
    "stt_noise": "keep",
    "long_clip": "keep",
    "low_motion": "keep",
}


def near_duplicate(rng, text: str) -> str:
    swaps = [("background", "backdrop"), ("moves", "travels"), ("simple", "basic"), ("clip", "video"),
             ("shapes", "figures"), ("appears", "shows up"), ("stays", "remains"), ("plain", "flat")]
    edited = text
    for a, b in [swaps[int(k)] for k in rng.permutation(len(swaps))]:
        if f" {a} " in edited:
            edited = edited.replace(f" {a} ", f" {b} ", 1)
            break
    # punctuation edit: one full stop becomes a semicolon, or a comma disappears
    if ", " in edited and chance(rng, 0.5):
        edited = edited.replace(", ", " ", 1)
    else:
        k = edited.find(". ")
        if k > 0:
            edited = edited[:k] + "; " + edited[k + 2].lower() + edited[k + 3:]
    if edited == text:
        edited = text.rstrip(".") + "!"
    return edited
