"""English text of the sample world, generated from window facts: every sentence is true of the pixels.

- phrases: times, speeds, motion verb phrases, noun phrases and references;
- LVD-2M `refined_caption` (`refined_caption`, plus the too-long and too-short defect variants);
- LVD-2M `raw_caption` (LLaVA-style `llava_paragraph`, split into `Caption k:` parts over 30 s),
  `rewritten_caption` (short prompt) and `orig_caption` (alt text);
- `moment_text`: what a describer says right after an event (YouDescribe clips, WebVTT cues), and
  the speech-to-text styles of YouDescribe transcripts (`add_stt_noise`, `stt_lower`).

Several templates per fact, chosen with the caller's generator, keep the wording varied.
"""

from __future__ import annotations

from sampleworld.facts import (
    HREGION_PHRASE, HSIDE, NUMBER_WORDS, VSIDE, ShapeView, SignView, WindowFacts, article, cap, count_phrase, hpos,
    region_phrase, vpos, window_facts,
)
from sampleworld.scenes import chance, pick, shape_colour_at, shape_xy


# --------------------------------------------------------------------------------------
# English text: phrases
# --------------------------------------------------------------------------------------


def time_phrase(rng, rel: float) -> str:
    if rel < 1.0:
        return pick(rng, ["within the first second", "almost immediately", "a moment after the start"])
    n = int(round(rel))
    unit = "second" if n == 1 else "seconds"
    opts = [f"after about {n} {unit}", f"roughly {n} {unit} in", f"around the {n}-second mark"]
    return pick(rng, opts)


def speed_adverb(rng, v: ShapeView) -> str:
    if v.speed < 5:
        return "slowly "
    if v.speed > 14:
        return pick(rng, ["quickly ", "rapidly "])
    return pick(rng, ["", "steadily ", "smoothly "])


def motion_vp(rng, v: ShapeView) -> str:
    """Verb phrase, third person singular present, true over the shape's visible part of the window."""
    sx, sy = v.start_xy
    ex, ey = v.end_xy
    if v.motion == "still":
        reg = region_phrase(sx, sy)
        return pick(rng, [f"stays still {reg}", f"remains motionless {reg}", f"sits {reg} without moving",
                          f"does not move from its spot {reg}"])
    spd = speed_adverb(rng, v)
    if v.motion in ("left_to_right", "right_to_left"):
        a, b = ("left", "right") if v.motion == "left_to_right" else ("right", "left")
        opts = [f"moves {spd}from {a} to {b}", f"glides {spd}toward the {b}", f"slides {spd}across the frame from {a} to {b}",
                f"travels {spd}in a straight line toward the {b} side"]
        if hpos(sx) != hpos(ex):
            opts.append(f"travels from the {HSIDE[hpos(sx)]} to the {HSIDE[hpos(ex)]} of the frame")
        return pick(rng, opts)
    if v.motion == "up":
        opts = [f"rises {spd}toward the top", f"moves {spd}upward", f"drifts {spd}upward"]
        if vpos(sy) != vpos(ey):
            opts.append(f"climbs from the {VSIDE[vpos(sy)]} to the {VSIDE[vpos(ey)]} of the frame")
        return pick(rng, opts)
    if v.motion == "down":
        opts = [f"sinks {spd}toward the bottom", f"moves {spd}downward", f"drifts {spd}down the frame"]
        if vpos(sy) != vpos(ey):
            opts.append(f"descends from the {VSIDE[vpos(sy)]} to the {VSIDE[vpos(ey)]} of the frame")
        return pick(rng, opts)
    reg = HREGION_PHRASE[hpos(sx)]
    if v.visible_s < (v.bounce_period or 1.0):
        return f"begins to bounce up and down {reg}"
    if v.visible_s >= 2 * (v.bounce_period or 1.0):
        return pick(rng, [f"bounces up and down {reg}", f"keeps bouncing up and down {reg}",
                          f"hops up and down repeatedly {reg}"])
    return pick(rng, [f"bounces up and down {reg}", f"hops up and down {reg}"])


def noun(v: ShapeView, colour: str | None = None, size: bool = False) -> str:
    colour = colour or v.colour0
    return article(f"{v.size} {colour} {v.kind}" if size else f"{colour} {v.kind}")


def ref(f: WindowFacts, v: ShapeView, colour: str | None = None) -> str:
    """Definite reference that is unambiguous within the window."""
    colour = colour or v.colour0
    return f"the {v.kind}" if f.kind_unique(v.kind) else f"the {colour} {v.kind}"


