"""Entry point of `python -m codeflow_infra`."""

import sys

from codeflow_infra.cli import main

sys.exit(main())
