import sys

from sysim.cli import main

sys.exit(main())
