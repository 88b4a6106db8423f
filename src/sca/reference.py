"""Published numbers, as labelled reference values to print beside ours (never used to compute anything).

Sources: the paper (Fraser & Wielopolski, arXiv 2512.12469: Table 1, Appendix C.5, §3.2-3.3) and the
original notebooks of z0u/ex-preppy (redux sweeps' `describe()` tables, named-colour tables, correlation
prints; old notebooks' printed max/median error). "rerun" is the original code re-run with a different
random stream (single-process data loading), which shows how far an independent reproduction should move.
"""

from __future__ import annotations

PAPER = "Fraser & Wielopolski (2025), arXiv 2512.12469"
NOTEBOOKS = "z0u/ex-preppy notebooks"

# Seed statistics of the redux sweeps (60 seeds): min, max, mean, std.
SWEEP_STATS = {
    "2.4.1": {
        "score": (0.8821, 0.9910, 0.9515, 0.0236),
        "val_anchor": (0.0005, 0.0072, 0.0029, 0.0015),
        "labels_red": (64, 104, 82.2167, 8.3951),
        "labels_vibrant": (85, 132, 107.95, 10.6460),
    },
    "2.5.1": {
        "score": (0.8513, 0.9762, 0.9231, 0.0316),
        "val_anchor": (0.0003, 0.0042, 0.0016, 0.0010),
        "labels_red": (62, 103, 81.65, 8.9041),
    },
    "2.7.1": {
        "score": (0.6163, 0.9119, 0.8247, 0.0526),
        "val_subspace": (0.0045, 0.0103, 0.0066, 0.0013),
        "labels_vibrant": (83, 128, 101.6833, 9.7276),
    },
    "2.9.1": {
        "score": (0.0615, 0.9848, 0.8570, 0.1541),
        "val_recon": (0.0000, 0.0023, 0.0001, 0.0003),
        "val_anchor": (0.0001, 0.0302, 0.0012, 0.0039),
        "val_anti-anchor": (0.0000, 0.0005, 0.0001, 0.0001),
        "labels_red": (68, 98, 83.6167, 8.0087),
    },
    "2.10.1": {
        "score": (0.0376, 0.9769, 0.8503, 0.1413),
        "val_recon": (0.0000, 0.0004, 0.0000, 0.0001),
        "val_anchor": (0.0000, 0.0465, 0.0014, 0.0059),
        "labels_red": (68, 98, 83.6167, 8.0087),
    },
}

# The original code with another random stream: score (min, max, mean, std).
RERUN_SCORE = {
    "2.4.1": (0.728, 0.984, 0.9457, 0.0401),
    "2.5.1": (0.841, 0.984, 0.9253, 0.0295),
    "2.7.1": (0.678, 0.885, 0.8291, 0.0457),
    "2.9.1": (0.094, 0.965, 0.847, 0.154),
    "2.10.1": (0.053, 0.976, 0.829, 0.166),
}

# Selected model: seed, its score, and the number of Pareto members.
SELECTED = {
    "2.4.1": (7, 0.9910, 4),
    "2.5.1": (8, 0.9762, 12),
    "2.7.1": (44, 0.9119, 12),
    "2.9.1": (33, 0.9848, 22),
    "2.10.1": (52, 0.9769, 9),
}

# Selected model, per variant: (red Δ, cyan Δ, R²). Δ = change in MSE from that model's baseline;
# R² of error against sim^k (or vibrancy^k for 2.7.1) on the 20³ RGB grid.
HEADLINE = {
    "2.4.1": {
        "suppression": (0.283565402, 0.0, 0.99),
        "repulsion": (0.332686901, 0.0, 0.98),
        "ablated": (0.332686901, 0.341102839, 0.37),
    },
    "2.5.1": {"suppression": (0.233233362, 0.0, 0.98), "ablated": (0.333869487, 0.247848153, 0.47)},
    "2.7.1": {
        "ablated": (0.332541019, 0.314468980, 0.93),
        "pruned": (0.332541019, 0.314468980, 0.93),
        "suppression": (0.181122527, 0.260203123, 0.89),
    },
    "2.9.1": {
        "ablated": (0.343180478, -0.000028671, 0.99),
        "pruned": (0.343180478, -0.000028671, 0.99),
        "suppression": (0.213169754, -0.000028671, 0.98),
    },
    "2.10.1": {
        "ablated": (0.384716421, 0.000706011, 0.95),
        "pruned": (0.384716421, 0.000706011, 0.95),
        "suppression": (0.168523297, 0.0, 0.97),
    },
}

