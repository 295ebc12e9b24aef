"""``python -m stylegan_lit.data.synthetic DST``: write synthetic faces as an image folder."""

from stylegan_lit.data.synthetic.faces import main

raise SystemExit(main())
