from __future__ import annotations

import sys

from cline_bridge.cli import main

sys.exit(main())
