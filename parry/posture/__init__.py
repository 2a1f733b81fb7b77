"""Serverless posture: continuous checks of every Lambda function, and their results in Security Hub.

`sweep` reads every function of each (account, region) `Scope` (`reader`), runs the pure checks on
what it read (`checks`, `secrets`, `runtimes`) and returns `Result`s (`results`); `findings.publish`
imports them into Security Hub and resolves what a later sweep no longer finds. Nothing here
imports the CLI, so the scheduled sweep Lambda can call it as the `parry sweep` command does.
"""

from parry.posture.findings import Published, publish, publish_each, publish_report
from parry.posture.notice import SweepNotice, new_results_notice
from parry.posture.results import CHECKS, Check, Result
from parry.posture.sweep import Entered, Scope, SweepReport, enter, scopes, sweep

__all__ = [
    "CHECKS",
    "Check",
    "Entered",
    "Published",
    "Result",
    "Scope",
    "SweepNotice",
    "SweepReport",
    "enter",
    "new_results_notice",
    "publish",
    "publish_each",
    "publish_report",
    "scopes",
    "sweep",
]
