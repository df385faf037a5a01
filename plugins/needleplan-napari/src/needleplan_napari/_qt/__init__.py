"""The plugin's Qt widgets: thin views over the Qt-free models one level up (``_session``, ``_plan_io``...).

Only this package imports ``qtpy`` or napari's Qt layer; ``napari.yaml`` names the three dock widgets here.
"""

from needleplan_napari._qt._pacs import PacsWidget
from needleplan_napari._qt._plan_widget import PlanWidget
from needleplan_napari._qt._teaching import TeachingWidget

__all__ = ["PlanWidget", "TeachingWidget", "PacsWidget"]
