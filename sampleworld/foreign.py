"""Non-English captions: faithful Spanish, French and German translations of what a clip shows.

They are seeded defects only because of their language (`non_english`): the LVD-2M paragraphs
(`foreign_caption`) and the YouDescribe moments (`foreign_moment`) say what the English ones say.
"""

from __future__ import annotations

from sampleworld.facts import ShapeView, WindowFacts, cap, window_facts


ES = {
    "colour": {"red": "rojo", "green": "verde", "blue": "azul", "yellow": "amarillo", "white": "blanco",
               "orange": "naranja", "purple": "morado"},
    "bg": {"black": "negro", "dark gray": "gris oscuro", "navy blue": "azul marino", "dark green": "verde oscuro",
           "brown": "marrón"},
    "kind": {"circle": "círculo", "square": "cuadrado", "triangle": "triángulo"},
    "size": {"small": "pequeño", "medium-sized": "mediano", "large": "grande"},
    "motion": {"left_to_right": "se desplaza de izquierda a derecha", "right_to_left": "se desplaza de derecha a izquierda",
               "up": "sube hacia la parte superior", "down": "baja hacia la parte inferior",
               "bounce": "rebota arriba y abajo", "still": "permanece inmóvil en su sitio"},
}
FR = {
    "colour": {"red": "rouge", "green": "vert", "blue": "bleu", "yellow": "jaune", "white": "blanc",
               "orange": "orange", "purple": "violet"},
    "bg": {"black": "noir", "dark gray": "gris foncé", "navy blue": "bleu marine", "dark green": "vert foncé",
           "brown": "marron"},
    "kind": {"circle": "cercle", "square": "carré", "triangle": "triangle"},
    "motion": {"left_to_right": "se déplace de gauche à droite", "right_to_left": "se déplace de droite à gauche",
               "up": "monte vers le haut de l'image", "down": "descend vers le bas de l'image",
               "bounce": "rebondit de haut en bas", "still": "reste immobile à sa place"},
}
DE = {
    "stem": {"red": "rot", "green": "grün", "blue": "blau", "yellow": "gelb", "white": "weiß",
             "orange": "orangefarben", "purple": "violett"},
    "noun": {"red": "Rot", "green": "Grün", "blue": "Blau", "yellow": "Gelb", "white": "Weiß",
             "orange": "Orange", "purple": "Violett"},
    "bg_dat": {"black": "schwarzen", "dark gray": "dunkelgrauen", "navy blue": "marineblauen",
               "dark green": "dunkelgrünen", "brown": "braunen"},
    "kind": {"circle": ("Kreis", "m"), "square": ("Quadrat", "n"), "triangle": ("Dreieck", "n")},
    "size": {"small": "klein", "medium-sized": "mittelgroß", "large": "groß"},
    "motion": {"left_to_right": "bewegt sich von links nach rechts", "right_to_left": "bewegt sich von rechts nach links",
               "up": "steigt nach oben", "down": "sinkt nach unten", "bounce": "hüpft auf und ab",
               "still": "bleibt unbewegt an seinem Platz"},
}


def _es_noun(v: ShapeView, colour: str | None = None) -> str:
    return f"un {ES['kind'][v.kind]} {ES['colour'][colour or v.colour0]} {ES['size'][v.size]}"


def _fr_noun(v: ShapeView, colour: str | None = None) -> str:
    c = FR["colour"][colour or v.colour0]
    k = FR["kind"][v.kind]
    return {"small": f"un petit {k} {c}", "medium-sized": f"un {k} {c} de taille moyenne", "large": f"un grand {k} {c}"}[v.size]


def _de_noun(v: ShapeView, colour: str | None = None, definite: bool = False) -> str:
    k, g = DE["kind"][v.kind]
    c = DE["stem"][colour or v.colour0]
    if definite:
        return f"{'der' if g == 'm' else 'das'} {c}e {k}"
    end = "er" if g == "m" else "es"
    return f"ein {DE['size'][v.size]}{end} {c}{end} {k}"


