"""``python -m stylegan_lit`` is the ``stylegan-lit`` command."""

from stylegan_lit.cli import main

main()