# The same, for the selected model of the re-run with another random stream (red Δ, cyan Δ, R²).
RERUN_HEADLINE = {
    "2.4.1": {"suppression": (0.222, 0.000, 0.99), "repulsion": (0.421, 0.000, 0.97), "ablated": (0.423, 0.386, 0.34)},
    "2.5.1": {"suppression": (0.255, 0.000, 0.99), "ablated": (0.342, 0.228, 0.31)},
    "2.7.1": {"ablated": (0.333, 0.308, 0.90), "suppression": (0.242, 0.183, 0.87)},
    "2.9.1": {"ablated": (0.274, -0.000, 0.94), "suppression": (0.159, -0.000, 0.97)},
    "2.10.1": {"ablated": (0.371, 0.000, 0.97), "suppression": (0.210, 0.000, 0.93)},
}

# Old notebooks (one seed each): printed (max, median) per-colour MSE on their 240×48×48 HSV grid
# (2.10: every other point). None where the notebook printed no median.
OLD_MAX_MEDIAN: dict[str, dict[str, tuple[float, float | None]]] = {
    "2.2": {"baseline": (0.014, None), "suppression": (0.28, None), "repulsion": (0.29, None)},
    "2.3": {"baseline": (0.0017, 1.6e-05), "suppression": (0.19, 1.9e-05), "repulsion": (0.12, None)},
    "2.3-sigmoid": {"baseline": (0.0016, 6.3e-05)},
    "2.4": {"baseline": (0.0011, 1.5e-05), "suppression": (0.16, 2e-05), "repulsion": (0.094, 2.5e-05)},
    "2.5": {"baseline": (0.00028, 1.4e-05), "suppression": (0.23, 2.2e-05), "repulsion": (0.14, 2.7e-05)},
    "2.6": {"baseline": (0.0011, 1.5e-05), "ablated": (0.27, 0.0031), "pruned": (0.27, 0.0031)},
    "2.7": {"baseline": (0.0011, 1.5e-05), "ablated": (0.31, 0.008)},
    "2.8": {"baseline": (0.00048, 1.1e-05), "ablated": (0.74, 0.044)},
    "2.9": {"baseline": (0.00019, 8.1e-06), "ablated": (0.26, 0.00014)},
    "2.10": {"baseline": (0.00027, 2.2e-05), "ablated": (0.073, 6e-05)},
}