def foreign_caption(rng, f: WindowFacts, lang: str) -> str:
    out = []
    if lang == "es":
        out.append(f"El vídeo muestra una animación sencilla sobre un fondo {ES['bg'][f.bg]}.")
        for v in f.shapes:
            if v.appears_rel is None:
                out.append(f"{cap(_es_noun(v))} {ES['motion'][v.motion]}.")
            else:
                n = int(round(v.appears_rel))
                when = "Casi de inmediato" if v.appears_rel < 1 else f"Después de unos {n} segundo{'s' if n != 1 else ''}"
                out.append(f"{when} aparece {_es_noun(v)}, que {ES['motion'][v.motion]}.")
            if v.change is not None:
                out.append(f"Más tarde, el {ES['kind'][v.kind]} {ES['colour'][v.change[1]]} cambia de color y se vuelve "
                           f"{ES['colour'][v.change[2]]}.")
        if f.sign is not None:
            part = "superior" if f.sign.position == "top" else "inferior"
            out.append(f"En la parte {part} de la imagen hay un cartel claro con la palabra {f.sign.word}.")
        out.append("La cámara permanece fija y el fondo no cambia en ningún momento. "
                   "No aparecen personas ni otros objetos, solo figuras geométricas de colores planos.")
    elif lang == "fr":
        out.append(f"La vidéo montre une animation simple sur un fond {FR['bg'][f.bg]}.")
        for v in f.shapes:
            if v.appears_rel is None:
                out.append(f"{cap(_fr_noun(v))} {FR['motion'][v.motion]}.")
            else:
                n = int(round(v.appears_rel))
                when = "Presque aussitôt" if v.appears_rel < 1 else f"Après environ {n} seconde{'s' if n != 1 else ''}"
                out.append(f"{when}, {_fr_noun(v)} apparaît et {FR['motion'][v.motion]}.")
            if v.change is not None:
                out.append(f"Ensuite, le {FR['kind'][v.kind]} {FR['colour'][v.change[1]]} change de couleur et devient "
                           f"{FR['colour'][v.change[2]]}.")
        if f.sign is not None:
            part = "En haut" if f.sign.position == "top" else "En bas"
            out.append(f"{part} de l'image, un panneau clair affiche le mot {f.sign.word}.")
        out.append("La caméra reste fixe et le fond ne change jamais. "
                   "Aucune personne ni aucun autre objet n'apparaît, seulement des formes géométriques aux couleurs unies.")
    else:
        out.append(f"Das Video zeigt eine einfache Animation vor einem {DE['bg_dat'][f.bg]} Hintergrund.")
        for v in f.shapes:
            if v.appears_rel is None:
                out.append(f"{cap(_de_noun(v))} {DE['motion'][v.motion]}.")
            else:
                n = int(round(v.appears_rel))
                when = "Fast sofort" if v.appears_rel < 1 else f"Nach etwa {n} Sekunde{'n' if n != 1 else ''}"
                out.append(f"{when} erscheint {_de_noun(v)}; es {DE['motion'][v.motion]}."
                           if DE["kind"][v.kind][1] == "n" else
                           f"{when} erscheint {_de_noun(v)}; er {DE['motion'][v.motion]}.")
            if v.change is not None:
                out.append(f"Danach wechselt {_de_noun(v, v.change[1], definite=True)} die Farbe von "
                           f"{DE['noun'][v.change[1]]} zu {DE['noun'][v.change[2]]}.")
        if f.sign is not None:
            part = "Oben" if f.sign.position == "top" else "Unten"
            out.append(f"{part} im Bild ist ein helles Schild mit dem Wort {f.sign.word} zu sehen.")
        out.append("Die Kamera bleibt unbewegt, und der Hintergrund verändert sich nicht. "
                   "Es sind keine Personen oder anderen Gegenstände zu sehen, nur einfarbige geometrische Formen.")
    return " ".join(out)


def foreign_moment(scene: dict, kind: str, shape_idx: int | None, t: float, lang: str) -> str:
    bg = scene["background"]
    if kind in ("intro", "appear"):
        f = window_facts(scene, t, t + 1.0 / scene["fps"])
        v = next(v for v in f.shapes if shape_idx is None or v.idx == shape_idx)
        if lang == "es":
            return (f" {'Aparece' if kind == 'appear' else 'Se ve'} {_es_noun(v)} sobre un fondo {ES['bg'][bg]}; "
                    f"el {ES['kind'][v.kind]} {ES['motion'][v.motion]}.")
        return (f" On voit {_fr_noun(v)} sur un fond {FR['bg'][bg]} ; "
                f"le {FR['kind'][v.kind]} {FR['motion'][v.motion]}.")
    if kind == "colour":
        s = scene["shapes"][shape_idx]
        if lang == "es":
            return (f" El {ES['kind'][s['kind']]} {ES['colour'][s['colour']]} cambia de color y ahora es "
                    f"{ES['colour'][s['colour_change']['to']]}.")
        return (f" Le {FR['kind'][s['kind']]} {FR['colour'][s['colour']]} change de couleur et devient "
                f"{FR['colour'][s['colour_change']['to']]}.")
    sign = scene["sign"]
    if lang == "es":
        return f" Aparece un cartel claro en la parte {'superior' if sign['position'] == 'top' else 'inferior'} con la palabra {sign['word']}."
    return f" Un panneau clair apparaît en {'haut' if sign['position'] == 'top' else 'bas'} de l'image avec le mot {sign['word']}."
