"""What every repositories test may import: the support modules beside this file."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # repositories_api_support, unit and integration
