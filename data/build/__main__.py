"""`python -m data.build <city>`: build a city bundle (see `data.build.cli`)."""

import sys

from data.build.cli import main

sys.exit(main())
