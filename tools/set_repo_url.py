"""Point the book at another repository: rewrite _config.yml's repository.url and
the copies of it in CITATION.cff and every chapter (Colab badge, install cell), .ipynb and .py.

    python tools/set_repo_url.py https://github.com/<owner>/<repo>
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def current_url() -> str:
    m = re.search(r"^\s*url:\s*(\S+)", (ROOT / "_config.yml").read_text(), re.M)
    if not m:
        raise SystemExit("no repository url in _config.yml")
    return m.group(1).rstrip("/")


def main(new: str) -> None:
    new = new.rstrip("/")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", new):
        raise SystemExit(f"URL = {new!r} is not allowed; expected https://github.com/<owner>/<repo>")
    old = current_url()
    old_slug, new_slug = old.split("github.com/")[1], new.split("github.com/")[1]
    for name in ("_config.yml", "CITATION.cff"):
        f = ROOT / name
        f.write_text(f.read_text().replace(old, new))
    for path in sorted((ROOT / "chapters").glob("*.ipynb")) + sorted((ROOT / "chapters").glob("*.py")):
        text = path.read_text()
        text = text.replace(f"git+{old}", f"git+{new}")
        text = text.replace(f"colab.research.google.com/github/{old_slug}/",
                            f"colab.research.google.com/github/{new_slug}/")
        path.write_text(text)
    print(f"repository URL: {old} -> {new}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
