"""needleplan: plan ultrasound-guided needle procedures in calibrated millimetres.

The core is headless: it imports numpy, scipy, scikit-image and pydicom, never Qt or napari.
Axis order is ``(row, col)`` everywhere and every length is in millimetres (names end in ``_mm``).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
