"""``python -m kerasconv.webdemo``: see :mod:`kerasconv.webdemo` (the same as ``kerasconv app``)."""

import sys

from kerasconv.webdemo.server import main

sys.exit(main())