# The selected model's baseline MSE per named colour: Table 1's Baseline column is the anchored (2.4.1)
# model's; the isolated (2.9.1) model's is printed only by its notebook; Tables C.5.1 and C.5.2 have their own.
BASELINE = {
    "2.4.1": {
        "red": 0.000646436,
        "orange": 0.000063273,
        "yellow": 0.000411471,
        "lime": 0.000108202,
        "green": 0.000220425,
        "teal": 0.000000988,
        "cyan": 0.001272683,
        "azure": 0.000013033,
        "blue": 0.000310250,
        "purple": 0.000052661,
        "magenta": 0.000248736,
        "pink": 0.000200588,
        "black": 0.000000000,
        "dark gray": 0.000121933,
        "gray": 0.000064245,
        "light gray": 0.000018872,
        "white": 0.000108910,
    },
    "2.9.1": {
        "red": 0.000064271,
        "orange": 0.000001609,
        "yellow": 0.000000000,
        "lime": 0.000002130,
        "green": 0.000051003,
        "teal": 0.000004940,
        "cyan": 0.000028671,
        "azure": 0.000016649,
        "blue": 0.000035178,
        "purple": 0.000005335,
        "magenta": 0.000016997,
        "pink": 0.000005614,
        "black": 0.000007270,
        "dark gray": 0.000002058,
        "gray": 0.000024290,
        "light gray": 0.000009449,
        "white": 0.000004127,
    },
    "2.5.1": {
        "red": 0.000569792,
        "orange": 0.000023389,
        "yellow": 0.000036972,
        "lime": 0.000013694,
        "green": 0.000108810,
        "teal": 0.000030726,
        "cyan": 0.000124518,
        "azure": 0.000082252,
        "blue": 0.000121482,
        "purple": 0.000014293,
        "magenta": 0.000278841,
        "pink": 0.000000015,
        "black": 0.000528365,
        "dark gray": 0.000018525,
        "gray": 0.000056444,
        "light gray": 0.000010967,
        "white": 0.000166427,
    },
    "2.7.1": {
        "red": 0.000792319,
        "orange": 0.000019311,
        "yellow": 0.000705138,
        "lime": 0.000050605,
        "green": 0.000586422,
        "teal": 0.000005727,
        "cyan": 0.000942572,
        "azure": 0.000170504,
        "blue": 0.000534647,
        "purple": 0.000001524,
        "magenta": 0.000381831,
        "pink": 0.000017568,
        "black": 0.000391695,
        "dark gray": 0.000069575,
        "gray": 0.000054224,
        "light gray": 0.000010381,
        "white": 0.000088825,
    },
}
BASELINE_SOURCE = {
    "2.4.1": "paper Table 1",
    "2.9.1": "NB 2.9.1 table",
    "2.5.1": "paper Table C.5.1",
    "2.7.1": "paper Table C.5.2",
}

# NB 2.4.1's repulsion Δ column (not in the paper), the rows it prints.
REPULSION_241 = {
    "red": 0.332686901,
    "orange": 0.135243282,
    "yellow": 0.029817866,
    "magenta": 0.033117589,
    "pink": 0.143878400,
    "lime": 0.0,
    "green": 0.0,
    "teal": 0.0,
    "cyan": 0.0,
    "azure": 0.0,
    "blue": 0.0,
    "purple": 0.0,
    "gray": -0.000056655,
}

# The paper's seed statistics in its own words (§3.1-3.3), beside the notebooks' describe(): (mean, std).
PAPER_STATS = {
    ("2.4.1", "score"): (0.95, 0.02),
    ("2.9.1", "score"): (0.86, 0.15),
    ("2.4.1", "labels_vibrant"): (108, 11),
}

# "All 60 runs produced the target geometry" (paper §3.1): the designs it is said of.
TARGET_GEOMETRY = ("2.4.1", "2.9.1")

# The paper's named-colour tables, Δ columns (change in MSE from the model's baseline), every row of the
# LaTeX source; the paper renders the rows in TABLE_ROWS, to two decimals.
TABLE_ROWS = ("red", "lime", "cyan", "purple", "black", "gray", "white")
TABLE_PRECISION = 0.005  # half a unit of the last printed digit

# Table 1 (§3, "Interventions selectively target red"): anchored 2.4.1 and isolated 2.9.1 selected models.
TABLE_1_COLUMNS = (("2.4.1", "suppression"), ("2.4.1", "ablated"), ("2.9.1", "suppression"), ("2.9.1", "ablated"))
TABLE_1 = {
    "red": (0.283565700, 0.332686901, 0.213169754, 0.343180478),
    "orange": (0.153662786, 0.137482300, 0.127903447, 0.143432498),
    "yellow": (0.045807716, 0.030973246, 0.036187626, 0.024397219),
    "lime": (0.000000000, 0.000005554, 0.000435619, 0.000427035),
    "green": (0.000000000, 0.034675915, 0.000540676, 0.000510316),
    "teal": (0.000000000, 0.140236348, 0.000167415, 0.000167426),
    "cyan": (0.000000000, 0.341102749, -0.000028671, -0.000028671),
    "azure": (0.000000000, 0.152602151, 0.000081838, 0.000081700),
    "blue": (0.000000000, 0.034143761, 0.000045883, 0.000045453),
    "purple": (0.000000000, 0.000002185, 0.000006121, 0.000006142),
    "magenta": (0.048393689, 0.034419145, 0.010696145, 0.009266702),
    "pink": (0.157892883, 0.148011312, 0.103091747, 0.124145284),
    "black": (0.000009886, 0.000007794, 0.000568996, 0.000540850),
    "dark gray": (0.000156107, 0.000153554, 0.000476932, 0.000476244),
    "gray": (-0.000056821, -0.000056814, 0.000757260, 0.000750420),
    "light gray": (-0.000007299, -0.000007258, 0.002421958, 0.002489201),
    "white": (-0.000092652, -0.000093862, 0.000634405, 0.000617128),
}

