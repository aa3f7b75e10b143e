"""``python -m apps.webdemo``: see :mod:`apps.webdemo`."""

import sys

from apps.webdemo.server import main

sys.exit(main())
