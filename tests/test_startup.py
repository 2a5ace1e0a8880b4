"""What every `recoup` command pays at start: LightGBM and scikit-learn (some 3 s of CPU) are
imported only by the commands that train, load or measure a model (`recoup.risk.tabular`)."""

from __future__ import annotations

import subprocess
import sys


def test_the_cli_starts_without_lightgbm_or_scikit_learn() -> None:
    """Catches a module-level `import lightgbm` or `from sklearn ...` coming back anywhere the
    CLI imports (checked: with tabular's top-level `import lightgbm as lgb` restored)."""
    code = (
        "import sys, recoup.cli.main\n"
        "print(','.join(m for m in ('lightgbm', 'sklearn') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stdout.strip() == ""
