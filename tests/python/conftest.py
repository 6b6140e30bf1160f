import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixture_cases import cli_path  # noqa: E402


@pytest.fixture(scope="session")
def cml_cli():
    path = cli_path()
    if path is None:
        pytest.skip("the cml CLI is not built (set CML_CLI or build build/cml)")
    return path
