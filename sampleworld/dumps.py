"""The raw dumps of the sample world and their seeded defects: class `World`.

`World(seed)` draws the video ids, then each `build_*` method draws the scenes of one source and
writes its files in that source's real format, seeding the defects as it goes and recording each
in `World.defects` (-> defects.csv) and each file's record count (-> the README's table):

- `build_lvd`: LVD-2M release CSVs (`lvd2m/lvd2m_sample.csv`, `lvd2m/hdvg_sample.csv`);
- `build_youdescribe`: the YuWA CSV export and the API v1 JSON responses (`youdescribe/`);
- `build_webvtt`: WebVTT audio-description tracks (`ad_webvtt/`);
- `build_webvid`: clean whole-video WebVid clips (`lvd2m/webvid_sample.csv`);
- `write_scenes`, `write_defects`: scenes.jsonl and defects.csv.

Every source draws from its own `sub_rng` streams, so the call order in `cli.build` only decides
the order of scenes.jsonl, never the content of a file.
"""

from __future__ import annotations

import json
from pathlib import Path

from sampleworld.captions import (
    add_stt_noise, moment_text, orig_caption, raw_caption, refined_caption, rewritten_caption, stt_lower,
    too_long_caption, too_short_caption, words,
)
from sampleworld.defects import HALLUCINATION, HDVG_DEFECTS, LVD_MAIN_DEFECTS, near_duplicate
from sampleworld.facts import NUMBER_WORDS, window_facts, window_is_clear
from sampleworld.foreign import foreign_caption, foreign_moment
from sampleworld.formats import (
    HDVG_COLUMNS, LVD_MAIN_COLUMNS, YUWA_COLUMNS, fmt_float, fmt_span, fmt_ts, object_id, write_csv,
)
from sampleworld.scenes import (
    ID_ALPHABET, chance, make_scene, make_video_ids, on_grid, pick, scene_events, shape_colour_at, sub_rng,
)

REPO_PREFIX = "data/sample"  # raw_file values in defects.csv are written as the params name them

# How many of each thing (see README.md).
N_LVD_MAIN_VIDEOS = 175  # 25 of them give two clips -> 200 rows
N_LVD_MAIN_TWO_CLIPS = 25
N_HDVG_VIDEOS = 45  # 5 of them give two clips -> 50 rows
N_HDVG_TWO_CLIPS = 5
N_YUWA_VIDEOS = 40
N_API_ONLY_VIDEOS = 13  # + 2 videos also in the YuWA CSV = 15 API files
N_VTT_VIDEOS = 6
# lvd2m/webvid_sample.csv: clean whole-video WebVid clips (LVD-2M's webvid_1200k_336_short.csv part).
# They are most of the tiny narrator's training data: measured with experiments/probe_tiny_narrator.py,
# the ~220 clips of the other files are too few for a model trained from scratch to learn where
# shapes are and how they move (EXPERIMENTS.md). Built last, from their own random streams, so
# adding them changed none of the other files.
N_WEBVID_VIDEOS = 1200
LONG_DURATIONS_MAIN = (22.0, 26.0, 33.0, 37.0, 41.0, 45.0)
LONG_DURATIONS_HDVG = (24.0, 36.0)
N_LOW_MOTION_MAIN = 4  # lvd2m_sample.csv clips of only still shapes (flag `low_motion`)


