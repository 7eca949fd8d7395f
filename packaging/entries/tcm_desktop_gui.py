"""Frozen entry of the GUI (``tcm-desktop``): the same ``main`` as the ``tcm-desktop`` script of a pip install."""

import sys

from tcm_desktop.ui.app import main

if __name__ == "__main__":
    sys.exit(main())
