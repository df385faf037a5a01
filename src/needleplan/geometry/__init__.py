"""Plane geometry on points, polylines and polygons in millimetres, ``(row, col)`` order.

Pure numpy functions, no clinical knowledge.  A *shape* is an ``(N, 2)`` array of vertices plus a
``closed`` flag: a closed shape is a polygon (its inside counts as distance 0), an open one a
polyline.  A single vertex is a point.  Every function is vectorised over the shape's segments, and
the ``*_many`` variants over many query segments or rays at once (the safe angle window casts
hundreds of candidate needles per call).

Examples
--------
A needle from the skin at (0, 0) to a tip at (10, 0) and a horizontal pleura 14 mm deep:

>>> import numpy as np
>>> pleura = np.array([[14.0, -20.0], [14.0, 20.0]])
>>> float(segment_shape_distance([0.0, 0.0], [10.0, 0.0], pleura, closed=False))
4.0
>>> float(ray_capsule_entry([0.0, 0.0], [1.0, 0.0], pleura, False, radius_mm=5.0))
9.0
"""

from needleplan.geometry._primitives import (  # noqa: F401  (the public names, re-exported)
    TIE_MM,
    as_points,
    line_angle_deg,
    nearest_segment_direction,
    point_segments_distance,
    polyline_row_at_col,
    segments_of,
    shape_centroid,
)
from needleplan.geometry._shapeset import ShapeSet
from needleplan.geometry._simplify import simplify_polyline
from needleplan.geometry._one_shape import (  # noqa: F401
    point_in_polygon,
    point_shape_distance,
    ray_capsule_entry,
    ray_first_hit_many,
    ray_shape_hits,
    segment_shape_distance,
    segment_shape_distance_many,
)

__all__ = [
    "as_points",
    "segments_of",
    "point_segments_distance",
    "point_in_polygon",
    "point_shape_distance",
    "segment_shape_distance",
    "segment_shape_distance_many",
    "ray_shape_hits",
    "ray_first_hit_many",
    "ray_capsule_entry",
    "line_angle_deg",
    "polyline_row_at_col",
    "nearest_segment_direction",
    "shape_centroid",
    "ShapeSet",
    "simplify_polyline",
    "TIE_MM",
]
