"""The compliance guard: may this contact happen now, and if not, why not and when.

A pure engine: rule packs as data (`packs/`), lexicons (`lexicons/`), and one semantics with two
entry points, `decide` for one planned contact (send time, events, `recoup compliance check`) and
`decide_frame` for a Polars frame of planned contacts (the daily run). See docs/compliance.md.
"""

from recoup.compliance.codes import Code
from recoup.compliance.facts import Decision, Facts, Reason, Tally
from recoup.compliance.guard import check_content, decide, plan
from recoup.compliance.house import HouseFileError, deployment_guard
from recoup.compliance.packs import Guard, PackError, load_guard
from recoup.compliance.scenario import ScenarioError, check

__all__ = [
    "Code",
    "Decision",
    "Facts",
    "Guard",
    "HouseFileError",
    "PackError",
    "Reason",
    "ScenarioError",
    "Tally",
    "check",
    "check_content",
    "decide",
    "deployment_guard",
    "load_guard",
    "plan",
]
