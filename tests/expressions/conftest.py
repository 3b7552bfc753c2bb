"""Import setup for the expression tests.

Makes `expr_helpers` importable whatever pytest's import mode, and the package importable from
a checkout whose venv has not installed it.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

try:
    import taskrouter.expressions  # noqa: F401
except ModuleNotFoundError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
