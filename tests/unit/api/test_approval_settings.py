"""The four-eyes rule is the deployment's: built from FWO_* settings, refused when wrong."""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.bootstrap import bootstrap
from orchestrator.config import Settings
from orchestrator.errors import ConfigurationError, PermissionDeniedError
from orchestrator.service.access import Approvals, Principal


def test_the_settings_give_the_size_and_the_least_role() -> None:
    """FWO_APPROVAL_REQUIRED_ABOVE and FWO_APPROVE_ROLE from the environment."""
    settings = Settings.from_env({"FWO_APPROVAL_REQUIRED_ABOVE": "50",
                                  "FWO_APPROVE_ROLE": "admin"})
    rule = Approvals(settings.approval_required_above, settings.approve_role)
    assert rule.above == 50
    with pytest.raises(PermissionDeniedError, match="needs the admin role"):
        rule.require_approver(Principal("abe", "approver"))
    rule.require_approver(Principal("ada", "admin"))


@pytest.mark.parametrize("values,needle", [
    ({"approve_role": "viewer"}, "FWO_APPROVE_ROLE"),
    ({"approve_role": "root"}, "FWO_APPROVE_ROLE"),
    ({"approval_required_above": -1}, "FWO_APPROVAL_REQUIRED_ABOVE"),
])
def test_a_bad_rule_is_refused_at_start(tmp_path: Path, values: dict[str, object],
                                        needle: str) -> None:
    """A viewer approver, an unknown role or a negative size stop bootstrap with the name."""
    with pytest.raises(ConfigurationError, match=needle):
        bootstrap(Settings(data_dir=tmp_path, **values))  # type: ignore[arg-type]