# Table C.5.1 (2.5.1, one anchor) and Table C.5.2 (2.7.1, hue subspace): (suppression Δ, weight ablation Δ).
TABLE_C51 = {
    "red": (0.233233362, 0.333869487),
    "orange": (0.119690016, 0.137201920),
    "yellow": (0.040286772, 0.029353250),
    "lime": (0.000000042, 0.000000040),
    "green": (0.000000000, 0.025526717),
    "teal": (0.000000000, 0.135105342),
    "cyan": (0.000000000, 0.247848153),
    "azure": (0.000000000, 0.132054538),
    "blue": (0.000000000, 0.024472622),
    "purple": (0.000167103, 0.000164949),
    "magenta": (0.041148938, 0.030989304),
    "pink": (0.120681360, 0.132281214),
    "black": (0.004112418, 0.003650059),
    "dark gray": (0.001252160, 0.001274158),
    "gray": (0.000024199, 0.000024105),
    "light gray": (0.000000000, 0.000791224),
    "white": (0.000000000, 0.001296695),
}
TABLE_C52 = {
    "red": (0.181122527, 0.332541019),
    "orange": (0.123887539, 0.155589819),
    "yellow": (0.174232632, 0.317163587),
    "lime": (0.144521520, 0.159755826),
    "green": (0.223322719, 0.312581360),
    "teal": (0.190066084, 0.173705757),
    "cyan": (0.260203123, 0.314468980),
    "azure": (0.215764135, 0.181120127),
    "blue": (0.270746559, 0.332798690),
    "purple": (0.195607752, 0.189247891),
    "magenta": (0.240460932, 0.252688736),
    "pink": (0.151000232, 0.186851054),
    "black": (0.000495712, 0.000456497),
    "dark gray": (0.000234607, 0.000227389),
    "gray": (0.000237627, 0.000235140),
    "light gray": (0.000230542, 0.000228641),
    "white": (0.001026252, 0.000954370),
}

# R² of each variant of the selected model as published, by every source that prints it: (experiment, variant,
# value, source). The paper's text and figures (§3.2-3.3, Figs. C.4, C.6) and the notebooks' correlation prints.
R2_SOURCES = (
    ("2.4.1", "suppression", 0.99, "paper §3.2, Fig. C.4a"),
    ("2.4.1", "suppression", 0.99, "NB 2.4.1"),
    ("2.4.1", "ablated", 0.37, "paper Fig. C.4b"),
    ("2.4.1", "ablated", 0.37, "NB 2.4.1"),
    ("2.4.1", "repulsion", 0.98, "NB 2.4.1"),
    ("2.5.1", "suppression", 0.98, "NB 2.5.1"),
    ("2.5.1", "ablated", 0.47, "NB 2.5.1"),
    ("2.7.1", "ablated", 0.93, "NB 2.7.1"),
    ("2.7.1", "pruned", 0.93, "NB 2.7.1"),
    ("2.7.1", "suppression", 0.89, "NB 2.7.1"),
    ("2.9.1", "ablated", 0.98, "paper §3.3, Fig. C.6b"),
    ("2.9.1", "ablated", 0.99, "NB 2.9.1"),
    ("2.9.1", "pruned", 0.99, "NB 2.9.1"),
    ("2.9.1", "suppression", 0.98, "paper Fig. C.6a"),
    ("2.9.1", "suppression", 0.98, "NB 2.9.1"),
    ("2.10.1", "ablated", 0.95, "NB 2.10.1"),
    ("2.10.1", "pruned", 0.95, "NB 2.10.1"),
    ("2.10.1", "suppression", 0.97, "NB 2.10.1"),
)
# R² as the paper's text states it (the notebook prints 0.99 for isolated ablation).
PAPER_R2 = {(e, v): value for e, v, value, source in R2_SOURCES if source.startswith("paper")}

