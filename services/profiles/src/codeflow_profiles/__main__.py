"""``python -m codeflow_profiles {serve,migrate}``: run the service, or migrate its database."""

from __future__ import annotations

import sys
from pathlib import Path

from codeflow_service.cli import service_main

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"

if __name__ == "__main__":
    sys.exit(service_main(name="profiles", default_port=8002, alembic_ini=ALEMBIC_INI))
