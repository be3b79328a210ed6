"""The fuzz harness's import path (fuzzlib is shared with scripts/fuzz.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
