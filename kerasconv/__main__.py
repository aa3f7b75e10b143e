import sys

from kerasconv.cli import main

sys.exit(main())