# The top of each published Pareto front (seed, score), best first, as the notebooks print it (at most five).
PARETO_TOP = {
    "2.4.1": ((7, 0.9910), (40, 0.9848), (39, 0.9780), (30, 0.9531)),
    "2.5.1": ((8, 0.9762), (58, 0.9745), (44, 0.9731), (25, 0.9553), (18, 0.9553)),
    "2.7.1": ((44, 0.9119), (32, 0.9089), (27, 0.8887), (46, 0.8859), (30, 0.8750)),
    "2.9.1": ((33, 0.9848), (45, 0.9758), (15, 0.9715), (28, 0.9704), (9, 0.9680)),
    "2.10.1": ((52, 0.9769), (9, 0.9758), (30, 0.9594), (37, 0.9480), (0, 0.9366)),
}


def published_table(experiment: str) -> dict[str, dict[str, float]]:
    """The published named-colour Δ of one experiment's selected model, per variant and colour."""
    if experiment in ("2.4.1", "2.9.1"):
        cols = [(i, v) for i, (e, v) in enumerate(TABLE_1_COLUMNS) if e == experiment]
        return {v: {c: TABLE_1[c][i] for c in TABLE_1} for i, v in cols}
    table = {"2.5.1": TABLE_C51, "2.7.1": TABLE_C52}.get(experiment)
    if table is None:
        return {}
    return {v: {c: vals[i] for c, vals in table.items()} for i, v in enumerate(("suppression", "ablated"))}


# What the paper and notebooks say in words about a colour under a variant: (experiment, variant, colour,
# "untouched" or "damaged", source).
SWEEP_WORDS = (
    ("2.4.1", "suppression", "cyan", "untouched", "paper §3.2"),
    ("2.4.1", "suppression", "lime", "untouched", "paper §3.2"),
    ("2.4.1", "suppression", "purple", "untouched", "paper §3.2"),
    ("2.4.1", "repulsion", "cyan", "untouched", "NB 2.4.1"),
    ("2.4.1", "ablated", "cyan", "damaged", "paper Fig. C.4b"),
    ("2.9.1", "ablated", "cyan", "untouched", "paper §3.3"),
    ("2.9.1", "ablated", "lime", "untouched", "paper §3.3"),
    ("2.9.1", "ablated", "purple", "untouched", "paper §3.3"),
    ("2.5.1", "ablated", "cyan", "damaged", "paper Table C.5.1"),
    ("2.10.1", "ablated", "cyan", "untouched", "NB 2.10.1"),
)
OLD_WORDS = (
    ("2.2", "suppression", "cyan", "untouched", "NB 2.2: interventions are targeted"),
    ("2.4", "suppression", "cyan", "untouched", "NB 2.4: cleaner interventions after normalisation"),
    ("2.5", "suppression", "cyan", "untouched", "NB 2.5: one anchor suffices"),
    ("2.6", "ablated", "cyan", "damaged", "NB 2.6: deleting the axis deletes red and cyan"),
    ("2.6", "ablated", "lime", "untouched", "NB 2.6: colours orthogonal to warmth survive"),
    ("2.7", "ablated", "lime", "damaged", "NB 2.7: deleting hue loses every vibrant colour"),
    ("2.7", "ablated", "gray", "untouched", "NB 2.7: greys are unaffected"),
    ("2.9", "ablated", "cyan", "untouched", "NB 2.9: red-only deletion works, cyan unaffected"),
    ("2.10", "ablated", "cyan", "untouched", "NB 2.10: red-only deletion with the red label alone"),
)
