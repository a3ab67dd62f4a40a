import sys

from gradkit.cli import main

sys.exit(main())
