"""napari plugin for needleplan (npe2).  All geometry lives in the headless ``needleplan`` core."""

__version__ = "0.1.0"
