import sys

from examples.gateway.server import main

sys.exit(main())
