"""The parts of the responder stack, one construct each; the stack composes them and grants."""

from stacks.constructs.case_store import CaseStore
from stacks.constructs.control_plane import ControlPlane
from stacks.constructs.dashboard import ParryDashboard
from stacks.constructs.evidence_store import EvidenceStore
from stacks.constructs.kill_switch import KillSwitch
from stacks.constructs.maintenance import Maintenance
from stacks.constructs.notifications import Notifications
from stacks.constructs.playbook_routes import PlaybookRoutes
from stacks.constructs.playbook_runner import PlaybookRunner
from stacks.constructs.request_keys import RequestKeys
from stacks.constructs.security_alarms import SecurityAlarms
from stacks.constructs.security_hub_actions import SecurityHubActions

__all__ = [
    "CaseStore",
    "ControlPlane",
    "EvidenceStore",
    "KillSwitch",
    "Maintenance",
    "Notifications",
    "ParryDashboard",
    "PlaybookRoutes",
    "PlaybookRunner",
    "RequestKeys",
    "SecurityAlarms",
    "SecurityHubActions",
]
