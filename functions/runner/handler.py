"""The runner Lambda's entry point (`handler.handler`); parry.runtime.runner does the work.

One Runner per container: what it needs (powertools, the engine, the playbook) is made on the
first invocation and kept while the container is warm, so importing this file stays cheap.
"""

from __future__ import annotations

from parry.runtime.runner import Runner

handler = Runner().handler
