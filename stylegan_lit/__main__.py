"""``python -m stylegan_lit`` is the ``stylegan-lit`` command."""

import sys

from stylegan_lit.cli import main

sys.exit(main())
