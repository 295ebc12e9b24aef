"""``python -m stylegan_lit.data.synthetic DST``: the ``stylegan-lit synthetic`` command."""

from stylegan_lit.cli.synthetic import main

raise SystemExit(main())
