import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import health, split_invoice  # noqa: E402


def test_health():
    assert health()["status"] == "ok"


def test_split_adds_up():
    parts = split_invoice(1000, 3)
    assert sum(parts) == 1000
    assert max(parts) - min(parts) <= 1


def test_split_refuses_zero_parts():
    with pytest.raises(ValueError):
        split_invoice(100, 0)
