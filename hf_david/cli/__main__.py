import sys

from hf_david.cli.main import main

sys.exit(main())
