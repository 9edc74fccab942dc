"""README thumbnails: one figure per chapter, cut from the committed notebook's outputs.

    python tools/thumbnails.py            # writes thumbnails/<chapter>.png

Nothing is drawn here: each thumbnail is a chapter's stored figure (``FIGURE``
picks which, by order), scaled to ``WIDTH`` pixels. A test checks the files
match the notebooks.
"""

from __future__ import annotations

import base64
import io
import json
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
WIDTH = 360
#: which stored figure of a chapter (0 = the first) makes its thumbnail
FIGURE = {"00_foundations": 0, "01_koopman": 0, "02_spline": 0, "03_probabilistic_bounds": 0,
          "04_pruning_at_init": 1, "05_topology": 0, "06_lenses": 0}


def figures(nb_path: Path) -> list:
    nb = json.loads(nb_path.read_text())
    return [base64.b64decode(o["data"]["image/png"]) for c in nb["cells"] if c["cell_type"] == "code"
            for o in c.get("outputs", []) if "image/png" in o.get("data", {})]


def thumbnail(nb_path: Path) -> Image.Image:
    figs = figures(nb_path)
    if not figs:
        raise ValueError(f"{nb_path.name} has no stored figure; execute it first")
    img = Image.open(io.BytesIO(figs[min(FIGURE.get(nb_path.stem, 0), len(figs) - 1)])).convert("RGB")
    return img.resize((WIDTH, round(img.height * WIDTH / img.width)), Image.LANCZOS)


def main(out_dir: Path = ROOT / "thumbnails") -> list:
    out_dir.mkdir(exist_ok=True)
    written = []
    for nb in sorted((ROOT / "chapters").glob("*.ipynb")):
        path = out_dir / f"{nb.stem}.png"
        thumbnail(nb).save(path, optimize=True)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "thumbnails"):
        print(p)
