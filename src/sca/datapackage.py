"""The CSV files a chapter writes, described: every column's meaning and unit, as a Frictionless Data Package
(`datapackage.json` beside the files, https://specs.frictionlessdata.io/data-package/), so that the numbers carry
their own dictionary. A column that no rule here describes is refused, never written undescribed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from .experiments import VARIANT_NAMES

MSE = "MSE (mean over R, G and B, each in [0, 1])"
DELTA_E = "CIEDE2000 ΔE (2.3 is just noticeable)"
CHANNEL = "RGB channel in [0, 1]"
CHANNELS = {"r": "red", "g": "green", "b": "blue"}
VARIANTS = "|".join(VARIANT_NAMES)

# (the column's name, as a regular expression; what it holds, with {0} for the part in brackets; its unit)
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("experiment", "the experiment, numbered as the original notebooks are", ""),
    ("seed", "the training seed", ""),
    (
        "variant",
        "the model evaluated: baseline (as trained), or with the concept removed: suppression or repulsion (at "
        "inference), ablated or pruned (its latent direction's weights deleted)",
        "",
    ),
    ("name", "the named colour", ""),
    ("([rgb])", "the colour's {0} channel", CHANNEL),
    (
        "score",
        "the seed's selection score: R² of per-colour error against the score variant's predictor, 8³ grid",
        "R²",
    ),
    (
        "pareto",
        "whether the seed is on the Pareto front the shown model is picked from (score maximised, the experiment's "
        "validation losses minimised)",
        "true or false",
    ),
    ("val_(.+)", "the validation {0} term at the end of training", "the training loss's own"),
    ("labels_(.+)", "training samples that drew the label {0} over the run", "samples"),
    ("r2", "R² of per-colour error against the variant's predictor over the 20³ RGB grid", "R²"),
    ("red_anchor_deg", "the angle of pure red's baseline latent from its anchor", "degrees"),
    ("red_on_anchor", "1 if, of the named colours' latents, red's is the one nearest its anchor, else 0", "1 or 0"),
    ("max_mse", "the largest per-colour error over the experiment's loss grid", MSE),
    ("median_mse", "the median per-colour error over the experiment's loss grid", MSE),
    ("red_([rgb])", "what pure red decodes to: its {0} channel", CHANNEL),
    ("mse:(.+)", "{0}'s reconstruction error", MSE),
    ("de:(.+)", "{0}'s perceptual error, between the colour and its reconstruction", DELTA_E),
    ("dL:(.+)", "{0}'s change in lightness, reconstruction minus colour (negative: darker)", "CIELAB L* (0 to 100)"),
    (
        "zc:(.+)",
        "z·c: {0}'s baseline latent on the direction the variant acts on (it leaves a latent with z·c ≤ 0 as it is)",
        "cosine (latents are unit vectors)",
    ),
    ("dmse:(.+)", "the change of {0}'s reconstruction error from the seed's own baseline", MSE),
    ("dde:(.+)", "the change of {0}'s perceptual error from the seed's own baseline", DELTA_E),
    (f"({VARIANTS})", "the colour's reconstruction error under {0}", MSE),
    (f"({VARIANTS})-delta", "the change of the colour's error under {0} from the baseline's", MSE),
)


def describe(column: str) -> tuple[str, str]:
    """(what the column holds, its unit); ValueError for a column no rule describes."""
    for pattern, what, unit in FIELDS:
        m = re.fullmatch(pattern, column)
        if m:
            part = m.group(1) if m.groups() else ""
            return what.format(CHANNELS.get(part, part) if pattern.endswith("([rgb])") else part), unit
    raise ValueError(f"datapackage: no description of the column {column!r}: add one to sca.datapackage.FIELDS")


def _type(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "boolean"
    if pd.api.types.is_integer_dtype(values):
        return "integer"
    return "number" if pd.api.types.is_numeric_dtype(values) else "string"


def shaped(frame: pd.DataFrame, experiment: str, seed: int | None = None) -> pd.DataFrame:
    """The frame as a chapter writes it: the index as columns, the experiment (and, for a table of one model, its
    seed) first, and no column that is empty throughout (a number the experiment does not measure)."""
    frame = frame.reset_index(drop=isinstance(frame.index, pd.RangeIndex))
    frame = frame.loc[:, ~frame.columns.duplicated()]
    frame = frame.drop(columns=[c for c in frame.columns if frame[c].isna().all()])
    front = {"experiment": experiment} | ({"seed": seed} if seed is not None and "seed" not in frame else {})
    return pd.concat([pd.DataFrame(front, index=frame.index), frame], axis=1)


def write(folder: Path, experiment: str, title: str, files: dict[str, tuple[str, pd.DataFrame]]) -> Path:
    """Write each frame as `folder/<file>` (CSV) and describe them all in `folder/datapackage.json`: each file's
    title, each column's type, meaning and unit. Every column is described before anything is written."""
    resources = []
    for file, (what, frame) in files.items():
        fields = []
        for column in frame.columns:
            description, unit = describe(str(column))
            fields.append({"name": str(column), "type": _type(frame[column]), "description": description, "unit": unit})
        resources.append(
            {
                "name": Path(file).stem,
                "path": file,
                "title": what,
                "format": "csv",
                "schema": {"fields": fields},
            }
        )
    folder.mkdir(parents=True, exist_ok=True)
    for file, (_, frame) in files.items():
        frame.to_csv(folder / file, index=False)
    package = {
        "name": f"sca-{experiment}".replace(".", "-"),
        "title": title,
        "description": f"The numbers behind the chapter on experiment {experiment} of the sca reproduction.",
        "resources": resources,
    }
    path = folder / "datapackage.json"
    path.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n")
    return path
