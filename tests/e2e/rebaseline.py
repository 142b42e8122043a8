"""Write the screenshot references anew: `python -m tests.e2e.rebaseline`.

For a change meant to be seen (a new board column, another badge): runs the page-look browser test with
YINGJI_REBASELINE=1, which saves each region's screenshot under tests/e2e/reference/ instead of comparing.
Look at the pictures (git diff shows which changed) and commit them with the change.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

if __name__ == "__main__":
    env = {**os.environ, "YINGJI_REBASELINE": "1"}
    test = str(ROOT / "tests" / "e2e" / "test_pages_look_browser.py")
    sys.exit(subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test, *sys.argv[1:]], cwd=ROOT, env=env))
