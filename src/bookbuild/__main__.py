"""Allow `python -m bookbuild`."""

from bookbuild.cli import main

raise SystemExit(main())
