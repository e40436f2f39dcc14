import sys

from ._server.cli import main

sys.exit(main())
