"""`python -m data.interop`: export, import and fetch (see `data.interop.cli`)."""

import sys

from data.interop.cli import main

sys.exit(main())
