"""A local IAM Access Analyzer for moto, which has none: installed by `parry.local.corrections.access_analyzer_like_aws`.

Each (account, region) keeps its analyzers and the findings registered in them, and answers
CreateAnalyzer, ListAnalyzers, GetFinding and GetFindingV2 as Access Analyzer does
(ResourceNotFoundException for an analyzer or finding it does not hold). StartResourceScan takes
a whole finding (JSON) as its "resource" and registers it, since no AWS API creates a finding.
Local mode and tests only.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.exceptions import JsonRESTError
from moto.core.responses import BaseResponse

from parry.local.corrections import WHOLE_FINDING_PREFIX  # a whole finding, not a name: registered

ACCESS_ANALYZER_URL = r"https?://access-analyzer\.(.+)\.amazonaws\.com"


class AccessAnalyzerResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name="accessanalyzer")

    @property
    def backend(self) -> AccessAnalyzerBackend:
        return access_analyzer_backends[self.current_account][self.region]

    def create_analyzer(self) -> str:
        name = self._get_param("analyzerName")
        arn = f"arn:aws:access-analyzer:{self.region}:{self.current_account}:analyzer/{name}"
        kind = self._get_param("type") or "ACCOUNT"
        self.backend.analyzers[arn] = {"arn": arn, "name": name, "type": kind, "status": "ACTIVE"}
        return json.dumps({"arn": arn})

    def list_analyzers(self) -> str:
        return json.dumps({"analyzers": list(self.backend.analyzers.values())})

    def start_resource_scan(self) -> str:
        """Registers a finding: the "resource" is a whole finding in GetFinding's form (JSON)."""
        analyzer, text = self._get_param("analyzerArn"), self._get_param("resourceArn") or ""
        finding = json.loads(text) if text.startswith(WHOLE_FINDING_PREFIX) else None
        if analyzer not in self.backend.analyzers or not isinstance(finding, dict):
            raise JsonRESTError(
                "ValidationException", "the local analyzer registers whole findings (JSON) in its own analyzers"
            )
        self.backend.findings.setdefault(analyzer, {})[str(finding.get("id"))] = finding
        return "{}"

    def get_finding(self) -> str:
        return json.dumps({"finding": self._held()})

    def get_finding_v2(self) -> str:
        return json.dumps(self._held())

    def _held(self) -> dict[str, Any]:
        analyzer = self._get_param("analyzerArn") or ""
        finding_id = self.uri_match.get("id") or self.path.rstrip("/").rsplit("/", 1)[-1]
        held = self.backend.findings.get(analyzer, {}).get(finding_id)
        if analyzer not in self.backend.analyzers or held is None:
            raise JsonRESTError("ResourceNotFoundException", f"Finding {finding_id} not found in {analyzer}")
        return dict(held)


class AccessAnalyzerBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.analyzers: dict[str, dict[str, Any]] = {}
        self.findings: dict[str, dict[str, dict[str, Any]]] = {}

    @property
    def _url_module(self) -> Any:
        """moto reads a backend's URLs from its package's urls.py; this one has no package."""
        paths = ("/analyzer$", "/finding/(?P<id>[^/]+)$", "/findingv2/(?P<id>[^/]+)$", "/resource/scan$")
        dispatch = AccessAnalyzerResponse.dispatch
        return SimpleNamespace(url_bases=[ACCESS_ANALYZER_URL], url_paths={"{0}" + p: dispatch for p in paths})


# moto resets every BackendDict between mocks, this one included
access_analyzer_backends = BackendDict(AccessAnalyzerBackend, "accessanalyzer")
