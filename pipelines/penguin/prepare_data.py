"""Makes `data/processed/penguins_processed.csv` from `data/penguins.csv`, as TFX's penguin example
prepares its data: rows with a missing measurement dropped, the species as a label 0/1/2 (Adelie,
Chinstrap, Gentoo), the four measurements scaled to [0, 1]. The result is committed; run this again
only if the raw file changes.

    python pipelines/penguin/prepare_data.py
"""

from __future__ import annotations

import csv
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SPECIES = {"Adelie": 0, "Chinstrap": 1, "Gentoo": 2}
FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
COLUMNS = ["species", "culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"]  # TFX's names


def main() -> None:
    with open(os.path.join(HERE, "data", "penguins.csv"), newline="") as f:
        rows = [r for r in csv.DictReader(f) if all(r[c] not in ("", "NA") for c in FEATURES)]
    low = {c: min(float(r[c]) for r in rows) for c in FEATURES}
    high = {c: max(float(r[c]) for r in rows) for c in FEATURES}
    out = os.path.join(HERE, "data", "processed", "penguins_processed.csv")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in rows:
            scaled = [round((float(r[c]) - low[c]) / (high[c] - low[c]), 6) for c in FEATURES]
            w.writerow([SPECIES[r["species"]], *scaled])
    print(f"{len(rows)} rows -> {out}")


if __name__ == "__main__":
    main()