class World:
    """Every dump of one seed's sample world; the scenes, defects and record counts they produced."""

    def __init__(self, seed: int):
        self.seed = seed
        self.scenes: dict[str, dict] = {}
        self.used_in: dict[str, list[str]] = {}
        self.defects: list[dict] = []
        self.record_counts: dict[str, int] = {}
        self.clean_words: list[int] = []
        self.n_unsorted = 0
        taken: set[str] = set()
        rng = sub_rng(seed, "video-ids")
        self.lvd_main_ids = make_video_ids(rng, N_LVD_MAIN_VIDEOS, taken)
        self.hdvg_ids = make_video_ids(rng, N_HDVG_VIDEOS, taken)
        self.yuwa_ids = make_video_ids(rng, N_YUWA_VIDEOS, taken)
        self.api_only_ids = make_video_ids(rng, N_API_ONLY_VIDEOS, taken)
        # WebVTT file names are split at the first "_" to get the video id: no "_" in these ids.
        self.vtt_ids = make_video_ids(rng, N_VTT_VIDEOS, taken, alphabet=ID_ALPHABET.replace("_", ""))

    def add_scene(self, scene: dict, used_in: str) -> dict:
        self.scenes[scene["video_id"]] = scene
        self.used_in.setdefault(scene["video_id"], []).append(used_in)
        return scene

    def defect(self, source: str, raw_file: str, raw_row: int, key: str, defect: str) -> None:
        self.defects.append({"source": source, "raw_file": raw_file, "raw_row": raw_row, "key": key, "defect": defect})

    # ---------------------------------------------------------------- LVD-2M
    def build_lvd(self, out: Path) -> None:
        main_rows = self._lvd_clips(self.lvd_main_ids, N_LVD_MAIN_TWO_CLIPS, LONG_DURATIONS_MAIN, hdvg=False)
        hdvg_rows = self._lvd_clips(self.hdvg_ids, N_HDVG_TWO_CLIPS, LONG_DURATIONS_HDVG, hdvg=True)
        self._lvd_write(out, "lvd2m/lvd2m_sample.csv", LVD_MAIN_COLUMNS, main_rows, LVD_MAIN_DEFECTS, "main")
        self._lvd_write(out, "lvd2m/hdvg_sample.csv", HDVG_COLUMNS, hdvg_rows, HDVG_DEFECTS, "hdvg")

    def _lvd_clips(self, ids: list[str], n_two: int, long_durations, *, hdvg: bool) -> list[dict]:
        tag = "hdvg" if hdvg else "main"
        rng = sub_rng(self.seed, "lvd-plan", tag)
        n = len(ids)
        roles = ["normal"] * n
        order = list(rng.permutation(n))
        for k in range(len(long_durations)):
            roles[order[k]] = "long"
        pos = len(long_durations)
        if not hdvg:
            for k in range(N_LOW_MOTION_MAIN):
                roles[order[pos + k]] = "still"
            pos += N_LOW_MOTION_MAIN
        for k in range(n_two):
            roles[order[pos + k]] = "two"
        pos += n_two
        if not hdvg:
            n_webvid = 30
            for k in range(n_webvid):
                roles[order[pos + k]] = "webvid"
        long_iter = iter(long_durations)
        clips = []
        for i, vid in enumerate(ids):
            srng = sub_rng(self.seed, "scene", vid)
            role = roles[i]
            if role == "long":
                scene = make_scene(srng, vid, profile="long", duration_s=next(long_iter))
            elif role == "still":
                scene = make_scene(srng, vid, profile="lvd_still")
            elif role == "two":
                scene = make_scene(srng, vid, profile="lvd", duration_s=float(srng.uniform(6.5, 8.0)))
            else:
                scene = make_scene(srng, vid, profile="lvd")
            self.add_scene(scene, "lvd2m_hdvg" if hdvg else "lvd2m_main")
            crng = sub_rng(self.seed, "clip", vid)
            scene_no, first_m = int(crng.integers(0, 120)), int(crng.integers(0, 8))
            for m, window in enumerate(self._clip_windows(crng, scene, role)):
                key = f"{vid}.{scene_no}_{first_m + m}"
                clips.append(self._lvd_clip(crng, scene, window, role, hdvg, key))
        # File order: shuffled, as a release is not sorted by anything we rely on.
        perm = sub_rng(self.seed, "lvd-order", tag).permutation(len(clips))
        return [clips[int(k)] for k in perm]

    def _clip_windows(self, rng, scene: dict, role: str) -> list[tuple[float, float]]:
        fps, d = scene["fps"], scene["duration_s"]
        for _ in range(400):
            if role == "webvid":
                w = [(0.0, d)]
            elif role == "long":
                t0 = on_grid(float(rng.uniform(0.0, 1.0)), fps)
                t1 = on_grid(d - float(rng.uniform(0.0, 1.0)), fps)
                w = [(t0, t1)]
            elif role == "two":
                cut = on_grid(float(rng.uniform(3.0, d - 3.0)), fps)
                w = [(on_grid(float(rng.uniform(0.0, 0.5)), fps), cut),
                     (on_grid(cut + float(rng.uniform(0.0, 0.5)), fps), on_grid(d - float(rng.uniform(0.0, 0.5)), fps))]
            else:
                t0 = on_grid(float(rng.uniform(0.0, max(0.0, min(1.0, d - 2.5)))), fps)
                t1 = on_grid(d - float(rng.uniform(0.0, max(0.0, min(1.0, d - t0 - 2.2)))), fps)
                w = [(t0, t1)]
            ok = all(b - a >= 2.0 and window_is_clear(scene, a, b) for a, b in w)
            if role == "long":
                a, b = w[0]
                k = 1
                while a + 30.0 * k < b:
                    ok = ok and window_is_clear(scene, a + 30.0 * k, a + 30.0 * k + 0.01)
                    k += 1
                ok = ok and b - a >= 20.5
            if ok and all(window_facts(scene, a, b).shapes for a, b in w):
                return w
        raise RuntimeError(f"no clear clip window in {scene['video_id']}")

    def _lvd_clip(self, rng, scene: dict, window: tuple[float, float], role: str, hdvg: bool, key: str) -> dict:
        vid = scene["video_id"]
        t0, t1 = window
        f = window_facts(scene, t0, t1)
        if hdvg:
            src = "hdvg"
        elif role == "webvid":
            src = "webvid"
        else:
            src = pick(rng, ("panda70m", "panda70m", "panda70m", "internvid", "internvid"))
        moving = [v.speed for v in f.shapes if v.motion != "still"]
        if moving:
            score = 20.0 + 1.2 * sum(moving) + float(rng.uniform(0.5, 7.0))
        else:
            score = float(rng.uniform(3.0, 15.0))
        refined = refined_caption(rng, f)
        clip = {
            "key": key, "video_id": vid, "dataset_src": src, "t0": t0, "t1": t1, "role": role, "facts": f,
            "url": (f"https://example.invalid/webvid/{key}.mp4" if src == "webvid"
                    else f"https://www.youtube.com/watch?v={vid}"),
            "orig_caption": orig_caption(rng, f),
            "raw_caption": raw_caption(rng, scene, t0, t1),
            "refined_caption": refined,
            "prefix": chance(rng, 0.2),
            "rewritten_caption": rewritten_caption(rng, f),
            "total score": repr(round(score, 4)),
            "video_time": fmt_float(t1 - t0),
            "span": "" if src == "webvid" else fmt_span(t0, t1),
            "seed_rng": rng,
        }
        if hdvg:
            fps, d = scene["fps"], scene["duration_s"]
            os_ = on_grid(float(rng.uniform(0.0, t0)), fps) if t0 > 0 and chance(rng, 0.6) else 0.0
            to_end = chance(rng, 0.35)
            oe = t1 if to_end else on_grid(float(rng.uniform(t1, d)), fps)
            a = int(round((t0 - os_) * fps))
            b = -1 if to_end else int(round((t1 - os_) * fps))
            clip["orig_span"] = fmt_span(os_, oe)
            clip["scene_cut"] = f"[{a}, {b}]"
        return clip

    def _lvd_write(self, out: Path, rel: str, columns: list[str], clips: list[dict], targets: dict, tag: str) -> None:
        rng = sub_rng(self.seed, "lvd-defects", tag)
        raw_file = f"{REPO_PREFIX}/{rel}"
        n = len(clips)
        defect_of: dict[int, str] = {}
        sources: set[int] = set()
        for i, c in enumerate(clips):
            if c["role"] == "long":
                defect_of[i] = "long_clip"
            elif c["role"] == "still":
                defect_of[i] = "low_motion"

        def free(i, need_span=False, min_shapes=1, comma=False):
            c = clips[i]
            return (i not in defect_of and i not in sources and (not need_span or c["span"])
                    and len(c["facts"].shapes) >= min_shapes and (not comma or "," in c["refined_caption"]))

        def choose(k, need_span=False, lo=0, min_shapes=1, comma=False):
            cand = [i for i in range(lo, n) if free(i, need_span, min_shapes, comma)]
            picked = rng.choice(cand, size=k, replace=False)
            return sorted(int(p) for p in picked)

        # Order matters only for reproducibility.
        for defect in ("hallucinated_repeat", "too_long", "non_english", "too_short", "broken_span",
                       "inverted_span", "ragged_row", "bad_number"):
            k = targets.get(defect, 0)
            if not k:
                continue
            if defect in ("broken_span", "inverted_span"):
                idx = choose(k, need_span=True)
            elif defect == "too_long":
                idx = choose(k, min_shapes=2)
            elif defect == "ragged_row":
                idx = choose(k, comma=True)
            else:
                idx = choose(k)
            for i in idx:
                defect_of[i] = defect
        for defect in ("exact_duplicate", "near_duplicate"):
            k = targets.get(defect, 0)
            for i in choose(k, lo=n // 4):
                cand = [j for j in range(i) if j not in defect_of and j not in sources
                        and clips[j]["video_id"] != clips[i]["video_id"]]
                j = int(pick(rng, cand))
                sources.add(j)
                defect_of[i] = defect
                clips[i]["copy_from"] = j

        rows: list[list[str]] = []
        rows_by_index: dict[int, dict] = {}
        seen_refined: set[str] = set()
        lang_cycle = ["es", "fr", "de"]
        n_foreign = 0
        broken = ["['00:00:01.000'", "['00:00:xx', '00:00:05.000']", "['00:00:02.250', None]",
                  "['00:00:00.500' '00:00:04.000']", "['00:00:01.000', '00:00:03.000', '00:00:05.000']"]
        n_broken = 0
        n_ragged = 0
        for i, c in enumerate(clips):
            crng = c["seed_rng"]
            d = defect_of.get(i)
            refined = ("CAPTION: " if c["prefix"] else "") + c["refined_caption"]
            # Clean captions must be unique, or they would be accidental duplicates.
            tries = 0
            while d not in ("exact_duplicate", "near_duplicate", "hallucinated_repeat") and refined in seen_refined:
                tries += 1
                refined = refined_caption(sub_rng(self.seed, "recaption", c["key"], tries), c["facts"])
            span = c["span"]
            video_time = c["video_time"]
            if d == "hallucinated_repeat":
                refined = HALLUCINATION
            elif d == "exact_duplicate":
                refined = rows_by_index[c["copy_from"]]["refined_caption"]
            elif d == "near_duplicate":
                refined = near_duplicate(crng, rows_by_index[c["copy_from"]]["refined_caption"])
            elif d == "non_english":
                refined = foreign_caption(crng, c["facts"], lang_cycle[n_foreign % 3])
                n_foreign += 1
            elif d == "too_short":
                refined = too_short_caption(crng, c["facts"])
            elif d == "too_long":
                refined = too_long_caption(crng, c["facts"])
            elif d == "broken_span":
                span = broken[n_broken % len(broken)]
                n_broken += 1
            elif d == "inverted_span":
                span = fmt_span(c["t1"], c["t0"])
            elif d == "bad_number":
                video_time = "unknown"
            seen_refined.add(refined)
            if d not in ("hallucinated_repeat", "exact_duplicate", "near_duplicate", "non_english", "too_short",
                         "too_long", "ragged_row"):
                self.clean_words.append(words(refined.removeprefix("CAPTION: ")))
            values = {
                "key": c["key"], "video_id": c["video_id"], "url": c["url"], "dataset_src": c["dataset_src"],
                "orig_caption": c["orig_caption"], "raw_caption": c["raw_caption"], "refined_caption": refined,
                "rewritten_caption": c["rewritten_caption"], "total score": c["total score"],
                "video_time": video_time, "span": span,
                "orig_span": c.get("orig_span", ""), "scene_cut": c.get("scene_cut", ""),
            }
            rows_by_index[i] = values
            row = [values[col] for col in columns]
            if d == "ragged_row":
                if n_ragged == 0:
                    row = row[:-2]  # a record cut short
                else:
                    col = columns.index("refined_caption")
                    head, _, tail = row[col].partition(",")
                    row = row[:col] + [head, tail] + row[col + 1:]  # an unquoted comma: one field too many
                n_ragged += 1
            rows.append(row)
            if d is not None:
                self.defect("lvd2m", raw_file, i + 2, c["key"], d)
        write_csv(out / rel, columns, rows)
        self.record_counts[raw_file] = n
        counted = {}
        for i, d in defect_of.items():
            counted[d] = counted.get(d, 0) + 1
        for d, k in targets.items():
            assert counted.get(d, 0) == k, (rel, d, counted.get(d), k)

    def build_webvid(self, out: Path) -> None:
        """Clean WebVid clips of the whole video (no span column value, numeric ids as WebVid's)."""
        taken = set(self.scenes)
        ids = make_video_ids(sub_rng(self.seed, "webvid-ids"), N_WEBVID_VIDEOS, taken, alphabet="0123456789")
        clips = []
        for vid in ids:
            scene = self.add_scene(make_scene(sub_rng(self.seed, "scene", vid), vid, profile="lvd"), "lvd2m_webvid")
            crng = sub_rng(self.seed, "clip", vid)
            for m, window in enumerate(self._clip_windows(crng, scene, "webvid")):
                clips.append(self._lvd_clip(crng, scene, window, "webvid", False, f"{vid}.0_{m}"))
        self._lvd_write(out, "lvd2m/webvid_sample.csv", LVD_MAIN_COLUMNS, clips, {}, "webvid")

    # ---------------------------------------------------------------- YouDescribe
    def build_youdescribe(self, out: Path) -> None:
        rng = sub_rng(self.seed, "youdescribe-plan")
        for vid in self.yuwa_ids + self.api_only_ids:
            self.add_scene(make_scene(sub_rng(self.seed, "scene", vid), vid, profile="events"),
                           "youdescribe_csv" if vid in self.yuwa_ids else "youdescribe_api")
        both = [self.yuwa_ids[k] for k in sorted(int(x) for x in rng.choice(len(self.yuwa_ids), 2, replace=False))]
        for vid in both:
            self.used_in[vid].append("youdescribe_api")
        # statuses per video
        status = {}
        perm = [int(x) for x in rng.permutation(len(self.yuwa_ids))]
        for rank, k in enumerate(perm):
            vid = self.yuwa_ids[k]
            status[vid] = "" if rank < 12 else "unavailable" if rank < 20 else "available"
        for vid in both:  # the cross-format pair stays clean
            if status[vid] == "":
                swap = next(v for v in self.yuwa_ids if status[v] == "available" and v not in both)
                status[swap], status[vid] = "", "available"
        two_desc = [v for v in self.yuwa_ids if v not in both][:2]

        # descriptions
        base_ts = 1488000000  # 2017-02
        descriptions = []
        counter = int(rng.integers(0x100000, 0x800000))
        for k, vid in enumerate(self.yuwa_ids):
            for d_i in range(2 if vid in two_desc else 1):
                ts = base_ts + int(rng.integers(0, 5 * 365 * 86400))
                legacy = ts < base_ts + 200 * 86400 or (vid not in both and chance(rng, 0.1))
                descriptions.append(self._description(sub_rng(self.seed, "desc", vid, d_i), vid, ts, legacy,
                                                      status[vid], counter))
                counter += 40
        descriptions.sort(key=lambda d: d["id"])
        api_desc = {}
        for vid in self.api_only_ids:
            ts = base_ts + int(rng.integers(400 * 86400, 5 * 365 * 86400))
            api_desc[vid] = [self._description(sub_rng(self.seed, "desc", vid, 0), vid, ts, False, "available", counter)]
            counter += 40
        for d in descriptions:
            if d["video_id"] in both:
                api_desc.setdefault(d["video_id"], []).append(d)

        self._write_yuwa(out, descriptions, both, rng)
        self._write_api(out, api_desc, both)

    def _description(self, rng, vid: str, ts: int, legacy: bool, status: str, counter: int) -> dict:
        scene = self.scenes[vid]
        machine = int(rng.integers(0, 1 << 40))
        desc_id = object_id(ts, machine, counter)
        events = scene_events(scene)
        all_event_times = [e[0] for e in events]
        intro = chance(rng, 0.85) or len(events) == 1
        n_events = min(len(events), int(rng.integers(2, 5)) if intro else int(rng.integers(2, 6)))
        chosen = sorted(int(x) for x in rng.choice(len(events), n_events, replace=False))
        moments = [(float(rng.uniform(0.0, 0.4)), "intro", None)] if intro else []
        for k in chosen:
            t, kind, idx = events[k]
            moments.append((t + float(rng.uniform(0.15, 0.5)), kind, idx))
        style = "legacy" if legacy else pick(rng, ("float", "micro", "float"))
        lower = (not legacy) and chance(rng, 0.25)
        clips = []
        clip_ts = ts + int(rng.integers(60, 3000))
        legacy_name = clip_ts * 10000 + int(rng.integers(0, 10000))
        for m_i, (t, kind, idx) in enumerate(moments):
            if style == "legacy":
                start = round(t, 3)
            elif style == "micro":
                start = round(t, 6)
            else:
                start = t
            nxt = min([e for e in all_event_times if e > start] + [scene["duration_s"]])
            room = nxt - start - 0.05
            inline = room >= 1.6 and chance(rng, 0.5)
            if inline:
                dur = float(rng.uniform(1.5, min(3.5, room)))
            else:
                dur = float(rng.uniform(2.0, 5.5))
            if style == "legacy":
                dur = round(dur, 2)
                if inline and start + dur > nxt - 0.05:
                    dur = round(dur - 0.01, 2)
            elif style == "micro":
                dur = int(dur * 44100) / 44100
            else:
                dur = int(dur / 0.000256) * 0.000256 if chance(rng, 0.5) else int(dur * 44100) / 44100
            text = " " + moment_text(rng, scene, kind, idx, t)
            if lower:
                text = stt_lower(text)
            clip_ts += int(rng.integers(5, 90))
            clip_id = object_id(clip_ts, machine, counter + 1 + m_i)
            if legacy:
                file_path, file_name = "/legacy", f"{legacy_name + m_i * int(rng.integers(2000, 900000))}.wav"
            else:
                file_path, file_name = f"/current/{vid}", f"{vid}_{clip_id}.wav"
            clips.append({"id": clip_id, "start": start, "duration": dur, "inline": inline, "text": text,
                          "file_path": file_path, "file_name": file_name, "kind": kind, "shape": idx, "t": t,
                          "style": style})
        return {"id": desc_id, "video_id": vid, "status": status, "clips": clips, "legacy": legacy,
                "lower": lower, "ts": ts, "machine": machine}

    @staticmethod
    def _times(clip: dict) -> tuple[str, str, str]:
        start, dur = clip["start"], clip["duration"]
        s = repr(float(start))
        e = repr(float(start + dur)) if clip["inline"] else s
        return s, e, repr(float(dur))

    def _write_yuwa(self, out: Path, descriptions: list[dict], both: list[str], rng) -> None:
        rel = "youdescribe/yuwa_sample_world.csv"
        raw_file = f"{REPO_PREFIX}/{rel}"
        # Descriptions whose rows are not in start_time order (need >= 3 clips).
        eligible = [d for d in descriptions if len(d["clips"]) >= 3 and d["video_id"] not in both]
        unsorted = {eligible[int(k)]["id"] for k in rng.choice(len(eligible), 4, replace=False)}
        self.n_unsorted = len(unsorted)
        records = []  # (desc, clip, defects)
        for d in descriptions:
            order = list(range(len(d["clips"])))
            if d["id"] in unsorted:
                if chance(rng, 0.5):
                    order = order[1:] + order[:1]
                else:
                    order[-1], order[-2] = order[-2], order[-1]
            for k in order:
                records.append([d, d["clips"][k], []])
        # row-level defects on distinct rows outside the cross-format videos
        free = [i for i, (d, c, _) in enumerate(records) if d["video_id"] not in both]
        picks = [int(x) for x in rng.permutation(free)]
        plan = {}
        for name, k in (("non_english", 2), ("too_short", 2), ("ragged_row", 1), ("bad_playback_type", 1)):
            for _ in range(k):
                if name == "ragged_row":
                    # an unquoted comma in the transcript is what splits the record
                    i = next(j for j in picks if j not in plan and "," in records[j][1]["text"])
                else:
                    i = next(i for i in picks if i not in plan)
                plan[i] = name
        noise_cands = [i for i in picks if i not in plan]
        for i in noise_cands[:16]:
            plan.setdefault(i, "stt_noise")

        rows = []
        langs = ["es", "fr"]
        n_lang = 0
        for i, (d, c, _) in enumerate(records):
            crng = sub_rng(self.seed, "yuwa-row", c["id"])
            start, end, dur = self._times(c)
            ptype = "inline" if c["inline"] else "extended"
            text = c["text"]
            p = plan.get(i)
            scene = self.scenes[d["video_id"]]
            if p == "non_english":
                text = foreign_moment(scene, c["kind"], c["shape"], c["t"], langs[n_lang % 2])
                n_lang += 1
                c["text"] = text
            elif p == "too_short":
                text = self._too_short_moment(scene, c)
                c["text"] = text
            elif p == "stt_noise":
                text = add_stt_noise(crng, text)
                c["text"] = text
            elif p == "bad_playback_type":
                ptype = "sideways"
            row = [d["video_id"], d["id"], c["id"], d["status"], c["file_path"], c["file_name"], start, end, dur,
                   ptype, text]
            if p == "ragged_row":
                head, _, tail = text.partition(",")
                row = row[:-1] + [head, tail]
            rows.append(row)
            rr = i + 2
            if p is not None:
                self.defect("youdescribe", raw_file, rr, c["id"], p)
            if d["status"] == "":
                self.defect("youdescribe", raw_file, rr, c["id"], "blank_status")
            if d["id"] in unsorted:
                self.defect("youdescribe", raw_file, rr, c["id"], "unsorted_clips")
        write_csv(out / rel, YUWA_COLUMNS, rows)
        self.record_counts[raw_file] = len(rows)

    @staticmethod
    def _too_short_moment(scene: dict, c: dict) -> str:
        if c["kind"] == "sign":
            return " " + scene["sign"]["word"].capitalize() + " sign."
        s = scene["shapes"][c["shape"]] if c["shape"] is not None else scene["shapes"][0]
        colour = shape_colour_at(s, c["t"])
        return f" {colour.capitalize()} {s['kind']}."

    def _write_api(self, out: Path, api_desc: dict[str, list[dict]], both: list[str]) -> None:
        rng = sub_rng(self.seed, "api")
        vids = sorted(api_desc)
        empty_vid = next(v for v in vids if v not in both)
        for vid in vids:
            rel = f"youdescribe/api_v1/{vid}.json"
            raw_file = f"{REPO_PREFIX}/{rel}"
            scene = self.scenes[vid]
            descs = []
            clip_no = 0
            for d in api_desc[vid]:
                clips = []
                for c in sorted(d["clips"], key=lambda c: c["start"]):
                    clip_no += 1
                    start, dur = float(c["start"]), float(c["duration"])
                    end = start + dur if c["inline"] else start
                    sentence = c["text"].strip()
                    parts = [p if p.endswith(".") else p + "." for p in sentence.split(". ")] if ". " in sentence else [sentence]
                    transcript = []
                    t = 0.0
                    for p in parts:
                        share = dur * len(p) / max(1, sum(len(x) for x in parts))
                        transcript.append({"sentence": p, "start_time": round(t, 3), "end_time": round(t + share, 3)})
                        t += share
                    if vid == empty_vid and clip_no == 2:
                        transcript = []
                        self.defect("youdescribe", raw_file, clip_no, c["id"], "empty_transcript")
                    if vid in both:
                        self.defect("youdescribe", raw_file, clip_no, c["id"], "cross_format_duplicate")
                    clips.append({
                        "_id": c["id"], "playback_type": "inline" if c["inline"] else "extended",
                        "start_time": start, "end_time": end, "duration": dur,
                        "file_path": c["file_path"], "file_name": c["file_name"], "transcript": transcript,
                    })
                descs.append({"_id": d["id"], "audio_clips": clips})
            result = {
                "_id": object_id(int(api_desc[vid][0]["ts"]) - int(rng.integers(3600, 90 * 86400)),
                                 int(rng.integers(0, 1 << 40)), int(rng.integers(0, 1 << 24))),
                "youtube_id": vid,
                "title": video_title(scene),
                "duration": scene["duration_s"],
                "audio_descriptions": descs,
            }
            doc = {"type": "success", "code": 1000, "status": 200, "message": "Video found", "result": result}
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes((json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
            self.record_counts[raw_file] = clip_no

    # ---------------------------------------------------------------- WebVTT
    def build_webvtt(self, out: Path) -> None:
        for n, vid in enumerate(self.vtt_ids):
            rng = sub_rng(self.seed, "vtt", vid)
            scene = self.add_scene(make_scene(sub_rng(self.seed, "scene", vid), vid, profile="events"), "ad_webvtt")
            events = scene_events(scene)
            moments = [(float(rng.uniform(0.0, 0.3)), "intro", None)] + [(t + 0.05, k, i) for t, k, i in events]
            times = [m[0] for m in moments] + [scene["duration_s"]]
            lines = ["WEBVTT"]
            if n in (1, 3):
                lines += ["Kind: descriptions", "Language: en"]
            lines.append("")
            if n == 2:
                lines += ["NOTE Audio description track for a sample-world video.",
                          "Cue settings place the text; readers should ignore them.", ""]
            for k, (t, kind, idx) in enumerate(moments):
                end = min(times[k + 1] - 0.05, t + float(rng.uniform(1.5, 3.0)))
                text = moment_text(rng, scene, kind, idx, t)
                if n == 3 and k == 0 and ". " in text:
                    head, _, tail = text.partition(". ")
                    text = head + ".\n" + tail  # a cue spanning two lines
                elif n == 3 and k == 0:
                    text = text.replace(", ", ",\n", 1) if ", " in text else text
                if n == 4:
                    lines.append(str(k + 1))  # cue identifiers
                settings = " align:start line:85%" if n == 2 else ""
                if n == 5:
                    timing = f"{fmt_ts(t)[3:]} --> {fmt_ts(end)[3:]}"  # MM:SS.mmm short form (valid WebVTT)
                else:
                    timing = f"{fmt_ts(t)} --> {fmt_ts(end)}"
                lines += [timing + settings, text, ""]
            rel = f"ad_webvtt/{vid}_descriptions_en.vtt"
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(("\n".join(lines)).encode("utf-8"))
            self.record_counts[f"{REPO_PREFIX}/{rel}"] = len(moments)

    # ---------------------------------------------------------------- outputs
    def write_scenes(self, out: Path) -> None:
        lines = []
        for vid, scene in self.scenes.items():
            rec = dict(scene)
            rec["used_in"] = self.used_in[vid]
            rec["video_file"] = f"videos/{vid}.mp4"
            lines.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
        (out / "scenes.jsonl").write_bytes(("\n".join(lines) + "\n").encode("utf-8"))

    def write_defects(self, out: Path) -> None:
        rows = sorted(self.defects, key=lambda d: (d["source"], d["raw_file"], d["raw_row"], d["defect"]))
        write_csv(out / "defects.csv", ["source", "raw_file", "raw_row", "key", "defect"],
                  [[d["source"], d["raw_file"], str(d["raw_row"]), d["key"], d["defect"]] for d in rows])

    def defect_table(self) -> list[tuple[str, str, str, int, int]]:
        counts: dict[tuple[str, str, str], int] = {}
        for d in self.defects:
            raw_file = d["raw_file"]
            if "/api_v1/" in raw_file:
                raw_file = f"{REPO_PREFIX}/youdescribe/api_v1/*.json"
            k = (d["source"], raw_file, d["defect"])
            counts[k] = counts.get(k, 0) + 1
        api_total = sum(v for k, v in self.record_counts.items() if "/api_v1/" in k)
        out = []
        for (source, raw_file, defect), n in sorted(counts.items()):
            total = api_total if raw_file.endswith("*.json") else self.record_counts[raw_file]
            out.append((source, raw_file, defect, n, total))
        return out


def video_title(scene: dict) -> str:
    s = scene["shapes"][0]
    title = f"{s['colour'].capitalize()} {s['kind']} on {scene['background']}"
    if len(scene["shapes"]) > 1:
        title += f" with {NUMBER_WORDS[len(scene['shapes']) - 1]} more shape{'s' if len(scene['shapes']) > 2 else ''}"
    if scene["sign"] is not None:
        title += f" and a {scene['sign']['word']} sign"
    return title