def breakdown(views: list[ShapeView]) -> str:
    kinds: dict[str, int] = {}
    for v in views:
        kinds[v.kind] = kinds.get(v.kind, 0) + 1
    parts = [count_phrase(n, k) if n > 1 else article(k) for k, n in kinds.items()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def sign_where(sv: SignView) -> str:
    return f"at the {sv.position}"


# --------------------------------------------------------------------------------------
# English text: LVD-2M refined caption (paragraph)
# --------------------------------------------------------------------------------------


def generic_sentences(f: WindowFacts) -> list[str]:
    """Sentences true of every clip of the world (flat shapes, fixed camera, no audio track)."""
    bg = f.bg
    many = len(f.shapes) > 1
    out = [
        "The camera stays completely still for the whole clip.",
        "There is no camera movement: no panning, tilting or zooming.",
        f"The {bg} background is flat and never changes colour.",
        "No people, animals or vehicles appear at any point.",
        "The shapes are drawn in solid, flat colours with no shading or texture." if many else
        "The shape is drawn in a solid, flat colour with no shading or texture.",
        "Each shape keeps the same size from start to finish." if many else
        "The shape keeps the same size from start to finish.",
        "There are no cuts or transitions; the clip is one continuous shot.",
        "The overall look is that of a simple, minimalist motion graphic.",
        "The frame is square and the composition is uncluttered.",
        "Nothing in the scene casts a shadow.",
        "The lighting is even across the whole frame.",
        f"The edges of the {'shapes' if many else 'shape'} are sharp against the {bg} backdrop.",
        "The scene looks computer-generated rather than filmed.",
        "Every shape stays fully inside the frame." if many else "The shape stays fully inside the frame.",
        "The background fills the entire frame from edge to edge.",
        "There is no soundtrack, dialogue or narration.",
    ]
    if len(f.shapes) > 1:
        out.append("The shapes never touch or overlap one another.")
    if f.sign is None:
        out.append("No text, logos or subtitles appear on screen.")
    else:
        out.append("Apart from the word on the sign, no text or logos appear.")
    return out


def opening_sentence(rng, f: WindowFacts) -> str:
    bg = f.bg
    n = f.n_end()
    opts = [
        f"The video shows a simple animation on a plain {bg} background.",
        f"This short clip presents flat geometric shapes against a solid {bg} backdrop.",
        f"The video captures a minimalist animated scene set on a {bg} background.",
        f"Set against a uniform {bg} background, the clip shows {NUMBER_WORDS[n]} simple shape{'s' if n > 1 else ''}.",
    ]
    return pick(rng, opts)


def shape_sentences(rng, f: WindowFacts, v: ShapeView) -> list[str]:
    out = []
    vp = motion_vp(rng, v)
    if v.appears_rel is None:
        nn = noun(v, size=chance(rng, 0.6))
        out.append(pick(rng, [
            f"{cap(nn)} {vp}.",
            f"On the {f.bg} background, {nn} {vp}.",
            f"There is {nn} that {vp}.",
            f"From the start, {nn} {vp}.",
        ]))
    else:
        nn = noun(v, size=chance(rng, 0.5))
        tp = time_phrase(rng, v.appears_rel)
        where = region_phrase(*v.start_xy)
        out.append(pick(rng, [
            f"{cap(tp)}, {nn} appears {where} and {vp}.",
            f"{cap(tp)}, {nn} pops into view {where}; it then {vp}.",
            f"{cap(nn)} appears {where} {tp} and {vp}.",
        ]))
    if v.change is not None:
        rel, c1, c2 = v.change
        r = ref(f, v, c1)
        tp = time_phrase(rng, rel)
        opts = [
            f"{cap(tp)}, {r} changes colour from {c1} to {c2}.",
            f"{cap(r)} then turns from {c1} to {c2}, {tp}.",
        ]
        if 0.3 <= rel / f.length <= 0.7:
            opts.append(f"Partway through, {r} switches from {c1} to {c2}.")
        if f.kind_unique(v.kind):
            opts.append(f"Its colour later changes to {c2} ({tp}).")
        out.append(pick(rng, opts))
    return out


def sign_sentence(rng, f: WindowFacts) -> str:
    s = f.sign
    where = sign_where(s)
    if s.appears_rel is None:
        return pick(rng, [
            f"A pale sign {where} of the frame reads \"{s.word}\".",
            f"{cap(where)} of the frame, a light rectangular sign shows the word {s.word} in dark letters.",
            f"A white sign with the word \"{s.word}\" is displayed {where}.",
        ])
    tp = time_phrase(rng, s.appears_rel)
    return pick(rng, [
        f"{cap(tp)}, a sign with the word \"{s.word}\" appears {where}.",
        f"A light sign reading {s.word} shows up {where} {tp}.",
    ])


def count_sentence(rng, f: WindowFacts) -> str:
    a, b = f.n_start(), f.n_end()
    if a == b:
        if b == 1:
            return pick(rng, ["Only one shape is visible throughout.", "No other shape appears in the clip."])
        return pick(rng, [
            f"{cap(NUMBER_WORDS[b])} shapes are visible throughout the clip.",
            f"In total there are {NUMBER_WORDS[b]} shapes: {breakdown(f.shapes)}.",
        ])
    if a == 0:
        return f"At first no shape is visible, but by the end there {'is' if b == 1 else 'are'} {NUMBER_WORDS[b]}."
    return pick(rng, [
        f"The clip starts with {NUMBER_WORDS[a]} shape{'s' if a > 1 else ''} and ends with {NUMBER_WORDS[b]}.",
        f"By the end, {NUMBER_WORDS[b]} shapes are on screen: {breakdown(f.shapes)}.",
        f"At first only {NUMBER_WORDS[a]} shape{'s are' if a > 1 else ' is'} visible, but by the end there are {NUMBER_WORDS[b]}.",
    ])


def words(text: str) -> int:
    return len(text.split())


def refined_caption(rng, f: WindowFacts, lo: int = 45, hi: int = 110) -> str:
    core = [opening_sentence(rng, f)]
    sign_first = f.sign is not None and f.sign.appears_rel is None and chance(rng, 0.5)
    if sign_first:
        core.append(sign_sentence(rng, f))
    for v in f.shapes:
        core.extend(shape_sentences(rng, f, v))
    if f.sign is not None and not sign_first:
        core.append(sign_sentence(rng, f))
    core.append(count_sentence(rng, f))
    fillers = generic_sentences(f)
    order = rng.permutation(len(fillers))
    target = int(rng.integers(max(lo, 50), 96))
    text = " ".join(core)
    extra = []
    for k in order:
        if words(text) + sum(words(e) for e in extra) >= target:
            break
        extra.append(fillers[int(k)])
    text = " ".join(core + extra)
    while words(text) > hi and extra:
        extra.pop()
        text = " ".join(core + extra)
    return text


def too_long_caption(rng, f: WindowFacts) -> str:
    """A truthful but rambling caption of more than 300 words."""
    parts = [opening_sentence(rng, f)]
    for v in f.shapes:
        parts.extend(shape_sentences(rng, f, v))
    if f.sign is not None:
        parts.append(sign_sentence(rng, f))
    parts.append(count_sentence(rng, f))
    parts.extend(generic_sentences(f))
    parts.append(llava_paragraph(rng, f))
    parts.extend([
        f"Looking more closely, the {f.bg} backdrop is perfectly uniform, without gradients, grain or vignetting, "
        "so the eye is drawn straight to the coloured forms.",
        "Because nothing else competes for attention, even small changes in position or colour are easy to follow.",
        "The animation proceeds at an even pace, and no element speeds up, slows down or changes size unexpectedly.",
        "From a technical point of view, the clip resembles a test pattern or a teaching aid that demonstrates "
        "motion, counting and colour recognition.",
        "A viewer could describe every frame precisely, since the scene contains only a handful of clearly separated elements.",
        "In summary, this is a short, calm and highly legible piece of motion design with a fixed viewpoint and a "
        "restrained colour palette.",
        "Such a clip is well suited to checking whether a description model can report positions, directions, counts "
        "and colours accurately.",
    ])
    text = " ".join(parts)
    assert words(text) > 300, words(text)
    return text


def too_short_caption(rng, f: WindowFacts) -> str:
    v = f.shapes[0]
    if v.motion == "still":
        verb = "stays still"
    elif v.motion == "bounce":
        verb = "bounces"
    else:
        verb = {"left_to_right": "moves right", "right_to_left": "moves left", "up": "moves up", "down": "moves down"}[v.motion]
    return pick(rng, [f"{cap(noun(v))} {verb}.", f"{cap(noun(v))} on {f.bg}.", f"Simple shapes on a {f.bg} background."])


# --------------------------------------------------------------------------------------
# English text: LLaVA-style raw caption, short prompt, alt text
# --------------------------------------------------------------------------------------


def llava_paragraph(rng, f: WindowFacts) -> str:
    out = [pick(rng, [
        f"The video shows an animated scene with a {f.bg} background.",
        f"In the video, we see a plain {f.bg} background with simple geometric shapes.",
        f"The image sequence shows a computer-generated animation on a {f.bg} background.",
    ])]
    for v in f.shapes:
        # still and bouncing shapes already say where they are in their verb phrase
        where = "" if v.motion in ("still", "bounce") else " " + region_phrase(*v.start_xy)
        if v.appears_rel is None:
            out.append(f"There is {noun(v)}{where}, which {motion_vp(rng, v)}.")
        else:
            when = "Shortly after the start" if v.appears_rel < 1.5 else pick(rng, ["Later in the video", "After a few seconds"])
            out.append(f"{when}, {noun(v)} appears{where} and {motion_vp(rng, v)}.")
        if v.change is not None:
            _, c1, c2 = v.change
            out.append(f"The {c1} {v.kind} changes its color to {c2}.")
    if f.sign is not None:
        s = f.sign
        lead = "There is also a sign" if s.appears_rel is None else "At one point, a sign appears"
        out.append(f"{lead} at the {s.position} of the frame with the word \"{s.word}\" written on it in black letters.")
    out.append(pick(rng, [
        "The overall style of the video is simple and minimalistic.",
        "The animation appears to be computer-generated, with no people or other objects present.",
        "The shapes are brightly colored and stand out clearly against the background.",
    ]))
    return " ".join(out)


def raw_caption(rng, scene: dict, t0: float, t1: float, window_s: float = 30.0) -> str:
    if t1 - t0 <= window_s:
        return llava_paragraph(rng, window_facts(scene, t0, t1))
    parts = []
    k = 0
    while t0 + k * window_s < t1 - 1e-9:
        a = t0 + k * window_s
        b = min(t0 + (k + 1) * window_s, t1)
        parts.append(f"Caption {k + 1}: {llava_paragraph(rng, window_facts(scene, a, b))}")
        k += 1
    return " ".join(parts)


def short_vp(rng, v: ShapeView) -> str:
    return {
        "left_to_right": pick(rng, ["gliding left to right", "sliding to the right", "moving rightward"]),
        "right_to_left": pick(rng, ["gliding right to left", "sliding to the left", "moving leftward"]),
        "up": pick(rng, ["rising upward", "floating up"]),
        "down": pick(rng, ["sinking downward", "drifting down"]),
        "bounce": pick(rng, ["bouncing up and down", "hopping in place"]),
        "still": pick(rng, ["standing still", "resting motionless"]),
    }[v.motion]


def rewritten_caption(rng, f: WindowFacts) -> str:
    v = f.shapes[0]
    first = f"{cap(noun(v))} {short_vp(rng, v)}"
    tail = pick(rng, [f" on a plain {f.bg} screen", f" against a {f.bg} backdrop", f" over a flat {f.bg} background"])
    extra = ""
    if len(f.shapes) > 1:
        w = f.shapes[1]
        extra = f", and {noun(w)} {short_vp(rng, w)}" + (" after it appears" if w.appears_rel is not None else "")
    sign = ""
    if f.sign is not None:
        sign = f", with a sign reading {f.sign.word} at the {f.sign.position}"
    change = ""
    for s in f.shapes[:2]:
        if s.change is not None:
            change = f"; the {s.change[1]} {s.kind} turns {s.change[2]}"
            break
    return f"{first}{tail}{extra}{sign}{change}."


def orig_caption(rng, f: WindowFacts) -> str:
    v = f.shapes[0]
    mv = {"left_to_right": "moving right", "right_to_left": "moving left", "up": "moving up", "down": "moving down",
          "bounce": "bouncing", "still": "still"}[v.motion]
    opts = [f"{v.colour0} {v.kind} {mv} on {f.bg} background",
            f"animated {v.colour0} {v.kind} on {f.bg}",
            f"{breakdown(f.shapes)} on a {f.bg} background"]
    if f.sign is not None:
        opts.append(f"{f.sign.word} sign and {breakdown(f.shapes)}")
    if v.change is not None:
        opts.append(f"{v.kind} changing from {v.change[1]} to {v.change[2]}")
    return pick(rng, opts)


# --------------------------------------------------------------------------------------
# English text: moments (YouDescribe clips, WebVTT cues)
# --------------------------------------------------------------------------------------


def moment_text(rng, scene: dict, kind: str, shape_idx: int | None, t: float) -> str:
    """What a describer says at time t (seconds into the video) about an event just seen.

    kind: intro (the scene as it is at t) | appear | colour | sign.
    """
    f = window_facts(scene, t, t + 1.0 / scene["fps"])
    duration = scene["duration_s"]
    views = {v.idx: v for v in f.shapes}
    bg = scene["background"]

    def here(i):
        s = scene["shapes"][i]
        x, y = shape_xy(s, t, duration)
        return region_phrase(float(x), float(y))

    def what(i):
        s = scene["shapes"][i]
        return article(f"{shape_colour_at(s, t)} {s['kind']}")

    def verb(i):
        return {"left_to_right": "moving to the right", "right_to_left": "moving to the left", "up": "moving up",
                "down": "moving down", "bounce": "bouncing up and down", "still": "standing still"}[scene["shapes"][i]["motion"]]

    if kind == "intro":
        idxs = [v.idx for v in f.shapes]
        if len(idxs) == 1:
            i = idxs[0]
            text = pick(rng, [
                f"On a {bg} background, {what(i)} is {verb(i)} {here(i)}.",
                f"{cap(what(i))} {here(i)}, against a plain {bg} background. It is {verb(i)}.",
                f"A {bg} screen with {what(i)} {here(i)}, {verb(i)}.",
            ])
        else:
            items = [f"{what(i)} {here(i)}" for i in idxs]
            listing = ", ".join(items[:-1]) + " and " + items[-1]
            text = pick(rng, [
                f"On a {bg} background, there are {NUMBER_WORDS[len(idxs)]} shapes: {listing}.",
                f"{cap(NUMBER_WORDS[len(idxs)])} shapes on a plain {bg} background: {listing}.",
            ])
        if f.sign is not None:
            text += f" A sign at the {f.sign.position} reads {f.sign.word}."
        return text
    if kind == "appear":
        i = shape_idx
        text = pick(rng, [
            f"{cap(what(i))} appears {here(i)}.",
            f"Now {what(i)} shows up {here(i)}.",
            f"{cap(what(i))} pops up {here(i)}.",
        ])
        text += " " + pick(rng, [f"It is {verb(i)}.", f"It starts {verb(i)}."] if scene["shapes"][i]["motion"] != "still"
                           else ["It stays where it is.", "It does not move."])
        n = len(f.shapes)
        if n > 1 and chance(rng, 0.6):
            text += f" There are now {NUMBER_WORDS[n]} shapes."
        return text
    if kind == "colour":
        i = shape_idx
        s = scene["shapes"][i]
        c1, c2 = s["colour"], s["colour_change"]["to"]
        same_kind = sum(1 for v in f.shapes if v.kind == s["kind"]) == 1
        who = f"The {s['kind']}" if same_kind and chance(rng, 0.5) else f"The {c1} {s['kind']}"
        text = pick(rng, [
            f"{who} turns {c2}.",
            f"{who} changes color from {c1} to {c2}.",
            f"{who} changes to {c2}. It is now {article(c2 + ' ' + s['kind'])}.",
        ])
        follow = (pick(rng, [f"It is still {verb(i)} {here(i)}.", f"It keeps {verb(i)}."]) if s["motion"] != "still"
                  else pick(rng, [f"It stays {here(i)}.", f"It has not moved from its place {here(i)}."]))
        return text + " " + follow
    sign = scene["sign"]
    return pick(rng, [
        f"A sign appears at the {sign['position']}. It reads {sign['word']}.",
        f"A light sign with the word {sign['word']} pops up at the {sign['position']}.",
        f"Text appears on a white sign at the {sign['position']}: {sign['word']}.",
    ])


FILLERS = ("um", "uh")


def add_stt_noise(rng, text: str) -> str:
    """One filler word or one repeated word; the filler share stays at or under 1/8."""
    toks = text.split(" ")
    lead = toks[0] == ""
    body = toks[1:] if lead else toks
    if len(body) >= 8 and chance(rng, 0.6):
        pos = int(rng.integers(1, len(body)))
        body.insert(pos, pick(rng, FILLERS) + ("," if chance(rng, 0.3) else ""))
    else:
        pos = int(rng.integers(0, len(body) - 1))
        word = body[pos].rstrip(".,;:").lower() if pos else body[pos].rstrip(".,;:")
        body.insert(pos + 1, word)
    return (" " if lead else "") + " ".join(body)


def stt_lower(text: str) -> str:
    """The newer YuWA style: no leading space, lower case, no final full stop."""
    sentences = [p.strip().rstrip(".") for p in text.strip().split(". ")]
    return " ".join(p[:1].lower() + p[1:] for p in sentences if p)
