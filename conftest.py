"""Settings shared by the core and plugin test suites.

Property tests (hypothesis) explore new examples on every developer run.  In CI (``CI`` set, as
``.ci/run`` is run) they are derandomized, so a submission that passed here passes there for the
same code, and any failure CI shows is reproducible; ``print_blob`` prints the example to replay.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
