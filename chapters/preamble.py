"""Shared set-up for every chapter, imported in each page's first (hidden) cell.

One place for the plot style, the seeds and numpy's print options, so that every figure in the
book looks alike, is colour-blind safe, reads on a light and a dark page, and is byte-for-byte
reproducible.
"""
import os

# Reproducible SVGs: no timestamp in the file (matplotlib reads SOURCE_DATE_EPOCH).
os.environ.setdefault("SOURCE_DATE_EPOCH", "0")

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib_inline.backend_inline import set_matplotlib_formats  # noqa: E402

SEED = 0

# Colour-blind-safe palette (Petroff 2021), the same cycle on every figure.
plt.style.use("petroff10")
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]

mpl.rcParams.update({
    "svg.hashsalt": "logits-to-probabilities",  # fixed ids inside SVGs
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 110,
    # An opaque white card: dark text stays readable when the page itself is dark.
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 11,
    "legend.frameon": False,
})
set_matplotlib_formats("svg")
np.set_printoptions(precision=4, suppress=True)


def rng(seed: int = SEED) -> np.random.Generator:
    """A fresh, seeded random generator: every figure draws the same numbers on every build."""
    return np.random.default_rng(seed)
